"""A booking made in German is written about in German, to the customer; staff read the site's language."""

import pytest
from django.utils import timezone

from notifications import content
from notifications.models import Channel
from scheduling.services import CustomerData, booking_create, booking_reschedule
from tests.factories import UserFactory
from tests.scheduling.conftest import future_slot

pytestmark = pytest.mark.django_db

BERLIN = CustomerData("C. Berg", "carol@example.com", "+49301234567", "Europe/Berlin")


@pytest.fixture
def booked_in_german(provider, settings):
    settings.SMS_BACKEND = "console"
    provider.staff.add(UserFactory(username="desk", email="desk@clinic.example"))
    return booking_create(provider_id=provider.pk, start=future_slot(hour=9), customer=BERLIN, language="de")


def emails(booking) -> dict:
    return {
        m.to: m
        for m in (content.notification_message(n, now=timezone.now()) for n in booking.notifications.order_by("pk"))
        if m.channel == Channel.EMAIL
    }


def test_the_confirmation_email_to_a_german_customer_is_german(booked_in_german):
    message = emails(booked_in_german)["carol@example.com"]
    assert message.subject.startswith("Buchung bestätigt:")
    assert "Guten Tag C. Berg," in message.text and "ist bestätigt" in message.text
    assert "Ihre Buchung für" in message.html and 'lang="de"' in message.html
    assert "Hello" not in message.text + message.html


def test_the_confirmation_times_use_the_german_clock_and_date(booked_in_german):
    text = emails(booked_in_german)["carol@example.com"].text
    start = booked_in_german.start_at.astimezone(booked_in_german.customer_timezone)
    assert f"{start.day}. " in text and start.strftime("%H:%M") in text and " AM" not in text


def test_the_confirmation_calendar_file_is_german(booked_in_german):
    ics = emails(booked_in_german)["carol@example.com"].attachments[0].content
    assert b"Buchungsnummer" in ics


def test_the_staff_copy_stays_in_the_site_language(booked_in_german):
    staff = emails(booked_in_german)["desk@clinic.example"]
    assert staff.subject.startswith("New booking:") and "has booked" in staff.text


def test_a_reminder_of_a_german_booking_is_german(booked_in_german):
    for channel in (Channel.EMAIL, Channel.SMS):
        reminder = booked_in_german.reminders.filter(channel=channel).first()
        message = content.reminder_message(reminder, now=timezone.now())
        assert message.subject.startswith("Erinnerung:")
        assert "Erinnerung" in message.text or "Zur Erinnerung" in message.text


def test_a_rescheduled_booking_keeps_its_language(booked_in_german):
    moved = booking_reschedule(booking_id=booked_in_german.pk, start=future_slot(hour=11))
    assert moved.language == "de"
    assert emails(moved)["carol@example.com"].subject.startswith("Buchung verschoben:")


def test_an_english_booking_reads_as_before(provider):
    booking = booking_create(provider_id=provider.pk, start=future_slot(hour=9), customer=BERLIN)
    assert booking.language == "en"
    assert emails(booking)["carol@example.com"].subject.startswith("Booking confirmed:")
