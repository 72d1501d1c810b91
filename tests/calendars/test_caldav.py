"""Two-way CalDAV against a real Radicale server (tests/caldav_fixtures.py): bookings written to the
provider's calendar and kept in step with every change, busy times read back, and the export outbox
riding out a calendar that is down."""

from datetime import timedelta

import pytest
from django.utils import timezone

from calendars.export_dispatch import exports_dispatch
from calendars.models import CalendarExport
from calendars.services import calendar_connection_create, calendar_connection_sync
from scheduling.ics import booking_uid
from scheduling.models import BlockedTime, BookingStatus
from scheduling.selectors import provider_slots
from scheduling.services.bookings import CustomerData, booking_cancel, booking_create, booking_reschedule
from tests.caldav_fixtures import PASSWORD, USERNAME
from tests.factories import service_of
from tests.scheduling.conftest import open_all_day_provider

pytestmark = pytest.mark.django_db

ALICE = CustomerData(name="Alice Example", email="alice@example.com")


def at(days: int, hour: int):
    return (timezone.now() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def provider():
    return open_all_day_provider()


@pytest.fixture
def connection(provider, radicale):
    return calendar_connection_create(
        provider=provider,
        kind="caldav",
        url=radicale.calendar_url,
        credentials={"username": USERNAME, "password": PASSWORD},
    )


def book(provider, start):
    return booking_create(provider_id=provider.pk, start=start, customer=ALICE)


def send_all():
    """What the kick and the minute sweep do, a minute later than now (past any first backoff)."""
    return exports_dispatch(now=timezone.now() + timedelta(minutes=1))


def test_a_confirmed_booking_appears_in_the_calendar(connection, radicale):
    booking = book(connection.provider, at(3, 10))
    assert booking.status == BookingStatus.CONFIRMED

    assert send_all().sent == 1

    [event] = radicale.calendar().events()
    component = event.icalendar_component
    assert str(component["UID"]) == booking_uid(booking)
    assert component["DTSTART"].dt == booking.start_at
    assert component["DTEND"].dt == booking.end_at
    assert "Alice Example" in str(component["SUMMARY"])


def test_a_reschedule_moves_the_event_and_a_cancel_removes_it(connection, radicale):
    old = book(connection.provider, at(3, 10))
    send_all()
    new = booking_reschedule(booking_id=old.pk, start=at(4, 12))
    send_all()
    assert radicale.event_uids() == {booking_uid(new)}
    [event] = radicale.calendar().events()
    assert event.icalendar_component["DTSTART"].dt == new.start_at

    booking_cancel(booking_id=new.pk)
    send_all()
    assert radicale.event_uids() == set()


def test_exports_sent_out_of_order_still_leave_the_calendar_right(connection, radicale):
    """The row of the cancel goes first, then the row of the creation: both read the booking as it is
    now (cancelled), so the event does not come back."""
    booking = book(connection.provider, at(3, 10))
    booking_cancel(booking_id=booking.pk)
    created, cancelled = CalendarExport.objects.order_by("pk")
    exports_dispatch(pks=[cancelled.pk])
    exports_dispatch(pks=[created.pk])
    assert radicale.event_uids() == set()


def test_an_event_added_in_the_calendar_blocks_the_slot_after_the_next_sync(connection, radicale):
    provider = connection.provider
    start = at(5, 9)
    service = service_of(provider)
    radicale.calendar().save_event(
        dtstart=start, dtend=start + timedelta(hours=2), summary="Dentist", uid="dentist@elsewhere"
    )

    def free():
        day = start.date()
        return {s.start for s in provider_slots(provider=provider, service=service, first=day, last=day)}

    assert start in free()
    result = calendar_connection_sync(connection_id=connection.pk)
    assert (result.error, result.added) == ("", 1)
    assert start not in free()


def test_our_own_exported_event_is_not_imported(connection, radicale):
    booking = book(connection.provider, at(3, 10))
    send_all()
    assert radicale.event_uids() == {booking_uid(booking)}

    result = calendar_connection_sync(connection_id=connection.pk)

    assert result.error == ""
    assert not BlockedTime.objects.filter(provider=connection.provider).exists()


def test_a_calendar_that_is_down_delays_the_export_without_failing_the_booking(connection, radicale):
    radicale.stop()
    booking = book(connection.provider, at(3, 10))
    assert booking.status == BookingStatus.CONFIRMED

    assert send_all().retrying == 1
    row = CalendarExport.objects.get()
    assert (row.status, row.attempts) == (CalendarExport.Status.PENDING, 1)
    assert "could not be reached" in row.last_error

    radicale.start()
    assert exports_dispatch(now=timezone.now() + timedelta(hours=2)).sent == 1
    row.refresh_from_db()
    assert row.status == CalendarExport.Status.SENT
    assert radicale.event_uids() == {booking_uid(booking)}


def test_a_wrong_password_is_recorded_and_not_retried(provider, radicale):
    connection = calendar_connection_create(
        provider=provider,
        kind="caldav",
        url=radicale.calendar_url,
        credentials={"username": USERNAME, "password": "wrong-password"},
    )
    result = calendar_connection_sync(connection_id=connection.pk)
    connection.refresh_from_db()
    assert "refused the credentials" in connection.last_error
    assert "wrong-password" not in connection.last_error and result.error

    book(provider, at(3, 10))
    assert send_all().failed == 1
    row = CalendarExport.objects.get()
    assert row.status == CalendarExport.Status.FAILED and "wrong-password" not in row.last_error


def test_the_ssrf_guard_refuses_a_caldav_url_on_a_private_address(connection, settings):
    settings.CALENDAR_ALLOW_PRIVATE_URLS = False
    result = calendar_connection_sync(connection_id=connection.pk)
    assert "private or reserved address" in result.error

    book(connection.provider, at(3, 10))
    assert send_all().failed == 1


def test_completed_and_no_show_change_nothing_in_the_calendar(connection):
    from scheduling.booking_events import BookingEvent, booking_changed

    booking = book(connection.provider, at(3, 10))
    before = CalendarExport.objects.count()
    booking_changed(booking=booking, event=BookingEvent.COMPLETED)
    booking_changed(booking=booking, event=BookingEvent.NO_SHOW)
    assert CalendarExport.objects.count() == before


def test_read_only_connections_get_no_export_rows(provider, calendar_server):
    calendar_connection_create(provider=provider, url=calendar_server.url)
    book(provider, at(3, 10))
    assert not CalendarExport.objects.exists()


def test_a_hold_never_confirmed_queues_nothing_when_made_or_when_it_lapses(connection):
    from scheduling.models import CancelReason
    from scheduling.services import booking_cancel

    hold = booking_create(provider_id=connection.provider_id, start=at(3, 10), customer=ALICE, hold_minutes=15)
    booking_cancel(booking_id=hold.pk, reason=CancelReason.EXPIRED)

    assert not CalendarExport.objects.exists()
