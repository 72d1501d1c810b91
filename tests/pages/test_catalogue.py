"""The provider list, a provider's week of free times, and the zone picker."""

from datetime import date, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduling.views.calendar import monday_of
from tests.factories import AvailabilityRuleFactory, ProviderFactory
from tests.pages.conftest import daily_provider, free_start, iso, make_booking, opening_start

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def tokyo_cookie(client):
    client.cookies["tz"] = quote("Asia/Tokyo", safe="")


# --- home -----------------------------------------------------------------------------------------


def test_home_lists_active_providers_with_kind_and_zone(client):
    ProviderFactory(name="Spree Room", slug="room", kind="room", timezone="Europe/Berlin")
    ProviderFactory(name="Retired Printer", slug="old", kind="equipment", is_active=False)

    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Spree Room" in html and "Room" in html and "Europe/Berlin" in html
    assert reverse("pages:provider", args=["room"]) in html
    assert "Retired Printer" not in html


def test_home_without_providers_says_so(client):
    response = client.get("/")

    assert response.status_code == 200
    assert "no services or providers taking bookings" in response.content.decode()


def test_provider_names_are_escaped(client):
    ProviderFactory(name="<script>alert(1)</script>", slug="xss")

    html = client.get("/").content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_pages_use_local_assets_only(client):
    html = client.get("/").content.decode()

    assert "/static/css/site.css" in html and "/static/js/zone.js" in html
    assert "http://" not in html and "https://" not in html


# --- provider page --------------------------------------------------------------------------------


def test_without_a_zone_cookie_the_page_shows_the_providers_zone_and_marks_it_a_fallback(client, provider):
    response = client.get(reverse("pages:provider", args=[provider.slug]))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-tz="America/New_York" data-tz-fallback' in html
    assert "the provider's zone; pick yours above" in html
    first = free_start(provider, days=0)
    assert f'data-start="{iso(first)}"' in html
    assert f">{first.astimezone(NEW_YORK):%H:%M}</a>" in html


def test_a_zone_cookie_shows_the_week_in_the_visitors_zone(client, provider):
    tokyo_cookie(client)
    first = free_start(provider, days=0)

    html = client.get(reverse("pages:provider", args=[provider.slug])).content.decode()

    assert 'data-tz="Asia/Tokyo"' in html and "data-tz-fallback" not in html
    assert "Dr. Ada Molar works in America/New_York" in html
    local = first.astimezone(TOKYO)
    assert f'data-day="{local:%Y-%m-%d}"' in html
    assert f">{local:%H:%M}</a>" in html
    # The slot links carry the instant in UTC.
    assert f"/p/dentist/book/?start={quote(iso(first), safe='')}" in html


def test_an_unknown_zone_in_the_cookie_is_ignored(client, provider):
    client.cookies["tz"] = "Mars/Olympus_Mons"

    html = client.get(reverse("pages:provider", args=[provider.slug])).content.decode()

    assert 'data-tz="America/New_York" data-tz-fallback' in html


def test_week_links_page_forward_and_back_within_the_horizon(client, provider):
    url = reverse("pages:provider", args=[provider.slug])
    this_monday = monday_of(timezone.now().astimezone(NEW_YORK).date())
    later = this_monday + timedelta(days=14)

    html = client.get(url, {"week": later.isoformat()}).content.decode()

    assert f'href="{url}?week={(later - timedelta(days=7)).isoformat()}" rel="prev"' in html
    assert f'href="{url}?week={(later + timedelta(days=7)).isoformat()}" rel="next"' in html
    assert f'data-day="{later.isoformat()}"' in html
    # This week has no previous link; a week past the horizon is clamped to the last one.
    assert 'rel="prev"' not in client.get(url, {"week": this_monday.isoformat()}).content.decode()
    far = client.get(url, {"week": "2999-01-01"}).content.decode()
    assert 'rel="next"' not in far and 'rel="prev"' in far


def test_a_malformed_week_falls_back_to_the_first_week_with_free_times(client, provider):
    response = client.get(reverse("pages:provider", args=[provider.slug]), {"week": "not-a-date"})

    assert response.status_code == 200
    assert 'class="slot"' in response.content.decode()


def test_the_page_lands_on_the_first_week_with_free_times(client):
    starts = timezone.now().astimezone(NEW_YORK).date() + timedelta(days=30)
    provider = ProviderFactory(slug="later", timezone="America/New_York")
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", starts_on=starts)

    html = client.get(reverse("pages:provider", args=[provider.slug])).content.decode()

    assert f'data-day="{monday_of(starts).isoformat()}"' in html
    assert 'class="slot"' in html


def test_an_empty_week_says_so_and_jumps_to_the_next_week_with_free_times(client):
    starts = timezone.now().astimezone(NEW_YORK).date() + timedelta(days=30)
    provider = ProviderFactory(slug="later", timezone="America/New_York")
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", starts_on=starts)
    url = reverse("pages:provider", args=[provider.slug])
    this_monday = monday_of(timezone.now().astimezone(NEW_YORK).date())

    html = client.get(url, {"week": this_monday.isoformat()}).content.decode()

    assert "No free times this week" in html
    assert f'href="{url}?week={monday_of(starts).isoformat()}">Jump to the next week with free times' in html


def test_a_provider_with_nothing_free_in_the_horizon_says_so(client):
    provider = ProviderFactory(slug="closed", max_advance_days=30)

    html = client.get(reverse("pages:provider", args=[provider.slug])).content.decode()

    assert "No free times this week" in html
    assert "no free times in the next 30 days" in html
    assert "Jump to" not in html


def test_booked_times_are_not_offered(client, provider):
    start = opening_start(provider)
    make_booking(provider, start)

    html = client.get(reverse("pages:provider", args=[provider.slug]), {"week": str(start.date())}).content.decode()

    assert f'data-start="{iso(start)}"' not in html
    assert f'data-start="{iso(start + timedelta(minutes=30))}"' in html


def test_a_day_whose_offset_changes_names_the_zone_on_each_time(client):
    # Open through the night in New York; a viewer in New York sees the repeated 01:xx hour in November.
    provider = daily_provider(slug="night", max_advance_days=800)
    AvailabilityRuleFactory(provider=provider, rrule="FREQ=DAILY", start_time=time(0))
    now = timezone.now()
    year = now.year if now.month < 10 else now.year + 1
    fall_back = date(year, 11, 1) + timedelta(days=(6 - date(year, 11, 1).weekday()) % 7)  # first Sunday
    client.cookies["tz"] = quote("America/New_York", safe="")

    html = client.get(reverse("pages:provider", args=[provider.slug]), {"week": str(fall_back)}).content.decode()

    assert ">01:00 EDT</a>" in html and ">01:00 EST</a>" in html


def test_unknown_and_inactive_providers_get_the_friendly_404(client):
    ProviderFactory(slug="gone", is_active=False)

    for slug in ("nobody", "gone"):
        response = client.get(reverse("pages:provider", args=[slug]))
        assert response.status_code == 404
        assert "We couldn't find that page" in response.content.decode()


def test_an_unknown_url_gets_the_friendly_404(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()


# --- zone picker ----------------------------------------------------------------------------------


def test_the_zone_picker_lists_iana_zones_common_first(client, provider):
    html = client.get(reverse("pages:provider", args=[provider.slug])).content.decode()

    assert '<optgroup label="Common time zones">' in html
    assert html.index('value="Asia/Tokyo"') < html.index('<optgroup label="All time zones">')
    assert 'value="Pacific/Chatham"' in html
    assert 'value="Etc/GMT+5"' not in html and 'value="US/Eastern"' not in html
    assert '<option value="America/New_York" selected>' in html


def test_choosing_a_zone_remembers_it_and_returns_to_the_page(client, provider):
    page = reverse("pages:provider", args=[provider.slug]) + "?week=2030-01-07"

    response = client.post(reverse("pages:zone"), {"tz": "Asia/Tokyo", "next": page})

    assert response.status_code == 302
    assert response["Location"] == page
    assert response.cookies["tz"].value == "Asia%2FTokyo"
    assert 'data-tz="Asia/Tokyo"' in client.get(page).content.decode()


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/p/", "http://testserver.evil.example/", "javascript:alert(1)"]
)
def test_the_zone_picker_never_redirects_off_site(client, next_url):
    response = client.post(reverse("pages:zone"), {"tz": "Asia/Tokyo", "next": next_url})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_an_unknown_zone_is_not_remembered(client):
    response = client.post(reverse("pages:zone"), {"tz": "Etc/GMT+5", "next": "/"})

    assert response.status_code == 302
    assert "tz" not in response.cookies


def test_the_zone_picker_only_accepts_post(client):
    assert client.get(reverse("pages:zone")).status_code == 405
