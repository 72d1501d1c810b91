"""Services on the customer pages: the home list, a provider offering several, the service page with
"any available" or a chosen provider, booking from it and the "just taken" flow."""

from datetime import datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduling.models import Booking
from scheduling.services import CustomerData, booking_create
from scheduling.views.calendar import monday_of
from tests.factories import ProviderFactory, ServiceFactory
from tests.pages.conftest import daily_provider, iso, ny_at, open_daily

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def week_of(start: datetime) -> str:
    return monday_of(start.astimezone(NEW_YORK).date()).isoformat()


def book_with(provider, service, start, email="first@example.com"):
    return booking_create(
        service_id=service.pk,
        provider_id=provider.pk,
        start=start,
        customer=CustomerData(name="First", email=email, timezone="America/New_York"),
    )


def service_book_url(service, start, provider=None) -> str:
    url = f"{reverse('pages:service_book', args=[service.slug])}?start={quote(iso(start), safe='')}"
    return f"{url}&provider={provider.slug}" if provider else url


def details(**overrides) -> dict:
    return {"name": "Kenji Sato", "email": "kenji@example.com", "phone": "", "timezone": "Asia/Tokyo"} | overrides


def starts_on_page(html: str) -> set[str]:
    return {part.split('"', 1)[0] for part in html.split('data-start="')[1:]}


# --- home -----------------------------------------------------------------------------------------


def test_home_lists_active_services_with_duration_price_and_who_offers_them(client, checkup, ann):
    ServiceFactory(name="Retired Scan", slug="scan", is_active=False, providers=[ann])
    nobody = ProviderFactory(name="Gone", slug="gone", is_active=False, with_service=False)
    ServiceFactory(name="Orphan", slug="orphan", providers=[nobody])

    html = client.get("/").content.decode()

    item = html.split('data-service="check-up"')[1].split("</li>")[0]
    assert f'href="{reverse("pages:service", args=["check-up"])}"' in item
    assert "Check-up" in item and "30 minutes · 60.00 USD" in item
    assert "With Ann Lee or Bob Diaz" in item
    assert "Retired Scan" not in html and "Orphan" not in html
    # The providers stay listed below the services.
    assert html.index('data-service="check-up"') < html.index('data-provider="ann"')


def test_home_names_a_providers_own_service_without_repeating_the_provider(client):
    daily_provider(name="Dr. Ada Molar", slug="dentist", duration_minutes=45)

    item = client.get("/").content.decode().split('data-service="dentist"')[1].split("</li>")[0]

    assert "45 minutes" in item and "With" not in item


# --- a provider's page ----------------------------------------------------------------------------


def test_a_provider_offering_several_services_lists_them_linking_to_each_with_it_chosen(client, checkup, ann):
    ServiceFactory(name="Cleaning", slug="cleaning", duration_minutes=60, price="90.00", providers=[ann])

    response = client.get(reverse("pages:provider", args=["ann"]))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="{reverse("pages:service", args=["check-up"])}?provider=ann"' in html
    assert f'href="{reverse("pages:service", args=["cleaning"])}?provider=ann"' in html
    assert "60 minutes · 90.00 USD" in html and "30 minutes · 60.00 USD" in html
    assert 'class="slot"' not in html


def test_a_provider_offering_several_services_has_no_booking_page_of_its_own(client, checkup, ann):
    ServiceFactory(name="Cleaning", slug="cleaning", providers=[ann])
    start = ny_at(3, 10)

    response = client.get(f"{reverse('pages:book', args=['ann'])}?start={quote(iso(start), safe='')}")

    assert response.status_code == 302
    assert response["Location"] == reverse("pages:provider", args=["ann"])
    assert client.post(reverse("pages:book", args=["ann"]), {"start": iso(start), **details()}).status_code == 302
    assert not Booking.objects.exists()


def test_a_provider_whose_one_service_is_shared_keeps_its_own_week_and_booking(client, checkup, ann):
    start = ny_at(3, 14)  # Bob's hours only

    html = client.get(reverse("pages:provider", args=["ann"]), {"week": week_of(start)}).content.decode()

    assert f'data-start="{iso(ny_at(3, 10))}"' in html
    assert f'data-start="{iso(start)}"' not in html
    assert f"/p/ann/book/?start={quote(iso(ny_at(3, 10)), safe='')}" in html
    response = client.post(
        f"/p/ann/book/?start={quote(iso(ny_at(3, 10)), safe='')}", {"start": iso(ny_at(3, 10)), **details()}
    )
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert (booking.provider, booking.service) == (ann, checkup)


# --- the service page -----------------------------------------------------------------------------


def test_any_available_is_the_default_and_shows_the_union_of_free_times(client, checkup):
    html = client.get(reverse("pages:service", args=["check-up"]), {"week": week_of(ny_at(3, 10))}).content.decode()

    choice = html.split('data-testid="provider-choice"')[1].split("</nav>")[0]
    assert 'aria-current="page">Any available</a>' in choice
    assert "Ann Lee</a>" in choice and "Bob Diaz</a>" in choice
    starts = starts_on_page(html)
    assert iso(ny_at(3, 10)) in starts and iso(ny_at(3, 14)) in starts  # Ann's and Bob's hours
    assert f"/s/check-up/book/?start={quote(iso(ny_at(3, 14)), safe='')}" in html
    assert "provider=" not in html.split('class="week"')[1]


def test_a_chosen_provider_shows_only_its_times_and_its_links_keep_the_choice(client, checkup):
    url = reverse("pages:service", args=["check-up"])

    html = client.get(url, {"week": week_of(ny_at(3, 10)), "provider": "ann"}).content.decode()

    assert 'aria-current="page">Ann Lee</a>' in html
    starts = starts_on_page(html)
    assert iso(ny_at(3, 10)) in starts and iso(ny_at(3, 14)) not in starts
    assert f"/s/check-up/book/?start={quote(iso(ny_at(3, 10)), safe='')}&amp;provider=ann" in html
    assert 'rel="next"' in html and "provider=ann" in html.split('rel="next"')[0].rsplit("href=", 1)[1]


def test_a_taken_time_stays_offered_while_another_provider_is_free(client, checkup, ann, bob):
    start = ny_at(3, 10)
    book_with(ann, checkup, start)
    url = reverse("pages:service", args=["check-up"])

    assert iso(start) in starts_on_page(client.get(url, {"week": week_of(start)}).content.decode())
    ann_only = client.get(url, {"week": week_of(start), "provider": "ann"}).content.decode()
    assert iso(start) not in starts_on_page(ann_only)
    book_with(bob, checkup, start, email="second@example.com")
    assert iso(start) not in starts_on_page(client.get(url, {"week": week_of(start)}).content.decode())


def test_a_service_with_one_provider_books_with_it_without_an_any_choice(client, ann):
    ServiceFactory(name="Scan", slug="scan", providers=[ann])

    html = client.get(reverse("pages:service", args=["scan"])).content.decode()

    assert "Any available" not in html
    assert 'aria-current="page">Ann Lee</a>' in html
    assert "&amp;provider=ann" in html


@pytest.mark.parametrize("query", [{"provider": "nobody"}, {"provider": "carol"}])
def test_a_provider_not_offering_the_service_is_the_friendly_404(client, checkup, query):
    open_daily(ProviderFactory(name="Carol", slug="carol"), 9, 17)

    for url in (reverse("pages:service", args=["check-up"]), reverse("pages:service_book", args=["check-up"])):
        response = client.get(url, query)
        assert response.status_code == 404
        assert "We couldn't find that page" in response.content.decode()


def test_unknown_and_inactive_services_are_the_friendly_404(client, ann):
    ServiceFactory(slug="old", is_active=False, providers=[ann])

    for slug in ("nothing", "old"):
        assert client.get(reverse("pages:service", args=[slug])).status_code == 404


def test_the_service_page_lands_on_the_first_week_anyone_is_free_and_jumps_to_it(client):
    starts = timezone.now().astimezone(NEW_YORK).date() + timedelta(days=30)
    later = open_daily(ProviderFactory(slug="later", with_service=False), 9, 17, starts_on=starts)
    never = ProviderFactory(slug="never", with_service=False)
    ServiceFactory(slug="massage", providers=[later, never], max_advance_days=120)
    url = reverse("pages:service", args=["massage"])

    landing = client.get(url).content.decode()
    empty = client.get(url, {"week": monday_of(timezone.now().astimezone(NEW_YORK).date()).isoformat()})

    assert f'data-day="{monday_of(starts).isoformat()}"' in landing and 'class="slot"' in landing
    html = empty.content.decode()
    assert "No free times this week" in html
    assert f'href="{url}?week={monday_of(starts).isoformat()}">Jump to the next week with free times' in html


def test_the_service_page_shows_times_in_the_visitors_zone(client, checkup):
    client.cookies["tz"] = quote("Asia/Tokyo", safe="")
    start = ny_at(3, 10)

    week = monday_of(start.astimezone(TOKYO).date()).isoformat()
    html = client.get(reverse("pages:service", args=["check-up"]), {"week": week}).content.decode()

    assert 'data-tz="Asia/Tokyo"' in html
    assert f'data-day="{start.astimezone(TOKYO):%Y-%m-%d}"' in html
    assert f">{start.astimezone(TOKYO):%H:%M}</a>" in html
    assert "Ann Lee works in America/New_York" in html


# --- booking from the service page ----------------------------------------------------------------


def test_booking_any_available_assigns_a_free_provider_and_the_confirmation_names_it(client, checkup, ann, bob):
    start = ny_at(3, 10)
    book_with(ann, checkup, start)

    form = client.get(service_book_url(checkup, start))
    response = client.post(service_book_url(checkup, start), {"start": iso(start), **details()})

    assert form.status_code == 200 and "any available provider" in form.content.decode()
    assert response.status_code == 302
    mine = Booking.objects.get(customer__email="kenji@example.com")
    assert (mine.provider, mine.service) == (bob, checkup)
    page = client.get(response["Location"]).content.decode()
    assert '<dd data-testid="what">Check-up with Bob Diaz</dd>' in page


def test_booking_with_a_chosen_provider_books_that_provider(client, checkup, ann):
    start = ny_at(3, 10)

    response = client.post(service_book_url(checkup, start, ann), {"start": iso(start), **details()})

    assert response.status_code == 302
    assert Booking.objects.get().provider == ann
    assert "Check-up with Ann Lee" in client.get(response["Location"]).content.decode()


def test_when_every_provider_was_taken_meanwhile_the_form_offers_the_nearest_union_times(client, checkup, ann, bob):
    start = ny_at(3, 10)
    form = client.get(service_book_url(checkup, start))
    book_with(ann, checkup, start)
    book_with(bob, checkup, start, email="second@example.com")

    response = client.post(service_book_url(checkup, start), {"start": iso(start), **details()})

    html = response.content.decode()
    assert form.status_code == 200
    assert response.status_code == 409
    assert "someone else has just booked this time" in html
    assert 'value="kenji@example.com"' in html
    offered = {part.split('"', 1)[0] for part in html.split('name="choose_start" value="')[1:]}
    assert len(offered) == 3 and {iso(start - timedelta(minutes=30)), iso(start + timedelta(minutes=30))} <= offered
    later = iso(start + timedelta(minutes=30))
    again = client.post(service_book_url(checkup, start), {"start": iso(start), "choose_start": later, **details()})
    assert again.status_code == 302
    assert iso(Booking.objects.get(customer__email="kenji@example.com").start_at) == later


def test_a_link_to_a_time_every_provider_has_taken_says_just_taken(client, checkup, ann, bob):
    start = ny_at(3, 10)
    book_with(ann, checkup, start)
    book_with(bob, checkup, start, email="second@example.com")

    response = client.get(service_book_url(checkup, start))

    assert response.status_code == 409
    assert "just been booked by someone else" in response.content.decode()
    assert 'data-testid="alternatives"' in response.content.decode()


def test_a_start_no_provider_offers_is_explained_by_the_service(client, checkup):
    response = client.get(service_book_url(checkup, ny_at(3, 10, 10)))

    assert response.status_code == 400
    assert "No Check-up starts at that time." in response.content.decode()
