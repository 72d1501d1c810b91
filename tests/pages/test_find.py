"""The home page's search and kind filter, the zone picker there, and jumping to a date."""

from datetime import timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from scheduling.views.calendar import monday_of
from tests.factories import ProviderFactory, ServiceFactory
from tests.pages.conftest import daily_provider

NEW_YORK = ZoneInfo("America/New_York")


def test_the_home_search_keeps_only_matching_services(client, db):
    ServiceFactory(name="Tooth cleaning", slug="cleaning", providers=[ProviderFactory(with_service=False)])
    ServiceFactory(name="Massage", slug="massage", providers=[ProviderFactory(with_service=False)])

    html = client.get(reverse("pages:home"), {"q": "tooth"}).content.decode()

    assert 'data-service="cleaning"' in html
    assert 'data-service="massage"' not in html
    assert 'value="tooth"' in html


def test_the_home_kind_filter_keeps_only_that_kind(client, db):
    room = ProviderFactory(name="Studio B", slug="studio-b", kind="room", with_service=False)
    person = ProviderFactory(name="Dr Lee", slug="dr-lee", kind="person", with_service=False)
    ServiceFactory(name="Rehearsal", slug="rehearsal", providers=[room])
    ServiceFactory(name="Check-up", slug="check-up", providers=[person])

    html = client.get(reverse("pages:home"), {"kind": "room"}).content.decode()

    assert 'data-service="rehearsal"' in html and 'data-provider="studio-b"' in html
    assert 'data-service="check-up"' not in html and 'data-provider="dr-lee"' not in html


def test_a_search_matching_nothing_says_so(client, db):
    ServiceFactory(name="Massage", slug="massage", providers=[ProviderFactory(with_service=False)])

    html = client.get(reverse("pages:home"), {"q": "sauna"}).content.decode()

    assert 'data-testid="no-match"' in html


def test_the_home_page_offers_the_zone_picker(client, db):
    client.cookies["tz"] = quote("Asia/Tokyo", safe="")

    html = client.get(reverse("pages:home")).content.decode()

    assert 'data-testid="zone-picker"' in html
    assert '<option value="Asia/Tokyo" selected>' in html


def test_a_date_shows_its_week(client, db):
    provider = daily_provider(slug="daily")
    client.cookies["tz"] = quote("America/New_York", safe="")
    day = timezone.now().astimezone(NEW_YORK).date() + timedelta(days=40)

    html = client.get(reverse("pages:provider", args=["daily"]), {"date": day.isoformat()}).content.decode()

    assert f'data-day="{monday_of(day).isoformat()}"' in html
    assert f'name="date" value="{day.isoformat()}"' in html
    assert provider.name in html


def test_a_date_beyond_the_horizon_says_so(client, db):
    daily_provider(slug="daily", max_advance_days=30)
    client.cookies["tz"] = quote("America/New_York", safe="")
    day = timezone.now().astimezone(NEW_YORK).date() + timedelta(days=60)

    html = client.get(reverse("pages:provider", args=["daily"]), {"date": day.isoformat()}).content.decode()

    assert 'data-testid="asked-note"' in html
    assert "is beyond the booking horizon" in html


def test_days_after_the_horizon_say_so_in_the_last_week(client, db):
    # A horizon ending on a Wednesday, whatever today is: Monday and Tuesday of that week are bookable
    # all day (the week has times to show at any hour the test runs), Thursday to Sunday are beyond it.
    days = next(n for n in range(30, 37) if (timezone.now() + timedelta(days=n)).astimezone(NEW_YORK).weekday() == 2)
    daily_provider(slug="daily", max_advance_days=days)
    client.cookies["tz"] = quote("America/New_York", safe="")
    last = (timezone.now() + timedelta(days=days)).astimezone(NEW_YORK).date()

    html = client.get(reverse("pages:provider", args=["daily"]), {"week": last.isoformat()}).content.decode()

    assert 'data-testid="horizon-note"' in html
    assert html.count("Beyond the booking horizon") == 4
