"""Locale-aware times: the clock and date order follow the active language; the zone is always named."""

from datetime import UTC, datetime

import pytest
from django.utils import translation

from scheduling.formatting import (
    clock,
    duration,
    local_date,
    local_time,
    locale_style,
    service_with_provider,
    uses_12_hour_clock,
)

# 13:00 UTC is 09:00 in New York (EDT) and 14:00 in Berlin (CET) on Monday 15 March 2027.
INSTANT = datetime(2027, 3, 15, 13, 0, tzinfo=UTC)


def test_english_keeps_the_24_hour_clock_and_day_month_date():
    with translation.override("en"):
        assert local_time(INSTANT, "America/New_York") == "Mon 15 Mar 2027, 09:00 EDT (America/New_York)"


def test_english_without_date_is_the_time_and_zone():
    with translation.override("en"):
        assert local_time(INSTANT, "America/New_York", with_date=False) == "09:00 EDT (America/New_York)"


def test_us_english_uses_a_12_hour_clock_and_month_day_date():
    with translation.override("en-us"):
        assert local_time(INSTANT, "America/New_York") == "Mon, Mar 15, 2027, 9:00 AM EDT (America/New_York)"


def test_us_english_afternoon_reads_pm():
    with translation.override("en-us"):
        assert clock(INSTANT, "Europe/Berlin") == "2:00 PM"


def test_british_english_uses_a_24_hour_clock():
    with translation.override("en-gb"):
        assert local_time(INSTANT, "Europe/London") == "Mon 15 Mar 2027, 13:00 GMT (Europe/London)"


def test_german_uses_german_names_and_a_24_hour_clock():
    with translation.override("de"):
        assert local_time(INSTANT, "Europe/Berlin") == "Mo, 15. März 2027, 14:00 CET (Europe/Berlin)"


def test_an_explicit_language_wins_over_the_active_one():
    with translation.override("de"):
        assert clock(INSTANT, "America/New_York", language="en-us") == "9:00 AM"


@pytest.mark.parametrize(("language", "twelve"), [("en-us", True), ("en", False), ("en-gb", False), ("de", False)])
def test_which_locales_read_a_12_hour_clock(language, twelve):
    assert uses_12_hour_clock(language) is twelve


def test_a_regional_variant_takes_its_base_language_style():
    assert locale_style("de-at") == locale_style("de")


def test_an_unknown_locale_reads_day_month_with_a_24_hour_clock():
    assert (locale_style("fr").time, locale_style("fr").short_date) == ("H:i", "D j M")


def test_short_date_in_us_english_puts_the_month_first():
    assert local_date(INSTANT, "America/New_York", year=False, language="en-us") == "Mon, Mar 15"


@pytest.mark.parametrize(
    ("language", "minutes", "text"),
    [("en", 1440, "1 day"), ("en", 2160, "36 hours"), ("en", 90, "90 minutes"), ("de", 120, "2 Stunden")],
)
def test_duration_in_words(language, minutes, text):
    with translation.override(language):
        assert duration(minutes) == text


def test_service_with_provider_is_translated():
    with translation.override("de"):
        assert service_with_provider("Cleaning", "Dr Ada") == "Cleaning mit Dr Ada"
