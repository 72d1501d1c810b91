"""No page request makes a 500, and every error page has the site's look (issue 11)."""

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.admin.conftest import open_all_day
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EDGE_YEARS = ["9999-12-31", "0001-01-01"]
SITE_LOOK = 'class="site-header"'


@pytest.fixture
def lenient(client):
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize("day", EDGE_YEARS)
def test_the_booking_page_for_a_start_in_an_edge_year_is_a_400_page(lenient, provider, day):
    for start in (f"{day}T23:59:00Z", f"{day}T00:00:00-05:00"):
        response = lenient.get(reverse("pages:book", args=[provider.slug]), {"start": start})
        assert response.status_code == 400
        assert SITE_LOOK in response.content.decode()


@pytest.mark.parametrize("path", ["/b/AB%00CD/x/", "/b/AB%00CD/x/calendar.ics", "/p/a%00b/", "/admin/scheduling/"
                                  "provider/1%00/change/"])  # fmt: skip
def test_a_nul_in_a_url_is_the_404_page(lenient, path):
    response = lenient.get(path)
    assert response.status_code == 404
    assert SITE_LOOK in response.content.decode()


def test_a_nul_in_a_query_parameter_is_the_400_page(lenient, provider):
    response = lenient.get(reverse("pages:provider", args=[provider.slug]) + "?week=%00")
    assert response.status_code == 400
    assert "We couldn't read that request" in response.content.decode()


@pytest.fixture
def as_superuser(lenient):
    lenient.force_login(UserFactory(username="root", is_superuser=True))
    return lenient


@pytest.mark.parametrize("day", EDGE_YEARS)
@pytest.mark.parametrize("span", ["day", "week"])
def test_the_admin_agenda_for_an_edge_year_is_a_400(as_superuser, day, span):
    provider = open_all_day(timezone="America/New_York")
    response = as_superuser.get(f"/admin/scheduling/provider/{provider.pk}/agenda/{span}/", {"date": day})
    assert response.status_code == 400
    assert SITE_LOOK in response.content.decode()


@pytest.mark.parametrize("day", EDGE_YEARS)
def test_the_admin_booking_form_for_an_edge_year_is_a_400(as_superuser, day):
    provider = open_all_day(timezone="America/New_York")
    response = as_superuser.get("/admin/scheduling/booking/add/", {"provider": provider.pk, "date": day})
    assert response.status_code == 400


@pytest.mark.parametrize("day", EDGE_YEARS)
def test_a_blocked_time_typed_in_an_edge_year_is_a_form_error_not_a_500(as_superuser, day):
    """9999-12-31 23:00 in Los Angeles is past the last instant a datetime can hold once put in UTC."""
    provider = open_all_day(timezone="America/Los_Angeles")
    response = as_superuser.post(
        "/admin/scheduling/blockedtime/add/",
        {"provider": provider.pk, "start_at_0": day, "start_at_1": "23:00", "end_at_0": day, "end_at_1": "23:30"},
    )
    assert response.status_code == 200
    assert "Use a date between 1900 and 2200." in response.content.decode()
    assert not provider.blocked_times.exists()


@override_settings(ROOT_URLCONF="tests.error_urls")
@pytest.mark.parametrize(
    ("path", "status", "heading"),
    [
        ("/raise/bad-request/", 400, "We couldn't read that request"),
        ("/raise/suspicious/", 400, "We couldn't read that request"),
        ("/raise/permission-denied/", 403, "You can't open this page"),
        ("/raise/not-found/", 404, "We couldn't find that page"),
        ("/raise/crash/", 500, "Something went wrong on our side"),
    ],
)
def test_django_errors_outside_the_api_are_the_sites_own_pages(lenient, path, status, heading):
    response = lenient.get(path)
    assert response.status_code == status
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert f"<h1>{heading}</h1>" in body
    assert SITE_LOOK in body


def test_the_throttled_page_is_the_sites_429_page(client, provider, settings, private_cache):
    settings.BOOKING_POST_RATE = (1, 60)
    url = reverse("pages:book", args=[provider.slug])
    client.post(url, {"start": "bad"})
    response = client.post(url, {"start": "bad"})
    assert response.status_code == 429
    assert response.templates[0].name == "429.html"
    assert SITE_LOOK in response.content.decode()
