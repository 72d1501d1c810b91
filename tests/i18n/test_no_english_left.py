"""No English sentence is left in German: every customer email kind and customer page is rendered in
English and in German, and no run of three words of the English rendering (once the booking's own
values, such as names, links and zones, are taken out) may appear unchanged in the German one."""

import re
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone, translation

from notifications.channels import OutgoingMessage
from notifications.content import CUSTOMER, REMINDER, _message, links_message
from notifications.models import Channel, Notification
from scheduling import manage_links
from scheduling.models import CancelReason
from tests.factories import service_of
from tests.pages.conftest import daily_provider, free_start, iso, make_booking
from tests.pages.test_booking import post_booking

pytestmark = pytest.mark.django_db

LANGUAGES = ("en", "de")


class _VisibleText(HTMLParser):
    """Text a reader sees, one segment per run of text between tags (scripts and styles left out)."""

    HIDDEN = {"script", "style"}
    BREAKS = {"p", "div", "li", "ul", "br", "h1", "h2", "h3", "td", "th", "tr", "option", "label", "button", "a"}

    def __init__(self) -> None:
        super().__init__()
        self.segments: list[str] = [""]
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in self.HIDDEN
        if tag in self.BREAKS:
            self.segments.append("")

    def handle_endtag(self, tag):
        self._hidden -= tag in self.HIDDEN
        if tag in self.BREAKS:
            self.segments.append("")

    def handle_data(self, data):
        if not self._hidden:
            self.segments[-1] += data


def segments(body: str, *, html: bool) -> set[str]:
    if html:
        parser = _VisibleText()
        parser.feed(body)
        pieces = parser.segments
    else:
        pieces = body.splitlines()
    return {" ".join(piece.split()) for piece in pieces if piece.strip()}


WORD = re.compile(r"^[(\"']?[^\W\d_]+(?:['\u2019-][^\W\d_]+)*[)\"'.,:;!?]*$")
NOT_PROSE = re.compile(r"\S+@\S+|https?://\S+|\b[A-Z][a-z]+/[A-Za-z_/]+\b")


def english_runs(segment: str, values: list[str]) -> list[str]:
    """Every run of three words in a row in the segment, once the booking's own values (names,
    addresses, links, zones) are cut out: what a translation must have changed."""
    text = NOT_PROSE.sub(" | ", segment)
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, " | ")
    runs = []
    for chunk in text.split("|"):
        words = chunk.split()
        runs += [" ".join(words[i : i + 3]) for i in range(len(words) - 2) if all(map(WORD.match, words[i : i + 3]))]
    return runs


def english_left(english: str, german: str, *, html: bool, values: list[str]) -> list[str]:
    german_text = " ".join(" ".join(segments(german, html=html)).split())
    return sorted(
        {run for segment in segments(english, html=html) for run in english_runs(segment, values) if run in german_text}
    )


@pytest.fixture
def provider(db):
    return daily_provider(
        name="Dr. Ada Molar", slug="dentist", price="100.00", late_cancel_fee="25.00", free_cancel_hours=24
    )


def values_of(provider) -> list[str]:
    return [provider.name, service_of(provider).name, "Ann Example"]


def _email(booking, kind: str, language: str, channel: str = Channel.EMAIL) -> OutgoingMessage:
    booking.language = language
    return _message(
        kind=kind, booking=booking, recipient=CUSTOMER, channel=channel, to="x", key="k", now=timezone.now()
    )


def _assert_message_german(render, values):
    english, german = render("en"), render("de")
    left = []
    for part, html in (("subject", False), ("text", False), ("html", True)):
        left += english_left(getattr(english, part) or "", getattr(german, part) or "", html=html, values=values)
    assert not left, f"English left in German: {left}"
    assert english.text != german.text


CUSTOMER_KINDS = [
    Notification.Kind.CONFIRMATION,
    Notification.Kind.REQUEST_RECEIVED,
    REMINDER,
    Notification.Kind.RESCHEDULE,
    Notification.Kind.PAYMENT_REFUNDED,
]


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS])
@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
def test_a_customer_message_has_no_english_left_in_german(provider, kind, channel):
    booking = make_booking(provider, name="Ann Example")
    if kind == Notification.Kind.RESCHEDULE:
        booking.rescheduled_from = make_booking(provider, free_start(provider, days=5), name="Ann Example")
    if kind == Notification.Kind.REQUEST_RECEIVED:
        booking.hold_expires_at = timezone.now() + timedelta(hours=2)
    _assert_message_german(lambda language: _email(booking, kind, language, channel), values_of(provider))


@pytest.mark.parametrize("reason", CancelReason.values)
def test_a_cancellation_for_each_reason_has_no_english_left_in_german(provider, reason):
    booking = make_booking(provider, name="Ann Example")
    booking.cancel_reason = reason
    booking.cancellation_fee, booking.refund_amount = Decimal("25.00"), Decimal("75.00")
    _assert_message_german(
        lambda language: _email(booking, Notification.Kind.CANCELLATION, language), values_of(provider)
    )


def test_the_links_email_has_no_english_left_in_german(provider):
    booking = make_booking(provider, name="Ann Example")
    make_booking(provider, free_start(provider, days=5), name="Ann Example")
    notification = Notification(
        booking=booking, kind=Notification.Kind.LINKS, recipient=CUSTOMER, address=booking.customer_email, dedup_key="k"
    )

    def render(language):
        booking.language = language
        with translation.override(language):
            return links_message(notification, now=timezone.now())

    _assert_message_german(render, values_of(provider))


def _pages(provider, client: Client, paid_online=None) -> dict[str, str]:
    """Every customer page, as this client sees it: the booking made through the form is its own."""
    service = service_of(provider)
    start = free_start(provider)
    confirmation = client.get(post_booking(client, provider, start)["Location"])
    booking = make_booking(provider, free_start(provider, days=6), name="Ann Example")
    manage = manage_links.manage_path(booking)
    urls = {
        "home": "/",
        "provider": f"/p/{provider.slug}/",
        "service": f"/s/{service.slug}/",
        "booking form": f"/p/{provider.slug}/book/?start={iso(free_start(provider, days=4))}",
        "manage": manage,
        "cancel": f"{manage}cancel/",
        "reschedule": f"{manage}reschedule/",
        "links": "/links/",
        "404": "/no-such-page/",
    }
    pages = {name: client.get(url).content.decode() for name, url in urls.items()}
    pages["confirmation"] = confirmation.content.decode()
    pages["checkout"] = client.get(
        post_booking(client, paid_online, free_start(paid_online))["Location"]
    ).content.decode()
    held = make_booking(paid_online, free_start(paid_online, days=6), name="Ann Example")
    pages["manage, payment due"] = client.get(manage_links.manage_path(held)).content.decode()
    return pages


def test_the_customer_pages_have_no_english_left_in_german(provider):
    paid_online = daily_provider(name="Studio Nord", slug="studio-nord", price="80.00", payment_mode="online")
    english = _pages(provider, Client(HTTP_ACCEPT_LANGUAGE="en"), paid_online)
    german = _pages(provider, Client(HTTP_ACCEPT_LANGUAGE="de"), paid_online)
    values = [*values_of(provider), "Kenji Sato", "Studio Nord"]
    left = {
        name: english_left(english[name], german[name], html=True, values=values)
        for name in english
        if english_left(english[name], german[name], html=True, values=values)
    }
    assert not left, f"English left in German: {left}"
    assert '<html lang="de"' in german["home"]


def _waitlist_entry(provider, language: str):
    """An entry with a live offer on the provider's day three ahead, made full and then freed."""
    from scheduling.services import CustomerData, booking_cancel
    from waitlist.services import Window, offers_make, waitlist_join

    start = free_start(provider)
    day = start.replace(hour=0, minute=0, second=0)
    taken = make_booking(provider, start, name="Someone Else", email="else@example.com")
    for _ in range(17):  # fill the rest of the day, so the freed slot is the only one
        slot = free_start(provider)
        if slot >= day + timedelta(days=1):
            break
        make_booking(provider, slot, name="Someone Else", email="else@example.com")
    entry = waitlist_join(
        service_id=service_of(provider).pk,
        customer=CustomerData(name="Ann Example", email=f"ann-{language}@example.com", timezone="Europe/Berlin"),
        window=Window(start=day, end=day + timedelta(days=1)),
        language=language,
    )
    booking_cancel(booking_id=taken.pk)
    offers_make(service_id=service_of(provider).pk)
    entry.refresh_from_db()
    assert entry.status == "offered"
    return entry


@pytest.mark.parametrize("kind", ["joined", "offer", "closed", "booked", "ended"])
def test_a_waitlist_email_has_no_english_left_in_german(provider, kind):
    from waitlist.content import message_for
    from waitlist.models import WaitlistMessage

    entry = _waitlist_entry(provider, "en")
    message = WaitlistMessage(
        entry=entry, booking=entry.offer_booking, kind=kind, address=entry.customer_email, dedup_key="k"
    )

    def render(language):
        entry.language = language
        return message_for(message, now=timezone.now())

    _assert_message_german(render, values_of(provider))


def test_the_waitlist_pages_have_no_english_left_in_german(provider):
    from waitlist import links

    entry = _waitlist_entry(provider, "en")
    service = service_of(provider)
    urls = {
        "join": f"/s/{service.slug}/waitlist/",
        "entry": links.entry_path(entry),
        "accept": links.entry_path(entry, "waitlist_accept"),
        "decline": links.entry_path(entry, "waitlist_decline"),
    }
    english = {name: Client(HTTP_ACCEPT_LANGUAGE="en").get(url).content.decode() for name, url in urls.items()}
    german = {name: Client(HTTP_ACCEPT_LANGUAGE="de").get(url).content.decode() for name, url in urls.items()}
    values = [*values_of(provider), "Europe/Berlin"]
    left = {name: english_left(english[name], german[name], html=True, values=values) for name in urls}
    assert not any(left.values()), f"English left in German: {left}"
    assert "Warteliste" in german["entry"]
