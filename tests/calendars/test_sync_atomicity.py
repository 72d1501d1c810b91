"""A sync replaces a connection's busy times in one transaction: a slots read made while the replace is
half done (the old rows deleted, the new ones not yet inserted) sees the calendar as it was before the
sync, never a mix; after the commit it sees the new calendar whole. A sweep never waits for, nor
syncs, a connection whose row another sweep holds."""

import threading
import time
from datetime import UTC, date, datetime

import pytest
from django.db import connection as db_connection
from django.db import transaction

from calendars import services as calendar_services
from calendars.models import CalendarConnection
from calendars.services import calendar_connection_create, calendar_connection_sync, calendar_connections_due_sync
from scheduling.selectors import provider_slots
from tests.factories import AvailabilityRuleFactory, ProviderFactory, service_of

pytestmark = pytest.mark.django_db(transaction=True)

DAY = date(2030, 1, 8)  # a Tuesday, open 09:00-17:00 Berlin


def one_event(uid: str, hour_utc: int) -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261201T000000Z\r\n"
        f"DTSTART:20300108T{hour_utc:02d}0000Z\r\nDTEND:20300108T{hour_utc + 1:02d}0000Z\r\n"
        "SUMMARY:Busy\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def test_a_slots_read_during_a_sync_sees_the_old_calendar_whole_then_the_new_one(calendar_server, monkeypatch):
    provider = ProviderFactory(timezone="Europe/Berlin")
    AvailabilityRuleFactory(provider=provider)
    service = service_of(provider)
    calendar_server.body = one_event("morning@example.com", 9)  # 10:00-11:00 Berlin
    connection = calendar_connection_create(provider=provider, url=calendar_server.url)
    calendar_connection_sync(connection_id=connection.pk)

    def free_starts():
        return {s.start for s in provider_slots(provider=provider, service=service, first=DAY, last=DAY)}

    morning = datetime(2030, 1, 8, 9, tzinfo=UTC)
    afternoon = datetime(2030, 1, 8, 14, tzinfo=UTC)
    assert morning not in free_starts() and afternoon in free_starts()

    # The event moves to the afternoon. The replace deletes the morning row, then (inside the same
    # transaction) tells the waitlist that time may be free: the sync is held right there, half done.
    calendar_server.body = one_event("afternoon@example.com", 14)
    halfway, release = threading.Event(), threading.Event()
    tell_waitlist = calendar_services.waitlist.slot_may_have_freed

    def hold_the_sync_halfway(**kwargs):
        tell_waitlist(**kwargs)
        halfway.set()
        assert release.wait(30)

    monkeypatch.setattr(calendar_services.waitlist, "slot_may_have_freed", hold_the_sync_halfway)
    outcome = {}

    def sync():
        try:
            outcome["result"] = calendar_connection_sync(connection_id=connection.pk)
        finally:
            db_connection.close()

    worker = threading.Thread(target=sync)
    worker.start()
    try:
        assert halfway.wait(30), "the sync never reached its replace"
        during = free_starts()
    finally:
        release.set()
        worker.join(30)

    assert morning not in during and afternoon in during  # the old calendar, whole
    assert outcome["result"].added == 1 and outcome["result"].removed == 1
    after = free_starts()
    assert morning in after and afternoon not in after  # the new calendar, whole


def test_a_sweep_skips_a_connection_another_sweep_holds(calendar_server):
    calendar_server.body = one_event("morning@example.com", 9)
    connection = calendar_connection_create(provider=ProviderFactory(), url=calendar_server.url)
    held, release = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                CalendarConnection.objects.select_for_update().get(pk=connection.pk)
                held.set()
                release.wait(10)
        finally:
            db_connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert held.wait(30)
        started = time.monotonic()
        results = calendar_connections_due_sync()
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join(30)

    assert (results, calendar_server.requests) == ([], [])
    assert waited < 8  # it did not wait for the holder (which lets go after 10 s)
