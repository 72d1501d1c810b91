"""The booking page: UTC and both zones, terms, rescheduling links, read-only status, notes."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from scheduling.models import Booking, BookingStatus
from scheduling.services import CustomerData, booking_create, booking_reschedule
from tests.admin.conftest import management_data, messages_of
from tests.factories import BookingFactory, CustomerFactory, ServiceFactory

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


def page(booking):
    return f"/admin/scheduling/booking/{booking.pk}/change/"


@pytest.fixture
def tokyo_booking(provider_a):
    customer = CustomerFactory(name="Kenji", timezone="Asia/Tokyo")
    return BookingFactory(provider=provider_a, customer=customer, start_at=datetime(2031, 7, 1, 13, 0, tzinfo=UTC))


def test_page_shows_the_time_in_the_provider_zone_the_customer_zone_and_utc(as_superuser, tokyo_booking):
    body = as_superuser.get(page(tokyo_booking)).content.decode()
    assert "Tue 01 Jul 2031, 09:00–09:30 EDT (America/New_York)" in body
    assert "Tue 01 Jul 2031, 22:00–22:30 JST (Asia/Tokyo)" in body
    assert "Tue 01 Jul 2031, 13:00–13:30 UTC (UTC)" in body


def test_page_shows_the_cancellation_terms_in_both_zones(as_superuser, tokyo_booking):
    body = as_superuser.get(page(tokyo_booking)).content.decode()
    assert "Price 100.00 USD." in body
    assert "Free cancellation until Mon 30 Jun 2031, 09:00 EDT (America/New_York)" in body
    assert "(for the customer: Mon 30 Jun 2031, 22:00 JST (Asia/Tokyo))" in body
    assert "costs 25.00 USD; a cancellation by the provider is always free." in body


def test_page_of_a_cancelled_booking_shows_fee_and_refund(as_superuser, provider_a):
    booking = BookingFactory(
        provider=provider_a, status=BookingStatus.CANCELLED, cancel_reason="customer",
        cancelled_at=datetime(2031, 6, 30, 20, 0, tzinfo=UTC), cancellation_fee="25.00", refund_amount="75.00",
    )  # fmt: skip
    body = as_superuser.get(page(booking)).content.decode()
    assert "Cancelled by the customer on Mon 30 Jun 2031, 16:00 EDT (America/New_York)" in body
    assert "fee 25.00 USD, refund 75.00 USD." in body


def test_page_links_rescheduled_from_and_rescheduled_to(as_superuser, provider_a):
    start = datetime.combine(timezone.now().astimezone(NY).date() + timedelta(days=5), time(10), tzinfo=NY)
    old = booking_create(provider_id=provider_a.pk, start=start, customer=CustomerData(name="A", email="a@example.com"))
    new = booking_reschedule(booking_id=old.pk, start=start + timedelta(hours=2))
    old_page = as_superuser.get(page(old)).content.decode()
    new_page = as_superuser.get(page(new)).content.decode()
    assert f'<a href="/admin/scheduling/booking/{new.pk}/change/">{new.reference}' in old_page
    assert f'<a href="/admin/scheduling/booking/{old.pk}/change/">{old.reference}' in new_page


def test_status_is_never_a_form_field(as_superuser, tokyo_booking):
    body = as_superuser.get(page(tokyo_booking)).content.decode()
    assert 'name="status"' not in body


def save(client, booking, **data):
    form = management_data(client.get(page(booking)).content.decode())
    return client.post(page(booking), {**form, **data}, follow="follow" in data)


def test_saving_the_page_changes_the_notes_and_ignores_a_posted_status(as_superuser, tokyo_booking):
    response = save(as_superuser, tokyo_booking, notes="Needs an interpreter.", status="cancelled")
    assert response.status_code == 302
    tokyo_booking.refresh_from_db()
    assert (tokyo_booking.notes, tokyo_booking.status) == ("Needs an interpreter.", BookingStatus.CONFIRMED)


def test_saving_the_notes_names_the_booking_in_local_time(as_superuser, tokyo_booking):
    form = management_data(as_superuser.get(page(tokyo_booking)).content.decode())
    response = as_superuser.post(page(tokyo_booking), {**form, "notes": "x"}, follow=True)
    assert any("Tue 01 Jul 2031, 09:00 EDT" in m for m in messages_of(response))
    assert not any("13:00Z" in m for m in messages_of(response))
    entry = LogEntry.objects.get(object_id=str(tokyo_booking.pk))
    assert entry.object_repr == f"{tokyo_booking.reference} · Tue 01 Jul 2031, 09:00 EDT (America/New_York)"


def test_title_and_breadcrumb_name_the_booking_in_local_time(as_superuser, tokyo_booking):
    body = as_superuser.get(page(tokyo_booking)).content.decode()
    assert f"{tokyo_booking.reference} · Tue 01 Jul 2031, 09:00 EDT (America/New_York)" in body
    assert "13:00Z" not in body


def test_history_page_names_the_booking_in_local_time(as_superuser, tokyo_booking):
    body = as_superuser.get(f"/admin/scheduling/booking/{tokyo_booking.pk}/history/").content.decode()
    assert "Change history: " in body and "Tue 01 Jul 2031, 09:00 EDT" in body and "13:00Z" not in body


def test_page_offers_confirm_and_cancel_for_a_pending_booking(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.PENDING)
    body = as_superuser.get(page(booking)).content.decode()
    assert 'data-transition="confirm"' in body and 'data-transition="cancel"' in body
    assert 'data-transition="complete"' not in body


def test_page_offers_cancel_complete_and_no_show_for_a_confirmed_booking_that_has_started(as_superuser, provider_a):
    started = BookingFactory(provider=provider_a, start_at=timezone.now() - timedelta(minutes=10))
    body = as_superuser.get(page(started)).content.decode()
    for name in ("cancel", "complete", "no_show"):
        assert f'data-transition="{name}"' in body
    assert 'data-transition="confirm"' not in body


def test_page_offers_no_transition_for_a_cancelled_booking(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.CANCELLED)
    assert "data-transition" not in as_superuser.get(page(booking)).content.decode()


def test_bookings_cannot_be_deleted_from_the_admin(as_superuser, tokyo_booking):
    assert as_superuser.get(f"/admin/scheduling/booking/{tokyo_booking.pk}/delete/").status_code == 403
    assert Booking.objects.filter(pk=tokyo_booking.pk).exists()


def test_page_shows_the_hold_of_a_pending_booking_in_the_provider_zone(as_superuser, provider_a):
    booking = BookingFactory(provider=provider_a, status=BookingStatus.PENDING)
    body = as_superuser.get(page(booking)).content.decode()
    assert "Slot held until " in body and "(America/New_York); confirm before then." in body


def test_page_shows_reminders_and_notifications_read_only(as_superuser, tokyo_booking):
    body = as_superuser.get(page(tokyo_booking)).content.decode()
    assert 'id="reminders-group"' in body and 'id="notifications-group"' in body
    assert 'name="reminders-0-channel"' not in body  # read-only: no editable row


def test_page_names_the_service_with_a_link(as_superuser, provider_a):
    cleaning = ServiceFactory(name="Cleaning", providers=[provider_a])
    booking = BookingFactory(provider=provider_a, service=cleaning)
    body = as_superuser.get(page(booking)).content.decode()
    assert f'<a href="/admin/scheduling/service/{cleaning.pk}/change/">Cleaning</a>' in body
