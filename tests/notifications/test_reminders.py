"""Reminder rows follow the booking services: created on confirm, cancelled on cancel, moved on
reschedule, written in the booking's own transaction."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications import services
from notifications.models import Channel, Notification, Reminder
from scheduling.models import BookingStatus
from scheduling.services import (
    CustomerData,
    booking_cancel,
    booking_confirm,
    booking_create,
    booking_expire_holds,
    booking_reschedule,
)
from tests.factories import CustomerFactory, ServiceFactory, UserFactory, service_of
from tests.scheduling.conftest import future_slot

pytestmark = pytest.mark.django_db

ADA = CustomerData(name="Ada", email="ada@example.com", timezone="Europe/London")


def book(provider, start=None, customer=ADA):
    return booking_create(provider_id=provider.pk, start=start or future_slot(days=3), customer=customer)


def ledger(booking):
    return sorted(
        (r.channel, r.lead_minutes, r.status) for r in Reminder.objects.filter(booking=booking)
    )  # fmt: skip


def test_confirming_schedules_one_reminder_per_lead_time_at_start_minus_lead(provider):
    booking = book(provider)

    reminders = {r.lead_minutes: r for r in booking.reminders.all()}
    assert sorted(reminders) == [15, 60, 1440]
    for lead, reminder in reminders.items():
        assert reminder.channel == Channel.EMAIL
        assert reminder.status == Reminder.Status.SCHEDULED
        assert reminder.fire_at == booking.start_at - timedelta(minutes=lead)
        assert reminder.next_attempt_at == reminder.fire_at
        assert reminder.attempts == 0


def test_the_service_lead_times_decide_which_reminders_exist(provider):
    service = service_of(provider)
    service.reminder_lead_minutes = [120, 120, 30]
    service.save()
    assert ledger(book(provider)) == [("email", 30, "scheduled"), ("email", 120, "scheduled")]


def test_reminders_follow_the_booked_service_s_lead_times_not_the_provider_s_other_service(provider):
    cleaning = ServiceFactory(name="Cleaning", providers=[provider], reminder_lead_minutes=[45])
    booking = booking_create(service_id=cleaning.pk, provider_id=provider.pk, start=future_slot(days=3), customer=ADA)
    assert ledger(booking) == [("email", 45, "scheduled")]


def test_sms_reminders_need_a_phone_number_and_sms_configured(provider, settings):
    with_phone = CustomerData(name="Bo", email="bo@example.com", phone="+15551234567")
    settings.SMS_BACKEND = "console"
    assert {r.channel for r in book(provider, future_slot(days=3), with_phone).reminders.all()} == {"email", "sms"}
    assert {r.channel for r in book(provider, future_slot(days=4)).reminders.all()} == {"email"}  # no phone

    settings.SMS_BACKEND = ""
    assert {r.channel for r in book(provider, future_slot(days=5), with_phone).reminders.all()} == {"email"}

    settings.SMS_BACKEND = "twilio"  # chosen but without credentials: not configured
    assert {r.channel for r in book(provider, future_slot(days=6), with_phone).reminders.all()} == {"email"}


def test_push_reminders_need_a_user_account_and_push_configured(provider, settings):
    customer = CustomerFactory(user=UserFactory(is_staff=False))
    settings.PUSH_BACKEND = "console"
    assert {r.channel for r in book(provider, future_slot(days=3), customer).reminders.all()} == {"email", "push"}
    settings.PUSH_BACKEND = ""
    assert {r.channel for r in book(provider, future_slot(days=4), customer).reminders.all()} == {"email"}


def test_a_booking_waiting_for_confirmation_gets_its_reminders_when_confirmed(provider):
    service = service_of(provider)
    service.requires_confirmation = True
    service.save()
    booking = book(provider)
    assert booking.status == BookingStatus.PENDING
    assert not booking.reminders.exists()

    booking_confirm(booking_id=booking.pk)
    assert ledger(booking) == [("email", 15, "scheduled"), ("email", 60, "scheduled"), ("email", 1440, "scheduled")]


def test_lead_times_already_in_the_past_are_skipped_never_scheduled(provider):
    start = (timezone.now() + timedelta(minutes=90)).replace(second=0, microsecond=0)
    booking = book(provider, start.replace(minute=0 if start.minute < 30 else 30) + timedelta(minutes=30))

    assert ledger(booking) == [("email", 15, "scheduled"), ("email", 60, "scheduled"), ("email", 1440, "skipped")]
    skipped = booking.reminders.get(lead_minutes=1440)
    assert skipped.last_error == services.PAST_LEAD
    assert services.reminders_dispatch().claimed == 0  # nothing due, nothing sent late


def test_cancelling_cancels_the_scheduled_reminders_and_keeps_the_history(provider):
    booking = book(provider)
    booking.reminders.filter(lead_minutes=1440).update(status=Reminder.Status.SENT, sent_at=timezone.now())

    booking_cancel(booking_id=booking.pk)

    assert ledger(booking) == [("email", 15, "cancelled"), ("email", 60, "cancelled"), ("email", 1440, "sent")]


def test_rescheduling_moves_the_reminders_to_the_new_time(provider):
    old = book(provider, future_slot(days=3))
    ids = set(old.reminders.values_list("pk", flat=True))

    new = booking_reschedule(booking_id=old.pk, start=future_slot(days=5, hour=14))

    assert not old.reminders.exists()
    moved = {r.lead_minutes: r for r in new.reminders.all()}
    assert set(r.pk for r in moved.values()) == ids  # the same rows, moved
    for lead, reminder in moved.items():
        assert reminder.fire_at == reminder.next_attempt_at == new.start_at - timedelta(minutes=lead)
        assert reminder.status == Reminder.Status.SCHEDULED


def test_rescheduling_replaces_a_reminder_already_sent_and_skips_one_now_past(provider):
    old = book(provider, future_slot(days=3))
    old.reminders.filter(lead_minutes=1440).update(status=Reminder.Status.SENT, sent_at=timezone.now())
    soon = (timezone.now() + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)

    new = booking_reschedule(booking_id=old.pk, start=soon)

    assert ledger(old) == [("email", 1440, "sent")]  # history stays with the old booking
    assert ledger(new) == [("email", 15, "scheduled"), ("email", 60, "scheduled"), ("email", 1440, "skipped")]


def test_rescheduling_a_pending_booking_schedules_nothing(provider):
    service = service_of(provider)
    service.requires_confirmation = True
    service.save()
    old = book(provider)
    new = booking_reschedule(booking_id=old.pk, start=future_slot(days=4))
    assert new.status == BookingStatus.PENDING
    assert not Reminder.objects.exists()


def test_the_dedup_key_refuses_a_second_copy(provider):
    booking = book(provider)
    services.reminders_schedule(booking=booking)  # again: ignored by the unique key
    assert booking.reminders.count() == 3

    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(
            booking=booking, channel=Channel.EMAIL, lead_minutes=60, fire_at=timezone.now(),
            next_attempt_at=timezone.now(),
        )  # fmt: skip


def test_a_rolled_back_booking_leaves_no_reminder_and_no_notification(provider):
    with pytest.raises(RuntimeError), transaction.atomic():
        book(provider)
        assert Reminder.objects.count() == 3
        raise RuntimeError("the request failed after booking")
    assert not Reminder.objects.exists()
    assert not Notification.objects.exists()


def test_an_expired_hold_has_no_reminders_to_cancel_and_only_tells_the_customer(provider):
    service = service_of(provider)
    service.requires_confirmation = True
    service.save()
    booking = book(provider)
    type(booking).objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - timedelta(minutes=1))

    assert booking_expire_holds() == 1
    assert not Reminder.objects.exists()
    # The provider has no staff with an email here: the request and its lapse go to the customer only.
    assert sorted(Notification.objects.values_list("kind", "recipient")) == [
        ("cancellation", "customer"),
        ("request_received", "customer"),
    ]
