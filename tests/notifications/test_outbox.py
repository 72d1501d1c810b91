"""The outbox: confirmation, cancellation and reschedule notices to the customer and the provider,
written in the booking's transaction and sent after the commit."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from booking_site.celery import app as celery_app
from notifications import services
from notifications.models import Notification
from scheduling.services import CustomerData, booking_cancel, booking_create, booking_reschedule
from tests.factories import UserFactory
from tests.scheduling.conftest import future_slot

pytestmark = pytest.mark.django_db

ADA = CustomerData(name="Ada", email="ada@example.com", phone="+15551230000", timezone="Europe/London")


@pytest.fixture
def staffed(provider):
    provider.staff.add(
        UserFactory(username="desk", email="Desk@Clinic.example"),
        UserFactory(username="desk2", email="desk@clinic.example"),  # the same address: one message
        UserFactory(username="owner", email="owner@clinic.example"),
        UserFactory(username="gone", email="gone@clinic.example", is_active=False),
        UserFactory(username="nomail", email=""),
    )
    return provider


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def outbox(booking):
    return sorted((n.kind, n.recipient, n.channel, n.address) for n in booking.notifications.all())


def test_confirming_writes_a_confirmation_to_the_customer_and_each_staff_address(staffed, settings):
    settings.SMS_BACKEND = "console"
    booking = booking_create(provider_id=staffed.pk, start=future_slot(), customer=ADA)

    assert outbox(booking) == [
        ("confirmation", "customer", "email", "ada@example.com"),
        ("confirmation", "customer", "sms", "+15551230000"),
        ("confirmation", "provider", "email", "desk@clinic.example"),
        ("confirmation", "provider", "email", "owner@clinic.example"),
    ]
    assert {n.status for n in booking.notifications.all()} == {"pending"}


def test_cancelling_writes_a_cancellation_notice(staffed):
    booking = booking_create(provider_id=staffed.pk, start=future_slot(), customer=ADA)
    booking_cancel(booking_id=booking.pk)
    kinds = sorted((n.kind, n.recipient) for n in booking.notifications.filter(kind="cancellation"))
    assert kinds == [("cancellation", "customer"), ("cancellation", "provider"), ("cancellation", "provider")]


def test_rescheduling_writes_the_notice_on_the_new_booking(staffed):
    old = booking_create(provider_id=staffed.pk, start=future_slot(), customer=ADA)
    new = booking_reschedule(booking_id=old.pk, start=future_slot(days=4))
    assert [k for k, *_ in outbox(new)] == ["reschedule"] * 3
    assert not old.notifications.filter(kind__in=["cancellation", "reschedule"]).exists()


def test_enqueuing_the_same_event_twice_writes_one_row_per_address(staffed):
    booking = booking_create(provider_id=staffed.pk, start=future_slot(), customer=ADA)
    before = outbox(booking)
    services.notifications_enqueue(booking=booking, kind=Notification.Kind.CONFIRMATION)
    assert outbox(booking) == before

    row = booking.notifications.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            booking=booking, kind=row.kind, recipient=row.recipient, channel=row.channel, address=row.address,
            dedup_key=row.dedup_key, next_attempt_at=timezone.now(),
        )  # fmt: skip


def test_sends_start_after_commit(staffed, django_capture_on_commit_callbacks, mailoutbox, eager_celery):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        booking = booking_create(provider_id=staffed.pk, start=future_slot(), customer=ADA)
    assert len(callbacks) == 1
    assert mailoutbox == []  # nothing leaves before the commit

    callbacks[0]()  # the commit happened: the outbox's wake-up runs its drain (notifications/wakeup.py)

    assert sorted(m.to[0] for m in mailoutbox) == ["ada@example.com", "desk@clinic.example", "owner@clinic.example"]
    assert set(booking.notifications.values_list("status", flat=True)) == {"sent"}
