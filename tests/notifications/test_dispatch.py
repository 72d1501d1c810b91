"""Claim, send, record, in process: sent once, skipped when late, retried with backoff, recovered
after a lost claim, caught up after downtime, and never crashed by one bad row."""

import time
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications import dispatch, services
from notifications.models import Channel, Reminder
from scheduling.models import Booking, BookingStatus
from scheduling.services import CustomerData, booking_create
from tests.concurrency import run_concurrently
from tests.factories import CustomerFactory, ServiceFactory, UserFactory
from tests.notifications.conftest import FLAKY_NUMBER, INVALID_NUMBER, due_reminders
from tests.scheduling.conftest import future_slot

# Also through PgBouncer in transaction mode (tests/db_tier_fixtures.py).
pytestmark = [pytest.mark.django_db, pytest.mark.also_through_pgbouncer]


def start_a_minute_ago(reminder) -> None:
    now = timezone.now()
    past = now - timedelta(minutes=1)
    Booking.objects.filter(pk=reminder.booking_id).update(
        start_at=past, blocked_from=past, end_at=now, blocked_until=now
    )


def keys(mailoutbox) -> list[str]:
    return [m.extra_headers["X-Notification-Key"] for m in mailoutbox]


def test_a_due_reminder_is_sent_once_and_recorded(mailoutbox):
    [reminder] = due_reminders(1)

    result = services.reminders_dispatch()

    assert (result.claimed, result.sent) == (1, 1)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT
    assert reminder.attempts == 1
    assert reminder.sent_at is not None and reminder.claimed_at is None and reminder.last_error == ""
    assert reminder.provider_message_id.startswith("<reminder.")
    assert keys(mailoutbox) == [reminder.dedup_key]

    assert services.reminders_dispatch().claimed == 0  # Beat again: nothing twice
    assert len(mailoutbox) == 1


def test_a_reminder_not_yet_due_waits(mailoutbox):
    [reminder] = due_reminders(1, overdue=timedelta(minutes=-5))  # due in five minutes
    assert services.reminders_dispatch().claimed == 0
    assert services.reminders_dispatch(now=reminder.fire_at).sent == 1


def test_a_reminder_whose_appointment_has_started_is_skipped_never_sent_late(mailoutbox):
    [reminder] = due_reminders(1)
    start_a_minute_ago(reminder)

    result = services.reminders_dispatch()

    assert (result.closed, result.sent) == (1, 0)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SKIPPED
    assert reminder.last_error == services.STARTED
    assert mailoutbox == []


def test_a_reminder_of_a_booking_no_longer_confirmed_is_cancelled_not_sent(mailoutbox):
    [reminder] = due_reminders(1)
    Booking.objects.filter(pk=reminder.booking_id).update(status=BookingStatus.CANCELLED)
    services.reminders_dispatch()
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.CANCELLED
    assert mailoutbox == []


def test_after_downtime_every_reminder_still_due_catches_up_and_late_ones_are_skipped(provider, mailoutbox):
    customer = CustomerData("A", "a@x.io")
    started = booking_create(provider_id=provider.pk, start=future_slot(days=2, hour=10), customer=customer)
    ahead = booking_create(provider_id=provider.pk, start=future_slot(days=2, hour=12), customer=customer)
    # The workers were down for two days, until ten minutes before `ahead` starts; `started` began meanwhile.
    back_at = ahead.start_at - timedelta(minutes=10)

    result = services.reminders_dispatch(now=back_at)

    assert result.sent == 3 and result.closed == 3
    assert sorted(ahead.reminders.values_list("status", flat=True)) == ["sent"] * 3
    assert sorted(started.reminders.values_list("status", flat=True)) == ["skipped"] * 3
    assert len(mailoutbox) == 3


def test_a_failing_send_is_retried_with_exponential_backoff_then_fails_for_good(twilio, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 4
    [reminder] = due_reminders(1, channel=Channel.SMS, customer=CustomerFactory(phone=FLAKY_NUMBER))

    delays = []
    for attempt in range(1, 4):
        before = timezone.now()
        assert services.reminders_dispatch(now=reminder.next_attempt_at).retrying == 1
        reminder.refresh_from_db()
        assert (reminder.status, reminder.attempts) == ("scheduled", attempt)
        assert "Twilio 503" in reminder.last_error
        delays.append(round((reminder.next_attempt_at - before).total_seconds() / 60))
    assert delays == [1, 2, 4]  # 60 s, doubling
    assert services.reminders_dispatch().claimed == 0  # not before its backoff

    assert services.reminders_dispatch(now=reminder.next_attempt_at).failed == 1
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("failed", 4)
    assert len(twilio.requests) == 4


def test_a_permanent_error_fails_at_once(twilio):
    [reminder] = due_reminders(1, channel=Channel.SMS, customer=CustomerFactory(phone=INVALID_NUMBER))
    assert services.reminders_dispatch().failed == 1
    reminder.refresh_from_db()
    assert reminder.status == "failed" and reminder.attempts == 1
    assert "21211" in reminder.last_error and "not a valid phone number" in reminder.last_error


def test_an_unconfigured_channel_records_a_clear_failure_and_the_batch_goes_on(mailoutbox):
    customer = CustomerFactory(phone="+15551112222")
    sms = due_reminders(2, channel=Channel.SMS, customer=customer)  # SMS_BACKEND is empty in tests
    emails = due_reminders(3, customer=customer)

    result = services.reminders_dispatch()

    assert (result.sent, result.failed) == (3, 2)
    for reminder in sms:
        reminder.refresh_from_db()
        assert reminder.status == "failed"
        assert reminder.last_error == "SMS is not configured: set SMS_BACKEND to twilio, console or file."
    assert sorted(keys(mailoutbox)) == sorted(r.dedup_key for r in emails)


def test_an_unexpected_error_on_one_row_is_recorded_and_retried(mailoutbox, monkeypatch):
    first, _second = due_reminders(2)
    real = services.content.reminder_message

    def broken_for_first(reminder, *, now):
        if reminder.pk == first.pk:
            raise ValueError("bad data")
        return real(reminder, now=now)

    monkeypatch.setattr(services.content, "reminder_message", broken_for_first)
    result = services.reminders_dispatch()

    assert (result.sent, result.retrying) == (1, 1)
    first.refresh_from_db()
    assert first.status == "scheduled" and first.last_error == "ValueError: bad data"


def test_an_unfinished_claim_becomes_due_again_when_its_lease_runs_out(mailoutbox):
    reminders = due_reminders(3)
    claimed_at = timezone.now()
    lease = dispatch.lease()
    # What a worker killed after its claim leaves behind.
    Reminder.objects.update(claimed_at=claimed_at, attempts=1, next_attempt_at=claimed_at + lease)

    assert services.reminders_dispatch(now=claimed_at + lease - timedelta(seconds=1)).claimed == 0
    result = services.reminders_dispatch(now=claimed_at + lease)

    assert result.sent == 3
    assert sorted(keys(mailoutbox)) == sorted(r.dedup_key for r in reminders)
    assert set(Reminder.objects.values_list("attempts", flat=True)) == {2}


def test_a_result_recorded_after_the_claim_was_taken_over_changes_nothing(mailoutbox):
    [reminder] = due_reminders(1)
    stale = Reminder.objects.get(pk=reminder.pk)
    stale.claimed_at = timezone.now() - timedelta(minutes=10)  # an old claim that outlived its lease
    services.reminders_dispatch()  # the row is claimed and sent by a live worker

    result = dispatch.BatchResult()
    dispatch._record(Reminder, stale, result, status="failed", last_error="late news from a frozen worker")

    assert result.lost == 1
    reminder.refresh_from_db()
    assert reminder.status == "sent" and reminder.last_error == ""


def test_a_worker_hands_back_its_claim_when_the_lease_runs_short(push, settings):
    settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS = 2.5
    settings.NOTIFICATIONS_SEND_TIMEOUT_SECONDS = 1  # so a send may start until 1.25 s after the claim
    push.delay = 0.7
    customer = CustomerFactory(user=UserFactory(is_staff=False))
    reminders = due_reminders(5, channel=Channel.PUSH, customer=customer)

    result = services.reminders_dispatch()

    assert (result.claimed, result.sent, result.released) == (5, 2, 3)
    handed_back = Reminder.objects.filter(status="scheduled")
    assert handed_back.count() == 3
    assert all(r.claimed_at is None and r.attempts == 0 and r.next_attempt_at <= timezone.now() for r in handed_back)
    push.delay = 0
    assert services.reminders_dispatch().sent == 3
    assert sorted(r["body"]["idempotency_key"] for r in push.requests) == sorted(r.dedup_key for r in reminders)


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_racing_over_the_same_rows_send_each_once(mailoutbox):
    reminders = due_reminders(120)

    results = run_concurrently([lambda: services.reminders_drain(batch_size=10) for _ in range(3)])

    assert sum(r.sent for r in results) == 120
    assert sorted(keys(mailoutbox)) == sorted(r.dedup_key for r in reminders)


def test_the_outbox_skips_a_confirmation_whose_booking_was_cancelled_before_it_went_out(provider, mailoutbox):
    booking = booking_create(provider_id=provider.pk, start=future_slot(), customer=CustomerData("A", "a@x.io"))
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)

    assert services.notifications_dispatch().closed == 1
    assert booking.notifications.get().status == "skipped"
    assert mailoutbox == []


def test_dispatching_confirmations_of_several_services_costs_no_query_per_booking(provider, mailoutbox):
    """Each message names its booking's service, provider and customer: read with the batch, not one by one.
    (Each sent row's result is its own UPDATE, by design: reads are what must not grow.)"""

    def book_and_dispatch(count: int, hour: int) -> int:
        for n in range(count):
            service = ServiceFactory(providers=[provider])  # a service per booking: none is cached
            start = future_slot(days=2 + n, hour=hour)
            booking_create(
                service_id=service.pk, provider_id=provider.pk, start=start, customer=CustomerData("A", "a@x.io")
            )
        with CaptureQueriesContext(connection) as queries:
            assert services.notifications_dispatch().sent == count
        return sum(q["sql"].startswith("SELECT") for q in queries)

    assert book_and_dispatch(6, hour=12) == book_and_dispatch(1, hour=9)


def test_retry_failed_puts_failed_rows_back_in_the_queue(mailoutbox):
    reminders = due_reminders(2)
    Reminder.objects.update(status="failed", attempts=5, last_error="boom")
    start_a_minute_ago(reminders[1])

    assert services.reminders_retry_failed(ids=[r.pk for r in reminders]) == 1  # not the one already started
    assert services.reminders_dispatch().sent == 1


def _fail_first_sent_write(execute, sql, params, many, context):
    """The database goes away for one statement: the first UPDATE that records a send."""
    if sql.startswith("UPDATE") and "sent" in (params or ()) and not _fail_first_sent_write.done:
        _fail_first_sent_write.done = True
        raise OperationalError("server closed the connection unexpectedly")
    return execute(sql, params, many, context)


@pytest.mark.django_db(transaction=True)  # as in a worker: the record UPDATEs autocommit
def test_a_sent_write_that_fails_during_a_database_blip_is_retried_not_sent_again(mailoutbox, settings):
    [reminder] = due_reminders(1)
    _fail_first_sent_write.done = False

    with connection.execute_wrapper(_fail_first_sent_write):
        result = services.reminders_dispatch()

    assert _fail_first_sent_write.done
    assert (result.sent, result.lost) == (1, 0)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SENT and reminder.claimed_at is None
    assert len(mailoutbox) == 1


def _fail_every_sent_write(execute, sql, params, many, context):
    """A database outage that outlasts the record retries."""
    if sql.startswith("UPDATE") and "sent" in (params or ()):
        raise OperationalError("server closed the connection unexpectedly")
    return execute(sql, params, many, context)


@pytest.mark.django_db(transaction=True)
def test_record_retries_give_up_within_the_leases_margin(mailoutbox, settings):
    """With a 25 s lease the margin is 2.5 s: the full 7.5 s of retries would run past the lease, when
    another worker may take the claim over and send the message again."""
    settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS = 25
    settings.NOTIFICATIONS_SEND_TIMEOUT_SECONDS = 5
    [reminder] = due_reminders(1)

    started = time.monotonic()
    with connection.execute_wrapper(_fail_every_sent_write), pytest.raises(OperationalError):
        services.reminders_dispatch()  # the outage reaches the task, which Celery retries
    elapsed = time.monotonic() - started

    assert len(mailoutbox) == 1
    assert elapsed < dispatch.record_margin() + 1.5
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SCHEDULED  # left claimed: sent again after the lease
