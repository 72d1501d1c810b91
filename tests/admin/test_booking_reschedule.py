"""Rescheduling from the console: the booking's service with its provider, free times in the provider's
zone, `booking_reschedule` deciding, its refusals shown on the page."""

from datetime import UTC, timedelta

import pytest
from django.contrib.auth.models import Permission

from scheduling.models import Booking, BookingStatus, CancelReason
from tests.admin.conftest import make_staff, messages_of, slot_in
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


def page_url(booking) -> str:
    return f"/admin/scheduling/booking/{booking.pk}/reschedule/"


def local_day(booking):
    return booking.start_at.astimezone(booking.provider_timezone).date()


def free_times(client, booking, **params) -> str:
    response = client.get(page_url(booking), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def booking(provider_a):
    return BookingFactory(provider=provider_a, start_at=slot_in(3))


def test_the_page_offers_the_days_free_times_in_the_providers_zone_marking_the_current_one(as_staff_a, booking):
    body = free_times(as_staff_a, booking, span="day", date=local_day(booking))
    local = booking.start_at.astimezone(booking.provider_timezone)
    zone = local.strftime("%Z")
    assert "America/New_York" in body
    assert f"{local:%H:%M} {zone}–" in body and "(current time)" in body
    assert f'value="{booking.start_at.astimezone(UTC).isoformat()}" disabled' in body
    assert body.count('name="start"') == 48  # open all day, 30-minute slots, the current one included


def test_another_bookings_time_is_not_offered(as_staff_a, provider_a, booking):
    taken = BookingFactory(provider=provider_a, start_at=booking.start_at + timedelta(hours=2))
    body = free_times(as_staff_a, booking, span="day", date=local_day(booking))
    assert f'value="{taken.start_at.isoformat()}"' not in body
    assert f'value="{(taken.start_at + timedelta(minutes=30)).isoformat()}"' in body


def test_the_week_view_shows_seven_days_from_the_chosen_one(as_staff_a, booking):
    body = free_times(as_staff_a, booking, span="week", date=local_day(booking))
    days = [local_day(booking) + timedelta(days=n) for n in range(7)]
    assert all(f'data-date="{day}"' in body for day in days)
    assert f'data-date="{days[-1] + timedelta(days=1)}"' not in body


def test_rescheduling_moves_the_booking_through_the_service(as_staff_a, booking):
    new_start = booking.start_at + timedelta(days=1, minutes=30)
    response = as_staff_a.post(page_url(booking), {"start": new_start.isoformat()}, follow=True)
    booking.refresh_from_db()
    moved = Booking.objects.get(rescheduled_from=booking)
    assert (booking.status, booking.cancel_reason) == (BookingStatus.CANCELLED, CancelReason.RESCHEDULED)
    assert (moved.start_at, moved.status, moved.service) == (new_start, BookingStatus.CONFIRMED, booking.service)
    assert response.redirect_chain[-1][0] == f"/admin/scheduling/booking/{moved.pk}/change/"
    assert any(m.startswith(f"Moved {booking.reference}") for m in messages_of(response))


def test_a_time_taken_meanwhile_is_refused_with_a_clear_error(as_staff_a, provider_a, booking):
    new_start = booking.start_at + timedelta(hours=3)
    other = BookingFactory(provider=provider_a, start_at=new_start)  # booked after the page was drawn
    response = as_staff_a.post(page_url(booking), {"start": new_start.isoformat()})
    body = response.content.decode()
    assert response.status_code == 200
    assert "That time was taken meanwhile" in body and f"/admin/scheduling/booking/{other.pk}/change/" in body
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED


def test_a_time_not_offered_is_refused_with_the_services_reason(as_staff_a, booking):
    off_grid = booking.start_at + timedelta(days=1, minutes=7)
    response = as_staff_a.post(page_url(booking), {"start": off_grid.isoformat()})
    body = response.content.decode()
    assert response.status_code == 200 and 'class="errornote reschedule-error"' in body
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED
    assert not Booking.objects.filter(rescheduled_from=booking).exists()


def test_no_time_chosen_is_refused(as_staff_a, booking):
    body = as_staff_a.post(page_url(booking), {}).content.decode()
    assert "Choose one of the free times." in body


def test_the_booking_page_offers_reschedule_for_a_live_booking(as_staff_a, booking):
    body = as_staff_a.get(f"/admin/scheduling/booking/{booking.pk}/change/").content.decode()
    assert f'href="{page_url(booking)}"' in body and 'data-transition="reschedule"' in body


def test_a_cancelled_booking_offers_no_reschedule_and_the_page_refuses(as_staff_a, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.CANCELLED, start_at=slot_in(3))
    body = as_staff_a.get(f"/admin/scheduling/booking/{booking.pk}/change/").content.decode()
    assert 'data-transition="reschedule"' not in body
    response = as_staff_a.get(page_url(booking), follow=True)
    assert any("only a pending or confirmed booking can be moved" in m for m in messages_of(response))


@pytest.mark.parametrize("missing", ["add_booking", "change_booking"])
def test_staff_need_both_change_and_add_permission(client, staff_group, provider_a, booking, missing):
    user = make_staff(staff_group, provider_a)
    staff_group.permissions.remove(Permission.objects.get(codename=missing))
    client.force_login(user)
    assert client.get(page_url(booking)).status_code == 403
    assert (
        client.post(page_url(booking), {"start": (booking.start_at + timedelta(days=1)).isoformat()}).status_code == 403
    )
    body = client.get(f"/admin/scheduling/booking/{booking.pk}/change/").content.decode()
    assert 'data-transition="reschedule"' not in body
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED


def test_another_providers_booking_is_404(as_staff_b, booking):
    assert as_staff_b.get(page_url(booking)).status_code == 404
    assert as_staff_b.post(page_url(booking), {"start": booking.start_at.isoformat()}).status_code == 404
