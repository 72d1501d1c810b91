"""Integrator webhooks against a real local HTTP receiver: what is sent, in which order, signed how,
to whom, and what happens when the receiver fails (docs/decisions/0016-webhooks.md)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from notifications.webhook_delivery import RETRY_SCHEDULE, webhooks_dispatch
from notifications.webhooks import (
    webhook_deliveries_replay_since,
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_enable,
    webhook_endpoint_rotate_secret,
    webhook_ping,
)
from payments.services import payment_mark_paid, payment_refund
from scheduling.services import CustomerData, booking_cancel, booking_confirm, booking_create, booking_reschedule
from tests.factories import UserFactory, service_of
from tests.scheduling.conftest import future_slot, open_all_day_provider
from tests.waitlist.conftest import ANN, book, day_ahead, join, one_slot_a_day_provider
from waitlist.services import offers_make, waitlist_accept

pytestmark = pytest.mark.django_db

ADA = CustomerData(name="Ada", email="ada@example.com", timezone="Europe/London")


@pytest.fixture
def admin():
    return UserFactory(username="integrator", email="integrator@example.com", is_superuser=True, is_staff=True)


@pytest.fixture
def hook(admin, receiver):
    endpoint, secret = webhook_endpoint_create(owner=admin, url=receiver.url, description="all of it")
    assert secret == endpoint.secret and secret.startswith("whsec_")
    return endpoint


def send_due(now=None):
    return webhooks_dispatch(now=now)


def test_a_bookings_lifecycle_arrives_in_order_signed_and_numbered(provider, hook, receiver):
    service = service_of(provider)
    service.requires_confirmation = True
    service.save()
    booking = booking_create(provider_id=provider.pk, start=future_slot(), customer=ADA)
    booking_confirm(booking_id=booking.pk)
    moved = booking_reschedule(booking_id=booking.pk, start=future_slot(days=4))
    booking_cancel(booking_id=moved.pk)

    assert send_due().sent == 4
    payloads = receiver.verified(hook.secret)  # every signature checks out with standardwebhooks
    assert [p["type"] for p in payloads] == [
        "booking.created",
        "booking.confirmed",
        "booking.rescheduled",
        "booking.cancelled",
    ]
    assert [p["data"]["sequence"] for p in payloads] == [1, 2, 3, 4]
    created, confirmed, rescheduled, cancelled = payloads
    assert (created["data"]["id"], created["data"]["status"]) == (booking.pk, "pending")
    assert confirmed["data"]["status"] == "confirmed"
    assert rescheduled["data"]["id"] == moved.pk and rescheduled["data"]["previous"]["id"] == booking.pk
    assert rescheduled["data"]["previous"]["cancel_reason"] == "rescheduled"
    assert cancelled["data"]["cancel_reason"] == "customer" and "refund_amount" in cancelled["data"]
    assert len({p["id"] for p in payloads}) == len(set(receiver.ids())) == 4


def test_a_receiver_answering_500_gets_the_same_delivery_again_after_the_backoff(provider, hook, receiver):
    receiver.answer = lambda n: 500 if n == 1 else 200
    booking_create(provider_id=provider.pk, start=future_slot(), customer=ADA)

    first = send_due()
    assert (first.sent, first.retrying) == (0, 1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.next_attempt_at - timezone.now() <= RETRY_SCHEDULE[0]
    assert send_due().claimed == 0  # not due before its backoff

    second = send_due(now=timezone.now() + RETRY_SCHEDULE[0] + timedelta(seconds=1))  # time moved on
    assert second.sent == 1
    assert receiver.ids()[0] == receiver.ids()[1] == WebhookDelivery.objects.get().webhook_id
    assert list(WebhookAttempt.objects.values_list("status_code", flat=True)) == [500, 200]


def test_the_retry_schedule_is_explicit_then_the_delivery_fails():
    from notifications.webhook_delivery import retry_delay

    delays = [retry_delay(n) for n in range(1, 9)]
    assert delays[:7] == [
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=10),
    ]
    assert delays[7] is None


def test_three_days_of_failures_disable_the_endpoint_and_email_its_owner(
    provider, hook, receiver, django_capture_on_commit_callbacks
):
    receiver.answer = lambda n: 500
    booking_create(provider_id=provider.pk, start=future_slot(), customer=ADA)
    send_due()
    hook.refresh_from_db()
    assert hook.is_active and hook.failing_since is not None

    # Two days of failure later: still on.
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    type(hook).objects.filter(pk=hook.pk).update(failing_since=timezone.now() - timedelta(days=2))
    send_due()
    hook.refresh_from_db()
    assert hook.is_active

    # Three days: off, and the owner told.
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    type(hook).objects.filter(pk=hook.pk).update(failing_since=timezone.now() - timedelta(days=3, minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        send_due()
    hook.refresh_from_db()
    assert not hook.is_active and hook.disabled_at and "failed" in hook.disabled_reason
    assert [m.to for m in mail.outbox] == [["integrator@example.com"]]
    assert hook.url in mail.outbox[0].body


def test_a_success_clears_the_failing_state(provider, hook, receiver):
    receiver.answer = lambda n: 500 if n == 1 else 204
    booking_create(provider_id=provider.pk, start=future_slot(), customer=ADA)
    send_due()
    hook.refresh_from_db()
    assert hook.failing_since is not None
    send_due(now=timezone.now() + timedelta(seconds=6))
    hook.refresh_from_db()
    assert hook.failing_since is None


def test_a_disabled_endpoint_gets_nothing_new_nor_what_was_pending(provider, hook, receiver):
    booking = booking_create(provider_id=provider.pk, start=future_slot(), customer=ADA)
    type(hook).objects.filter(pk=hook.pk).update(is_active=False)
    booking_cancel(booking_id=booking.pk)

    assert WebhookDelivery.objects.count() == 1  # the cancellation queued nothing for it
    result = send_due()
    assert (result.sent, result.closed) == (0, 1)
    assert receiver.requests == []
    assert WebhookDelivery.objects.get().status == "skipped"


def test_staff_of_provider_b_hear_nothing_of_provider_a(receiver):
    provider_a, provider_b = open_all_day_provider(slug="a"), open_all_day_provider(slug="b")
    staff_b = UserFactory(username="staff-b", is_staff=True)
    provider_b.staff.add(staff_b)
    endpoint, _ = webhook_endpoint_create(owner=staff_b, url=receiver.url)

    booking_create(provider_id=provider_a.pk, start=future_slot(), customer=ADA)
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 0
    booking_b = booking_create(provider_id=provider_b.pk, start=future_slot(), customer=ADA)

    assert send_due().sent == 1
    [payload] = receiver.verified(endpoint.secret)
    assert payload["data"]["provider"] == provider_b.pk and payload["data"]["id"] == booking_b.pk


def test_an_endpoint_hears_only_the_event_types_it_asked_for(provider, admin, receiver):
    endpoint, _ = webhook_endpoint_create(owner=admin, url=receiver.url, event_types=["booking.cancelled"])
    booking = booking_create(provider_id=provider.pk, start=future_slot(), customer=ADA)
    booking_cancel(booking_id=booking.pk)
    assert list(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event__type", flat=True)) == [
        "booking.cancelled"
    ]


def test_a_private_url_is_refused_without_the_setting(provider, hook, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    booking_create(provider_id=provider.pk, start=future_slot(), customer=ADA)

    result = send_due()
    assert (result.sent, result.failed) == (0, 1)
    assert receiver.requests == []
    assert "private" in WebhookAttempt.objects.get().error


def test_a_rolled_back_change_queues_nothing(provider, hook):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        booking_create(provider_id=provider.pk, start=future_slot(), customer=ADA)
        raise RuntimeError
    assert WebhookEvent.objects.count() == WebhookDelivery.objects.count() == 0


def test_payment_events_are_sent(hook, receiver):
    provider = open_all_day_provider(slug="venue", price="50.00", currency="EUR", payment_mode="at_venue")
    booking = booking_create(provider_id=provider.pk, start=future_slot(), customer=ADA)
    payment_mark_paid(payment_id=booking.payments.get().pk)
    payment_refund(booking_id=booking.pk, amount=Decimal("20.00"))

    send_due()
    payloads = receiver.verified(hook.secret)
    assert [p["type"] for p in payloads] == ["booking.created", "payment.succeeded", "payment.refunded"]
    succeeded, refunded = payloads[1]["data"], payloads[2]["data"]
    assert (succeeded["kind"], succeeded["amount"], succeeded["booking"]["id"]) == ("charge", "50.00", booking.pk)
    assert (refunded["kind"], refunded["amount"], refunded["refund_of"]) == ("refund", "20.00", succeeded["id"])
    assert [p["data"]["sequence"] for p in payloads] == [1, 2, 3]


def test_waitlist_offered_and_booked_events_are_sent(hook, receiver):
    provider = one_slot_a_day_provider()
    start = day_ahead()
    taken = book(provider, ADA, start)
    entry = join(provider, ANN, start)
    booking_cancel(booking_id=taken.pk)
    assert offers_make(service_id=service_of(provider).pk) == 1
    entry.refresh_from_db()
    waitlist_accept(entry_id=entry.pk)

    send_due()
    types = [p["type"] for p in receiver.verified(hook.secret)]
    assert "waitlist.offered" in types and "waitlist.booked" in types
    booked = next(p for p in receiver.verified(hook.secret) if p["type"] == "waitlist.booked")
    assert booked["data"]["id"] == entry.pk and booked["data"]["status"] == "booked"
    assert booked["data"]["booking"]["id"] == entry.offer_booking_id


def test_ping_replay_and_rotation(hook, receiver):
    delivery = webhook_ping(endpoint_id=hook.pk)
    send_due()
    webhook_delivery_replay(delivery_id=delivery.pk)
    send_due()
    assert receiver.ids() == [delivery.webhook_id, delivery.webhook_id]  # a replay is the same delivery
    assert [p["type"] for p in receiver.verified(hook.secret)] == ["ping", "ping"]

    new_secret = webhook_endpoint_rotate_secret(endpoint_id=hook.pk)
    assert webhook_deliveries_replay_since(endpoint_id=hook.pk, since=timezone.now() - timedelta(hours=1)) == 1
    send_due()
    from standardwebhooks import Webhook

    last = receiver.requests[-1]
    Webhook(new_secret).verify(last["body"], last["headers"])


def test_enabling_again_clears_the_failing_state(hook):
    type(hook).objects.filter(pk=hook.pk).update(
        is_active=False, failing_since=timezone.now(), disabled_at=timezone.now(), disabled_reason="x"
    )
    endpoint = webhook_endpoint_enable(endpoint_id=hook.pk)
    assert (endpoint.is_active, endpoint.failing_since, endpoint.disabled_at, endpoint.disabled_reason) == (
        True,
        None,
        None,
        "",
    )
