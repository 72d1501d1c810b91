"""Times on the visitor's clock: 12-hour for en-US, 24-hour for en-GB, German and no stated region."""

from datetime import timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.urls import reverse

from scheduling.views.calendar import monday_of
from tests.pages.conftest import ny_at

NEW_YORK = ZoneInfo("America/New_York")
CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "site.css"


def _week(client, checkup, language: str) -> str:
    client.cookies["tz"] = quote("America/New_York", safe="")
    week = monday_of(ny_at(3, 14).astimezone(NEW_YORK).date()).isoformat()
    url = reverse("pages:service", args=[checkup.slug])
    return client.get(url, {"week": week, "provider": "bob"}, HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_an_en_us_visitor_reads_a_12_hour_clock(client, checkup):
    html = _week(client, checkup, "en-US,en;q=0.9")

    assert ">2:00 PM</a>" in html
    assert ">14:00</a>" not in html


def test_an_en_gb_visitor_reads_a_24_hour_clock(client, checkup):
    html = _week(client, checkup, "en-GB,en;q=0.9")

    assert ">14:00</a>" in html
    assert "PM</a>" not in html


def test_a_german_visitor_reads_a_24_hour_clock(client, checkup):
    html = _week(client, checkup, "de-DE,de;q=0.9,en-US;q=0.5")

    assert ">14:00</a>" in html


def test_the_booking_form_shows_the_time_on_the_visitors_clock(client, checkup):
    client.cookies["tz"] = quote("America/New_York", safe="")
    start = ny_at(3, 14)
    url = reverse("pages:service_book", args=[checkup.slug])

    html = client.get(
        url, {"provider": "bob", "start": start.strftime("%Y-%m-%dT%H:%M:%SZ")}, HTTP_ACCEPT_LANGUAGE="en-US"
    ).content.decode()

    assert "2:00 PM" in html and "until 2:30 PM" in html
    assert (start + timedelta(minutes=30)).astimezone(NEW_YORK).strftime("%H:%M") not in html


def test_detail_values_never_break_mid_word():
    """`overflow-wrap: anywhere` let the grid squeeze a zone name into "America/Los_Ang / eles" on a phone."""
    css = CSS.read_text()
    details = css[css.index("dl.details dd {") :]
    details = details[: details.index("}")]

    assert "anywhere" not in details
    assert "break-word" in details
