"""What a message says about the customer: the details given with the booking, never the shared
customer record's (which may hold what was typed for another provider's booking)."""

import pytest
from django.utils import timezone
from icalendar import Calendar

from notifications import content
from notifications.models import Channel
from scheduling.services import CustomerData, booking_cancel, booking_confirm, booking_create, booking_reschedule
from tests.factories import CustomerFactory, ServiceFactory, UserFactory
from tests.scheduling.conftest import future_slot

pytestmark = pytest.mark.django_db

TYPED_FOR_THIS_BOOKING = CustomerData("C. Berg", "Carol@Example.com", "+49301234567", "Europe/Berlin")


@pytest.fixture
def booked(provider, settings):
    """Carol's record was made by an earlier booking elsewhere; this provider's booking typed other details."""
    settings.SMS_BACKEND = "console"
    provider.staff.add(UserFactory(username="desk", email="desk@clinic.example"))
    CustomerFactory(name="Carol Ames", email="carol@example.com", phone="+15550001111", timezone="Asia/Tokyo")
    return booking_create(provider_id=provider.pk, start=future_slot(hour=9), customer=TYPED_FOR_THIS_BOOKING)


def rendered(booking) -> list:
    return [content.notification_message(n, now=timezone.now()) for n in booking.notifications.order_by("pk")]


def test_confirmations_name_and_reach_the_customer_by_the_details_given_with_the_booking(booked):
    messages = rendered(booked)
    by_channel = {(m.channel, m.to) for m in messages}
    assert (Channel.EMAIL, "Carol@Example.com") in by_channel and (Channel.SMS, "+49301234567") in by_channel
    emails = [m for m in messages if m.channel == Channel.EMAIL]
    assert len(emails) == 2  # the customer's and the provider's
    for message in emails:
        text = message.subject + message.text + message.html
        assert "C. Berg" in text
        assert "Carol Ames" not in text and "+15550001111" not in text and "Asia/Tokyo" not in text
    provider_copy = next(m for m in emails if m.to == "desk@clinic.example")
    assert "C. Berg (Carol@Example.com, +49301234567) has booked" in provider_copy.text


def test_cancellation_and_reschedule_notices_name_the_booking_s_customer(booked):
    moved = booking_reschedule(booking_id=booked.pk, start=future_slot(hour=11))
    booking_cancel(booking_id=moved.pk)
    emails = [m for m in rendered(moved) if m.channel == Channel.EMAIL]
    assert sorted(m.subject.split(":")[0] for m in emails) == ["Booking cancelled"] * 2 + ["Booking moved"] * 2
    for message in emails:
        assert "C. Berg" in message.subject + message.text and "Carol Ames" not in message.text


def test_reminders_go_to_the_email_and_phone_given_with_the_booking(booked):
    assert content.customer_address(booked, Channel.EMAIL) == "Carol@Example.com"
    assert content.customer_address(booked, Channel.SMS) == "+49301234567"
    email_reminder = booked.reminders.filter(channel=Channel.EMAIL).first()
    message = content.reminder_message(email_reminder, now=timezone.now())
    assert message.to == "Carol@Example.com" and "Hello C. Berg" in message.text


# --- the service booked ---------------------------------------------------------------------------


@pytest.fixture
def cleaning(provider):
    """A second service of the provider, so neither is named after it."""
    return ServiceFactory(name="Cleaning", slug="cleaning", duration_minutes=60, providers=[provider])


def book_cleaning(provider, cleaning, **kwargs):
    return booking_create(
        service_id=cleaning.pk, provider_id=provider.pk, start=future_slot(hour=9), customer=TYPED_FOR_THIS_BOOKING
    )


def test_the_confirmation_email_and_its_ics_name_the_service_with_the_provider(provider, cleaning):
    booking = book_cleaning(provider, cleaning)
    [customer_email] = [m for m in rendered(booking) if m.channel == Channel.EMAIL and m.to == "Carol@Example.com"]

    assert customer_email.subject.startswith("Booking confirmed: Cleaning with Dr Ada,")
    assert "Your booking for Cleaning with Dr Ada is confirmed." in customer_email.text
    assert "Cleaning with Dr Ada" in customer_email.html
    event = Calendar.from_ical(customer_email.attachments[0].content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == f"Cleaning with Dr Ada – booking {booking.reference}"
    assert "Service: Cleaning, with Dr Ada" in str(event["DESCRIPTION"])


def test_requests_reschedules_cancellations_reminders_and_sms_name_the_service(provider, cleaning, settings):
    settings.SMS_BACKEND = "console"
    cleaning.requires_confirmation = True
    cleaning.save()
    requested = book_cleaning(provider, cleaning)
    booking_confirm(booking_id=requested.pk)
    moved = booking_reschedule(booking_id=requested.pk, start=future_slot(hour=11))
    reminder = moved.reminders.filter(channel=Channel.EMAIL).first()
    booking_cancel(booking_id=moved.pk)

    notices = list(requested.notifications.all()) + list(moved.notifications.all())
    assert {n.kind for n in notices} >= {"request_received", "confirmation", "reschedule", "cancellation"}
    now = timezone.now()
    messages = [content.notification_message(n, now=now) for n in notices]
    messages.append(content.reminder_message(reminder, now=now))
    for message in messages:
        assert "Cleaning with Dr Ada" in message.subject + message.text, message.subject
    assert any(m.channel == Channel.SMS for m in messages)


def test_a_provider_s_own_service_is_not_named_twice(booked):
    [customer_email] = [m for m in rendered(booked) if m.channel == Channel.EMAIL and m.to == "Carol@Example.com"]
    assert customer_email.subject.startswith("Booking confirmed: Dr Ada,")
    assert "Dr Ada with Dr Ada" not in customer_email.text


def test_staff_email_subjects_name_a_service_but_not_the_providers_own(provider, cleaning):
    provider.staff.add(UserFactory(username="front", email="front@clinic.example"))
    own = provider.services.exclude(pk=cleaning.pk).get()
    mine = booking_create(
        service_id=own.pk, provider_id=provider.pk, start=future_slot(hour=13), customer=TYPED_FOR_THIS_BOOKING
    )
    moved = booking_reschedule(booking_id=book_cleaning(provider, cleaning).pk, start=future_slot(hour=15))
    booking_cancel(booking_id=moved.pk)

    def staff_subjects(*bookings):
        return [m.subject for b in bookings for m in rendered(b) if m.to == "front@clinic.example"]

    cleaning_subjects = staff_subjects(moved.rescheduled_from, moved)
    own_subjects = staff_subjects(mine)
    assert len(cleaning_subjects) == 3 and all("C. Berg (Cleaning)," in s for s in cleaning_subjects), cleaning_subjects
    assert own_subjects and all("C. Berg," in s for s in own_subjects), own_subjects
