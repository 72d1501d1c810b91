"""The customer pages in German: translated strings, German dates and a 24-hour clock."""

from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from scheduling.views.calendar import monday_of
from tests.pages.conftest import ny_at

LOCALE = Path(__file__).resolve().parents[2] / "locale"
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def german(settings):
    call_command("compilemessages", locale=["de"], verbosity=0)
    with override_settings(LOCALE_PATHS=[str(LOCALE)], LANGUAGE_CODE="de"):
        yield


def test_the_week_page_reads_in_german_on_a_24_hour_clock(client, checkup, german):
    client.cookies["tz"] = quote("America/New_York", safe="")
    week = monday_of(ny_at(3, 14).astimezone(NEW_YORK).date()).isoformat()

    html = client.get(
        reverse("pages:service", args=[checkup.slug]), {"week": week, "provider": "bob"}, HTTP_ACCEPT_LANGUAGE="de-DE"
    ).content.decode()

    assert "Zum Datum" in html and "Woche vom" in html
    assert ">14:00</a>" in html


def test_the_home_page_reads_in_german(client, checkup, german):
    html = client.get(reverse("pages:home")).content.decode()

    assert "Einen Termin buchen" in html and "30 Minuten" in html
