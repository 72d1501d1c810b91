"""The waitlist's emails: each kind in the entry's language, times in the entry's zone, working links;
an offer that closed before its email went out is not sent."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone, translation

from scheduling import manage_links
from scheduling.formatting import local_time
from scheduling.models import Booking
from scheduling.services import CustomerData, booking_cancel
from tests.factories import service_of
from tests.waitlist.conftest import join
from waitlist.dispatch import messages_dispatch
from waitlist.models import WaitlistEntry, WaitlistMessage
from waitlist.services import offers_make, waitlist_accept, waitlist_decline, waitlist_sweep

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
KEN = CustomerData(name="Ken Sato", email="ken@example.com", timezone="Asia/Tokyo")


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "https://book.example"


def send(entry, kind, mailoutbox):
    message = WaitlistMessage.objects.get(entry=entry, kind=kind)
    mailoutbox.clear()
    assert messages_dispatch(pks=[message.pk]).sent == 1
    [email] = mailoutbox
    message.refresh_from_db()
    assert message.status == WaitlistMessage.Status.SENT
    return email


def html_of(email) -> str:
    return email.alternatives[0][0]


def offered(full_day, language):
    provider, start, dans = full_day
    entry = join(provider, KEN, start, language=language)
    booking_cancel(booking_id=dans.pk)
    assert offers_make(service_id=service_of(provider).pk) == 1
    entry.refresh_from_db()
    return entry


@pytest.mark.parametrize(("language", "greeting"), [("en", "You are on the waitlist"), ("de", "Warteliste")])
def test_the_joined_email_has_the_entry_link(full_day, mailoutbox, language, greeting):
    provider, start, _ = full_day
    entry = join(provider, KEN, start, language=language)
    email = send(entry, "joined", mailoutbox)
    assert greeting in email.subject
    [link] = re.findall(rf"https://book\.example(/w/{entry.pk}/\S+/)\n", email.body)
    assert link in html_of(email)
    assert b'data-testid="position"' in Client().get(link).content


@pytest.mark.parametrize(("language", "words"), [("en", "A time is held for you"), ("de", "Termin")])
def test_the_offer_email_shows_the_slot_and_expiry_in_the_customers_zone(full_day, mailoutbox, language, words):
    entry = offered(full_day, language)
    booking = entry.offer_booking
    email = send(entry, "offer", mailoutbox)
    with translation.override(language):
        when = local_time(booking.start_at, TOKYO)
        expires = local_time(booking.hold_expires_at, TOKYO)
    assert "JST (Asia/Tokyo)" in when
    assert words in email.subject and when in email.subject
    for body in (email.body, html_of(email)):
        assert when in body and expires in body
        assert re.search(rf"https://book\.example/w/{entry.pk}/[^/\s]+/accept/", body)
        assert re.search(rf"https://book\.example/w/{entry.pk}/[^/\s]+/decline/", body)
    if language == "de":
        assert "Annehmen" in email.body and "Accept" not in email.body


@pytest.mark.parametrize(("language", "words"), [("en", "declined"), ("de", "abgelehnt")])
def test_the_closed_email_says_why_and_links_to_join_again(full_day, mailoutbox, language, words):
    entry = offered(full_day, language)
    waitlist_decline(entry_id=entry.pk)
    email = send(entry, "closed", mailoutbox)
    assert words in email.subject
    assert f"https://book.example/s/{entry.service.slug}/" in email.body
    with translation.override(language):
        assert local_time(entry.offer_booking.start_at, TOKYO) in email.body


@pytest.mark.parametrize(("language", "words"), [("en", "Booking confirmed"), ("de", "bestätigt")])
def test_the_booked_email_carries_the_bookings_manage_link(full_day, mailoutbox, language, words):
    entry = offered(full_day, language)
    booking = waitlist_accept(entry_id=entry.pk)
    email = send(entry, "booked", mailoutbox)
    assert words in email.subject and booking.reference in email.body
    manage = manage_links.manage_url(booking)
    assert manage in email.body and manage in html_of(email)
    with translation.override(language):
        assert local_time(booking.start_at, TOKYO) in email.body


@pytest.mark.parametrize(("language", "words"), [("en", "No time freed up"), ("de", "kein Termin")])
def test_the_ended_email_names_the_days_in_the_customers_zone(full_day, mailoutbox, language, words):
    provider, start, _ = full_day
    entry = join(provider, KEN, start, language=language)
    now = timezone.now()
    WaitlistEntry.objects.filter(pk=entry.pk).update(
        window_start=now - timedelta(days=1), window_end=now - timedelta(minutes=1)
    )
    waitlist_sweep()
    email = send(entry, "ended", mailoutbox)
    assert words in email.subject
    assert f"https://book.example/s/{entry.service.slug}/" in email.body


def test_an_offer_closed_before_its_email_goes_out_is_skipped(full_day, mailoutbox):
    entry = offered(full_day, "en")
    waitlist_decline(entry_id=entry.pk)
    message = WaitlistMessage.objects.get(entry=entry, kind="offer")
    result = messages_dispatch(pks=[message.pk])
    message.refresh_from_db()
    assert (result.sent, result.closed) == (0, 1)
    assert message.status == WaitlistMessage.Status.SKIPPED
    assert "no longer open" in message.last_error
    assert not mailoutbox


def test_the_offer_links_open_the_accept_and_decline_pages(full_day, mailoutbox):
    entry = offered(full_day, "en")
    email = send(entry, "offer", mailoutbox)
    [accept, decline] = re.findall(r"https://book\.example(/w/\S+/(?:accept|decline)/)", email.body)
    client = Client()
    assert b"Accept by" in client.get(accept).content
    assert client.get(decline).status_code == 200
    assert Booking.objects.get(pk=entry.offer_booking_id).status == "pending"
