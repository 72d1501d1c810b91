"""The console's dashboard (the admin index): pending requests with their hold, today and tomorrow per
provider in its own zone, recent cancellations; scoped to the user's providers, in a fixed number of
queries."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scheduling.formatting import local_time
from scheduling.models import Booking, BookingStatus, CancelReason
from scheduling.selectors_console import bookings_today_and_tomorrow, recent_cancellations
from scheduling.services import CustomerData, booking_create
from tests.admin.conftest import open_all_day, slot_in
from tests.factories import BookingFactory, service_of

pytestmark = pytest.mark.django_db


def request_for(provider, days, email="ann@example.com"):
    service = service_of(provider)
    service.requires_confirmation = True
    service.hold_minutes = 90
    service.save()
    return booking_create(provider_id=provider.pk, start=slot_in(days), customer=CustomerData(name="Ann", email=email))


def section(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    end = html.find('data-testid="', start + 20)
    return html[start : end if end != -1 else None]


def index(client) -> str:
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_pending_request_shows_its_hold_expiry_in_the_providers_zone_and_the_time_left(as_staff_a, provider_a):
    booking = request_for(provider_a, 2)
    pending = section(index(as_staff_a), "pending-requests")
    assert booking.reference in pending
    assert f"Hold until {local_time(booking.hold_expires_at, provider_a.timezone)}" in pending
    assert "(America/New_York)" in pending
    assert "1 h 29 min left" in pending or "1 h 30 min left" in pending
    assert 'data-action="confirm"' in pending and 'data-action="decline"' in pending


def test_an_expired_hold_says_so_and_offers_no_confirm(as_staff_a, provider_a):
    BookingFactory(
        provider=provider_a, status=BookingStatus.PENDING, hold_expires_at=timezone.now() - timedelta(minutes=1)
    )
    pending = section(index(as_staff_a), "pending-requests")
    assert "expired" in pending
    assert 'data-action="confirm"' not in pending and 'data-action="decline"' in pending


def test_staff_see_only_the_pending_requests_of_their_providers(as_staff_a, provider_a, provider_b):
    mine = request_for(provider_a, 2)
    theirs = request_for(provider_b, 2, email="bea@example.com")
    pending = section(index(as_staff_a), "pending-requests")
    assert mine.reference in pending and theirs.reference not in pending
    assert "Pending requests: <strong>1</strong>" in pending


def test_confirm_on_the_dashboard_confirms_through_the_service_and_returns_to_it(as_staff_a, provider_a):
    booking = request_for(provider_a, 2)
    response = as_staff_a.post(f"/admin/scheduling/booking/{booking.pk}/transition/confirm/", {"next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED
    assert (
        LogEntry.objects.get(object_id=str(booking.pk)).get_change_message()
        == "Confirmed (through the booking service)."
    )


def test_decline_on_the_dashboard_cancels_as_the_provider_and_returns_to_it(as_staff_a, provider_a):
    booking = request_for(provider_a, 2)
    response = as_staff_a.post(
        f"/admin/scheduling/booking/{booking.pk}/cancel/", {"reason": "provider", "next": "/admin/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == (BookingStatus.CANCELLED, CancelReason.PROVIDER)


def test_a_next_address_off_the_site_is_ignored(as_staff_a, provider_a):
    booking = request_for(provider_a, 2)
    response = as_staff_a.post(
        f"/admin/scheduling/booking/{booking.pk}/transition/confirm/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == f"/admin/scheduling/booking/{booking.pk}/change/"


def test_today_and_tomorrow_are_each_providers_own_days(staff_group, superuser):
    now = datetime(2030, 3, 15, 23, 30, tzinfo=UTC)  # Berlin: 16 March already; New York: still 15 March
    berlin = open_all_day(name="Berlin", timezone="Europe/Berlin")
    new_york = open_all_day(name="New York", timezone="America/New_York")
    berlin_today = BookingFactory(provider=berlin, start_at=datetime(2030, 3, 16, 10, tzinfo=UTC))
    berlin_yesterday = BookingFactory(provider=berlin, start_at=datetime(2030, 3, 15, 20, tzinfo=UTC))
    ny_today = BookingFactory(provider=new_york, start_at=datetime(2030, 3, 16, 1, tzinfo=UTC))  # 21:00 on the 15th
    ny_tomorrow = BookingFactory(provider=new_york, start_at=datetime(2030, 3, 16, 14, tzinfo=UTC))
    BookingFactory(provider=new_york, status=BookingStatus.CANCELLED, start_at=datetime(2030, 3, 16, 15, tzinfo=UTC))

    days = {d.provider.name: d for d in bookings_today_and_tomorrow(user=superuser, now=now)}
    assert (days["Berlin"].today.isoformat(), days["New York"].today.isoformat()) == ("2030-03-16", "2030-03-15")
    assert days["Berlin"].bookings_today == [berlin_today] and berlin_yesterday not in days["Berlin"].bookings_tomorrow
    assert days["New York"].bookings_today == [ny_today]
    assert days["New York"].bookings_tomorrow == [ny_tomorrow]


def test_the_days_link_each_booking_and_name_the_providers_zone(as_staff_a, provider_a, provider_b):
    zone = provider_a.timezone
    today = timezone.now().astimezone(zone).date()
    start = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=zone) + timedelta(hours=12)
    booking = BookingFactory(provider=provider_a, start_at=start.astimezone(UTC))
    other = BookingFactory(provider=provider_b, start_at=start.astimezone(UTC))
    days = section(index(as_staff_a), "bookings-by-day")
    assert f'href="/admin/scheduling/booking/{booking.pk}/change/"' in days
    assert f"/admin/scheduling/booking/{other.pk}/change/" not in days
    assert "Alpha Dental" in days and "(America/New_York)" in days and "Beta Rooms" not in days
    tomorrow = days[days.index('data-day="tomorrow"') :]
    assert f"12:00 {start.strftime('%Z')}" in tomorrow


def test_recent_cancellations_say_who_and_why_and_leave_out_moves_and_old_ones(superuser, provider_a):
    now = timezone.now()
    by_customer = BookingFactory(
        provider=provider_a, status=BookingStatus.CANCELLED, cancel_reason=CancelReason.CUSTOMER, cancelled_at=now
    )
    BookingFactory(
        provider=provider_a, status=BookingStatus.CANCELLED, cancel_reason=CancelReason.RESCHEDULED, cancelled_at=now
    )
    BookingFactory(
        provider=provider_a,
        status=BookingStatus.CANCELLED,
        cancel_reason=CancelReason.PROVIDER,
        cancelled_at=now - timedelta(days=8),
    )
    assert recent_cancellations(user=superuser) == [by_customer]


def test_recent_cancellations_appear_on_the_index(as_staff_a, provider_a):
    booking = BookingFactory(
        provider=provider_a,
        status=BookingStatus.CANCELLED,
        cancel_reason=CancelReason.CUSTOMER,
        cancelled_at=timezone.now(),
    )
    cancellations = section(index(as_staff_a), "recent-cancellations")
    assert booking.reference in cancellations and "Cancelled by the customer" in cancellations
    assert booking.customer_name in cancellations


def queries_for_index(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/").status_code == 200
    return len(queries)


def add_bookings(provider, count, offset):
    now = timezone.now().replace(microsecond=0)
    for n in range(count):
        BookingFactory(
            provider=provider, status=BookingStatus.PENDING, start_at=now + timedelta(days=5, hours=offset + n)
        )
        BookingFactory(provider=provider, start_at=now + timedelta(hours=offset + n, minutes=5))
        BookingFactory(
            provider=provider,
            status=BookingStatus.CANCELLED,
            cancel_reason=CancelReason.CUSTOMER,
            cancelled_at=now,
            start_at=now + timedelta(days=9, hours=offset + n),
        )


def test_the_index_reads_in_the_same_number_of_queries_whatever_the_number_of_bookings(as_staff_a, provider_a):
    add_bookings(provider_a, 1, 0)
    few = queries_for_index(as_staff_a)
    add_bookings(provider_a, 12, 1)
    assert queries_for_index(as_staff_a) == few


def test_the_app_list_stays_below_the_dashboard(as_staff_a, provider_a):
    html = index(as_staff_a)
    assert html.index('id="console-dashboard"') < html.index("app-scheduling module")
