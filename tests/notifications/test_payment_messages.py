"""The customer's messages about payments: a late payment refunded because its time was taken, and a
booking cancelled because its payment did not go through."""

import pytest
from django.utils import timezone

from notifications import content
from notifications.models import Channel, Notification
from payments.models import Payment
from payments.services import payment_succeeded
from scheduling.models import CancelReason
from scheduling.services import CustomerData, booking_cancel
from tests.payments.conftest import BOB, book, paid_online_provider
from tests.scheduling.conftest import future_slot

pytestmark = pytest.mark.django_db

ALICE = CustomerData(name="Alice", email="alice@example.com", phone="+4930123456", timezone="Europe/Berlin")


@pytest.fixture
def refunded_late(settings):
    """Alice's hold ran out, Bob booked the time, then Alice's payment arrived: refunded in full."""
    settings.SMS_BACKEND = "console"
    provider = paid_online_provider(name="Studio Nord")
    start = future_slot()
    booking = book(provider, start, customer=ALICE)
    booking_cancel(booking_id=booking.pk, reason=CancelReason.EXPIRED)
    book(provider, start, customer=BOB)
    payment_succeeded(payment_id=booking.payments.get(kind=Payment.Kind.CHARGE).pk)
    return booking


def render(booking, channel: str, language: str):
    notification = Notification.objects.get(booking=booking, kind=Notification.Kind.PAYMENT_REFUNDED, channel=channel)
    booking.language = language
    notification.booking = booking
    return content.notification_message(notification, now=timezone.now())


def test_a_late_payment_refunded_tells_the_customer_in_english(refunded_late, settings):
    email = render(refunded_late, Channel.EMAIL, "en")
    assert email.subject.startswith("Payment refunded: Studio Nord")
    assert "Your payment of 120.00 EUR" in email.text
    assert "had been booked by someone else" in email.text
    assert "we have refunded 120.00 EUR to you in full" in email.text
    assert f"Choose another time: {settings.SITE_URL}/p/{refunded_late.provider.slug}/" in email.text
    assert "we have refunded <strong>120.00 EUR</strong> to you in full" in email.html
    sms = render(refunded_late, Channel.SMS, "en")
    assert "120.00 EUR" in sms.text and "refunded it in full" in sms.text and "Book another time: http" in sms.text


def test_a_late_payment_refunded_tells_the_customer_in_german(refunded_late):
    email = render(refunded_late, Channel.EMAIL, "de")
    assert email.subject.startswith("Zahlung erstattet: Studio Nord")
    assert "Ihre Zahlung über 120,00 EUR" in email.text
    assert "120,00 EUR vollständig erstattet" in email.text
    assert "Your payment" not in email.text + email.html
    sms = render(refunded_late, Channel.SMS, "de")
    assert "vollständig erstattet" in sms.text and "Your payment" not in sms.text


def test_a_cancellation_for_a_failed_payment_says_so_by_sms_too(settings):
    settings.SMS_BACKEND = "console"
    booking = book(paid_online_provider(name="Studio Nord"), customer=ALICE)
    booking_cancel(booking_id=booking.pk, reason=CancelReason.PAYMENT_FAILED)
    notification = Notification.objects.get(booking=booking, kind=Notification.Kind.CANCELLATION, channel=Channel.SMS)
    sms = content.notification_message(notification, now=timezone.now())
    assert "did not go through, so the time has been released" in sms.text
