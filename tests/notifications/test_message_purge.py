"""Old messages are deleted once they and their booking are long over (notifications.services.messages_purge),
daily from Beat or by `manage.py purge_messages`; anything still waiting, recent, or about a booking that
ended recently is kept."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from booking_site.celery import app
from notifications import services
from notifications.models import (
    Channel,
    Notification,
    Reminder,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from notifications.tasks import PURGE_MESSAGES_TASK
from tests.factories import BookingFactory, UserFactory

pytestmark = pytest.mark.django_db

DAYS = 180


@pytest.fixture(autouse=True)
def _retention(settings):
    settings.MESSAGE_RETENTION_DAYS = DAYS


def booking_ended(days_ago: int):
    start = timezone.now().replace(microsecond=0) - timedelta(days=days_ago, minutes=30)
    return BookingFactory(start_at=start, end_at=start + timedelta(minutes=30), blocked_from=start,
                          blocked_until=start + timedelta(minutes=30))  # fmt: skip


def notification(booking, *, status: str, changed_days_ago: int, key: str = "confirmation") -> Notification:
    row = Notification.objects.create(
        booking=booking, kind=Notification.Kind.CONFIRMATION, recipient=Notification.Recipient.CUSTOMER,
        channel=Channel.EMAIL, address=booking.customer_email, status=status,
        dedup_key=f"{key}:{booking.pk}:{status}:{changed_days_ago}", next_attempt_at=booking.start_at,
    )  # fmt: skip
    Notification.objects.filter(pk=row.pk).update(updated_at=timezone.now() - timedelta(days=changed_days_ago))
    return row


def reminder(booking, *, status: str, changed_days_ago: int, lead: int = 1440) -> Reminder:
    row = Reminder.objects.create(booking=booking, channel=Channel.EMAIL, lead_minutes=lead, status=status,
                                  fire_at=booking.start_at, next_attempt_at=booking.start_at)  # fmt: skip
    Reminder.objects.filter(pk=row.pk).update(updated_at=timezone.now() - timedelta(days=changed_days_ago))
    return row


def purged(**counts: int) -> dict[str, int]:
    """What messages_purge answers: these counts, and 0 for every other kind."""
    kinds = ("notifications", "reminders", "webhook_events", "waitlist_messages", "calendar_exports")
    return {**dict.fromkeys(kinds, 0), **counts}


def left() -> tuple[set[int], set[int]]:
    return set(Notification.objects.values_list("pk", flat=True)), set(Reminder.objects.values_list("pk", flat=True))


def test_messages_done_with_long_ago_about_a_booking_long_over_are_deleted():
    old = booking_ended(days_ago=DAYS + 20)
    notification(old, status="sent", changed_days_ago=DAYS + 20)
    notification(old, status="failed", changed_days_ago=DAYS + 10)
    reminder(old, status="sent", changed_days_ago=DAYS + 20)
    reminder(old, status="cancelled", changed_days_ago=DAYS + 30, lead=60)

    assert services.messages_purge() == purged(notifications=2, reminders=2)
    assert left() == (set(), set())


def test_messages_still_waiting_are_kept_whatever_their_age():
    old = booking_ended(days_ago=DAYS + 20)
    pending = notification(old, status="pending", changed_days_ago=DAYS + 20)
    scheduled = reminder(old, status="scheduled", changed_days_ago=DAYS + 20)

    assert services.messages_purge() == purged()
    assert left() == ({pending.pk}, {scheduled.pk})


def test_a_message_changed_within_the_retention_is_kept_though_its_booking_is_long_over():
    old = booking_ended(days_ago=DAYS + 20)
    retried = notification(old, status="failed", changed_days_ago=3)  # staff retried it, it failed again

    services.messages_purge()
    assert left() == ({retried.pk}, set())


def test_old_messages_of_a_booking_that_ended_within_the_retention_are_kept():
    # Booked a year ahead: confirmed and reminded long ago, the appointment itself only last week.
    recent = booking_ended(days_ago=7)
    confirmation = notification(recent, status="sent", changed_days_ago=DAYS + 100)
    early = reminder(recent, status="sent", changed_days_ago=DAYS + 1)

    services.messages_purge()
    assert left() == ({confirmation.pk}, {early.pk})


def test_a_retention_of_zero_keeps_every_message(settings):
    settings.MESSAGE_RETENTION_DAYS = 0
    old = booking_ended(days_ago=DAYS * 10)
    sent = notification(old, status="sent", changed_days_ago=DAYS * 10)

    assert services.messages_purge() == purged()
    assert left() == ({sent.pk}, set())


def test_the_purge_works_in_batches_and_reports_each():
    old = booking_ended(days_ago=DAYS + 20)
    for n in range(3):
        notification(old, status="sent", changed_days_ago=DAYS + 20, key=f"k{n}")
    batches = []

    totals = services.messages_purge(batch_size=2, on_batch=lambda name, rows: batches.append((name, rows)))

    assert totals == purged(notifications=3)
    assert batches == [("notifications", 2), ("notifications", 1)]


def webhook_event(booking, *, sequence: int | None, days_ago: int, delivery: str = "sent", changed_days_ago=None):
    """An event made `days_ago`, with one delivery in status `delivery` last changed `changed_days_ago`
    (default: as old as the event) and one attempt."""
    endpoint = WebhookEndpoint.objects.first() or WebhookEndpoint.objects.create(url="https://crm.example/hook",
                                                                                 owner=UserFactory())  # fmt: skip
    made = timezone.now() - timedelta(days=days_ago)
    event = WebhookEvent.objects.create(type="booking.confirmed", payload={}, booking=booking, sequence=sequence,
                                        provider=booking.provider if booking else None, created_at=made)  # fmt: skip
    row = WebhookDelivery.objects.create(
        endpoint=endpoint, event=event, address=endpoint.url, status=delivery, next_attempt_at=made,
        dedup_key=f"webhook:{event.pk}:{endpoint.pk}",
    )  # fmt: skip
    WebhookAttempt.objects.create(delivery=row, started_at=made, status_code=204, duration_ms=5)
    changed = timezone.now() - timedelta(days=days_ago if changed_days_ago is None else changed_days_ago)
    WebhookDelivery.objects.filter(pk=row.pk).update(updated_at=changed)
    return event


def events_left() -> set[str]:
    return set(WebhookEvent.objects.values_list("pk", flat=True))


def test_old_webhook_events_go_with_their_deliveries_and_attempts_but_each_bookings_latest_stays():
    old = booking_ended(days_ago=DAYS + 20)
    first = webhook_event(old, sequence=1, days_ago=DAYS + 25)
    second = webhook_event(old, sequence=2, days_ago=DAYS + 21)
    latest = webhook_event(old, sequence=3, days_ago=DAYS + 20)  # the next change is numbered after it

    assert services.messages_purge()["webhook_events"] == 2

    assert events_left() == {latest.pk}
    assert not WebhookDelivery.objects.filter(event_id__in=[first.pk, second.pk]).exists()
    assert WebhookAttempt.objects.count() == 1  # the latest event's


def test_webhook_events_still_being_delivered_or_replayed_lately_are_kept():
    old = booking_ended(days_ago=DAYS + 20)
    waiting = webhook_event(old, sequence=1, days_ago=DAYS + 25, delivery="pending")
    replayed = webhook_event(old, sequence=2, days_ago=DAYS + 25, changed_days_ago=2)
    webhook_event(old, sequence=3, days_ago=DAYS + 20)

    services.messages_purge()
    assert {waiting.pk, replayed.pk} <= events_left()


def test_webhook_events_of_a_booking_that_ended_within_the_retention_are_kept():
    recent = booking_ended(days_ago=7)
    early = webhook_event(recent, sequence=1, days_ago=DAYS + 100)
    webhook_event(recent, sequence=2, days_ago=DAYS + 1)

    services.messages_purge()
    assert early.pk in events_left()


def test_old_webhook_events_about_no_booking_go():
    old_ping = webhook_event(None, sequence=None, days_ago=DAYS + 1)
    new_ping = webhook_event(None, sequence=None, days_ago=1)

    assert services.messages_purge()["webhook_events"] == 1
    assert events_left() == {new_ping.pk} and old_ping.pk not in events_left()


def test_the_purge_runs_daily_from_beat():
    app.loader.import_default_modules()
    periodic = PeriodicTask.objects.get(task=PURGE_MESSAGES_TASK)
    assert periodic.enabled
    assert (periodic.interval.every, periodic.interval.period) == (1, "days")
    assert PURGE_MESSAGES_TASK in app.tasks


def test_the_command_counts_in_a_dry_run_and_deletes_nothing():
    old = booking_ended(days_ago=DAYS + 20)
    sent = notification(old, status="sent", changed_days_ago=DAYS + 20)
    out = StringIO()

    call_command("purge_messages", "--dry-run", stdout=out)

    assert "notifications: 1 would be deleted (dry run)" in out.getvalue()
    assert "reminders: 0 would be deleted" in out.getvalue()
    assert left() == ({sent.pk}, set())


def test_the_command_deletes_and_prints_its_progress_and_totals():
    old = booking_ended(days_ago=DAYS + 20)
    notification(old, status="sent", changed_days_ago=DAYS + 20)
    reminder(old, status="skipped", changed_days_ago=DAYS + 20)
    out = StringIO()

    call_command("purge_messages", stdout=out)

    assert "notifications: deleted 1" in out.getvalue() and "reminders: deleted 1" in out.getvalue()
    assert "Deleted: notifications 1, reminders 1, webhook events 0, waitlist messages 0, calendar exports 0" in (
        out.getvalue()
    )
    assert left() == (set(), set())
