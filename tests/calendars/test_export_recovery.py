"""The export outbox against a real Radicale (tests/caldav_fixtures.py): nothing is lost to a calendar
that is down for hours, to a lock held by another worker, or to a connection staff fix later."""

from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from calendars.adapters import adapter_for
from calendars.export_dispatch import ADVISORY_NAMESPACE, export_event, exports_dispatch
from calendars.export_hooks import exports_backfill
from calendars.models import CalendarConnection, CalendarExport
from calendars.services import calendar_connection_create, calendar_connection_update
from scheduling.ics import booking_uid
from scheduling.models import BookingStatus, Service
from scheduling.services.bookings import CustomerData, booking_cancel, booking_confirm, booking_create
from tests.caldav_fixtures import PASSWORD, USERNAME
from tests.concurrency import InThread, backends_waiting_on_a_lock, transaction_held_open, wait_until
from tests.factories import service_of
from tests.scheduling.conftest import open_all_day_provider

pytestmark = pytest.mark.django_db(transaction=True)

ALICE = CustomerData(name="Alice Example", email="alice@example.com")
Status = CalendarExport.Status
GOOD = {"username": USERNAME, "password": PASSWORD}


def at(days: int, hour: int):
    return (timezone.now() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def provider():
    return open_all_day_provider()


def connect(provider, radicale, password=PASSWORD):
    return calendar_connection_create(
        provider=provider,
        kind="caldav",
        url=radicale.calendar_url,
        credentials={"username": USERNAME, "password": password},
    )


def book(provider, days=3, hour=10):
    return booking_create(provider_id=provider.pk, start=at(days, hour), customer=ALICE)


def test_a_calendar_down_for_a_day_still_gets_the_booking_when_it_is_back(provider, radicale):
    connect(provider, radicale)
    radicale.stop()
    booking = book(provider)
    row = CalendarExport.objects.get()
    waited = timedelta()
    for _ in range(30):  # far more than the shared limit of 5 attempts
        exports_dispatch(now=row.next_attempt_at + timedelta(seconds=1))
        row.refresh_from_db()
        assert row.status == Status.PENDING, row.last_error
        waited += row.next_attempt_at - row.updated_at
    assert row.attempts == 30 and waited > timedelta(hours=20)

    radicale.start()
    assert exports_dispatch(now=row.next_attempt_at + timedelta(seconds=1)).sent == 1
    assert radicale.event_uids() == {booking_uid(booking)}


def test_a_calendar_down_for_longer_than_three_days_fails_the_row(provider, radicale):
    connect(provider, radicale)
    radicale.stop()
    book(provider, days=10)
    row = CalendarExport.objects.get()
    waited = timedelta()
    while row.status == Status.PENDING:
        exports_dispatch(now=row.next_attempt_at + timedelta(seconds=1))
        row.refresh_from_db()
        waited += max(row.next_attempt_at - row.updated_at, timedelta())
    assert row.status == Status.FAILED
    assert timedelta(days=3) <= waited <= timedelta(days=3, hours=2)  # about three days, then failed


def test_a_send_that_finds_the_booking_locked_is_handed_back_without_using_an_attempt(provider, radicale):
    connect(provider, radicale)
    booking = book(provider)
    row = CalendarExport.objects.get()

    other = connections.create_connection("default")  # another worker, holding this booking's lock
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_lock(%s, hashtext(%s))", [ADVISORY_NAMESPACE, f"{row.connection_id}:{booking.pk}"]
            )
        result = exports_dispatch(now=timezone.now() + timedelta(seconds=1))
    finally:
        other.close()
    row.refresh_from_db()
    assert (result.released, result.retrying, row.status, row.attempts) == (1, 0, Status.PENDING, 0)
    assert row.next_attempt_at - timezone.now() < timedelta(seconds=30)

    assert exports_dispatch(now=timezone.now() + timedelta(seconds=10)).sent == 1
    assert radicale.event_uids() == {booking_uid(booking)}


def test_a_wrong_password_fixed_by_staff_brings_the_booking_to_the_calendar(provider, radicale):
    connection = connect(provider, radicale, password="wrong-password")
    booking = book(provider)
    cancelled = book(provider, days=4)
    assert exports_dispatch(now=timezone.now() + timedelta(seconds=1)).failed == 2
    booking_cancel(booking_id=cancelled.pk)
    exports_dispatch(now=timezone.now() + timedelta(seconds=1))
    assert not CalendarExport.objects.filter(status=Status.PENDING).exists()
    # The cancelled booking was once written by hand, say: its delete must go through too.
    fixed = CalendarConnection(provider=provider, kind="caldav", url=radicale.calendar_url, credentials=GOOD)
    adapter_for(fixed).write_event(event=export_event(cancelled, uid=booking_uid(cancelled)))
    assert radicale.event_uids() == {booking_uid(cancelled)}

    calendar_connection_update(connection=connection, credentials=GOOD)
    exports_dispatch(now=timezone.now() + timedelta(seconds=1))

    assert radicale.event_uids() == {booking_uid(booking)}


def test_a_connection_switched_back_on_sends_what_was_skipped(provider, radicale):
    connection = connect(provider, radicale)
    calendar_connection_update(connection=connection, is_active=False)
    booking = book(provider)
    assert not CalendarExport.objects.exists()  # no rows for a switched-off connection

    calendar_connection_update(connection=connection, is_active=True)
    exports_dispatch(now=timezone.now() + timedelta(seconds=1))

    assert radicale.event_uids() == {booking_uid(booking)}


def test_a_connection_made_after_the_bookings_gets_them(provider, radicale):
    live = book(provider)
    cancelled = book(provider, days=4)
    booking_cancel(booking_id=cancelled.pk)

    connection = connect(provider, radicale)
    exports_dispatch(now=timezone.now() + timedelta(seconds=1))

    assert radicale.event_uids() == {booking_uid(live)}
    assert exports_backfill(connection_id=connection.pk) == 1  # sent: queued again (a replace, harmless)
    assert exports_backfill(connection_id=connection.pk) == 0  # still waiting: not queued twice


def test_a_booking_confirmed_while_its_provider_gets_a_calendar_is_exported(provider):
    """The confirmation looks for two-way calendars before the connection commits, so it queues no
    export, and commits after the connection's backfill has started. The backfill must wait for it, or
    nothing would ever bring the booking to the calendar."""
    Service.objects.filter(pk=service_of(provider).pk).update(requires_confirmation=True)
    pending = book(provider)
    with transaction_held_open(lambda: booking_confirm(booking_id=pending.pk)):
        # The connection's back-fill runs on its commit, in its thread.
        connecting = InThread(
            lambda: calendar_connection_create(
                provider=provider, kind="caldav", url="http://127.0.0.1:9/cal/", credentials=GOOD
            )
        )
        # The back-fill either waits for the confirmation's booking lock, or (not waiting) has run.
        assert wait_until(lambda: backends_waiting_on_a_lock() == 1 or connecting.done())
    connection = connecting.result()

    pending.refresh_from_db()
    assert pending.status == BookingStatus.CONFIRMED
    assert CalendarExport.objects.filter(connection=connection, booking=pending).count() == 1
