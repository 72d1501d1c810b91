"""The booking form, its error paths, the race, throttling and the confirmation page."""

import logging
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from scheduling import selectors
from scheduling.formatting import local_time
from scheduling.models import Booking, BookingStatus
from scheduling.views.booking import CONFIRMATION_COOKIE
from tests.factories import CustomerFactory, service_of
from tests.pages.conftest import daily_provider, free_start, iso, make_booking

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def book_url(provider, start) -> str:
    return f"{reverse('pages:book', args=[provider.slug])}?start={quote(iso(start), safe='')}"


def details(**overrides) -> dict:
    typed = {"name": "Kenji Sato", "email": "kenji@example.com", "phone": "+81 3 1234 5678", "timezone": "Asia/Tokyo"}
    return typed | overrides


def post_booking(client, provider, start, **overrides):
    return client.post(book_url(provider, start), {"start": iso(start), **details(**overrides)})


# --- the form -------------------------------------------------------------------------------------


def test_the_form_shows_the_time_in_both_zones_and_the_cancellation_terms(client, provider):
    client.cookies["tz"] = quote("Asia/Tokyo", safe="")
    start = free_start(provider)

    response = client.get(book_url(provider, start))

    html = response.content.decode()
    assert response.status_code == 200
    assert local_time(start, TOKYO) in html
    assert local_time(start, NEW_YORK) in html
    deadline = local_time(start - timedelta(hours=24), TOKYO)
    assert f"Cancel free of charge until {deadline}" in html
    assert "late fee of 25.00 USD" in html
    assert '<option value="Asia/Tokyo" selected>' in html
    for name in ("name", "email", "phone", "timezone"):
        assert f'<label for="id_{name}">' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_a_slot_inside_the_free_cancel_window_says_cancelling_costs_the_fee(client, provider):
    """Booked less than a day ahead under a 24-hour window: the deadline is already past, so the form
    and the confirmation say what cancelling will cost instead of promising a past deadline."""
    # At least an hour ahead, so the slot cannot start between the form and the POST.
    soon = timezone.now() + timedelta(hours=1)
    start = selectors.first_free_slot(service=service_of(provider), providers=[provider], after=soon).start
    assert start - timezone.now() < timedelta(hours=24)
    expected = "Cancelling this booking will cost the late-cancellation fee of 25.00 USD"

    form = client.get(book_url(provider, start)).content.decode()
    confirmation = client.get(post_booking(client, provider, start)["Location"]).content.decode()

    for html in (form, confirmation):
        assert expected in html
        assert "Cancel free of charge until" not in html


def test_a_provider_without_a_late_fee_shows_free_cancellation(client):
    provider = daily_provider(slug="free")

    html = client.get(book_url(provider, free_start(provider))).content.decode()

    assert "Cancelling is free at any time." in html


def test_a_start_that_is_not_a_slot_gets_a_friendly_message_and_alternatives(client, provider):
    start = free_start(provider) + timedelta(minutes=10)

    response = client.get(book_url(provider, start))

    html = response.content.decode()
    assert response.status_code == 400
    assert "Dr. Ada Molar has no appointment starting at that time." in html
    assert 'data-testid="alternatives"' in html
    assert f"?start={quote(iso(start - timedelta(minutes=10)), safe='')}" in html


def test_a_start_in_the_past_gets_a_friendly_message(client, provider):
    past = (timezone.now() - timedelta(days=2)).replace(hour=14, minute=0, second=0, microsecond=0)

    response = client.get(book_url(provider, past))

    assert response.status_code == 400
    assert "That time has already passed." in response.content.decode()


@pytest.mark.parametrize("raw", ["tomorrow", "2030-01-07T14:00:00", "", "9" * 80])
def test_a_start_that_is_not_an_instant_gets_a_friendly_message(client, provider, raw):
    response = client.get(reverse("pages:book", args=[provider.slug]), {"start": raw})

    assert response.status_code == 400
    assert "doesn&#x27;t name a valid time" in response.content.decode()


def test_a_start_beyond_the_horizon_says_how_far_ahead_one_can_book(client, provider):
    far = (timezone.now() + timedelta(days=400)).replace(hour=14, minute=0, second=0, microsecond=0)

    response = client.get(book_url(provider, far))

    assert response.status_code == 400
    assert "takes bookings up to 120 days ahead" in response.content.decode()


def test_a_taken_start_says_so_with_a_conflict_status(client, provider):
    start = free_start(provider)
    make_booking(provider, start)

    response = client.get(book_url(provider, start))

    assert response.status_code == 409
    assert "just been booked by someone else" in response.content.decode()


def test_an_offset_start_is_read_as_the_instant_it_names(client, provider):
    start = free_start(provider)
    local = start.astimezone(NEW_YORK).isoformat()  # e.g. 2030-01-07T09:00:00-05:00

    response = client.get(reverse("pages:book", args=[provider.slug]), {"start": local})

    assert response.status_code == 200
    assert f'name="start" value="{iso(start)}"' in response.content.decode()


# --- posting --------------------------------------------------------------------------------------


def test_booking_redirects_to_the_confirmation_with_the_token_only_in_a_scoped_cookie(client, provider, caplog):
    start = free_start(provider)
    caplog.set_level(logging.DEBUG)

    response = post_booking(client, provider, start)

    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("pages:confirmation", args=[booking.reference])
    cookie = response.cookies[CONFIRMATION_COOKIE]
    assert cookie["path"] == f"/booked/{booking.reference}/"
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert response.cookies["tz"].value == "Asia%2FTokyo"
    assert booking.start_at == start and booking.status == BookingStatus.CONFIRMED
    assert booking.customer.name == "Kenji Sato" and booking.customer.phone == "+81 3 1234 5678"

    page = client.get(response["Location"])

    html = page.content.decode()
    assert page.status_code == 200
    assert booking.reference in html
    assert local_time(start, TOKYO) in html and local_time(start, NEW_YORK) in html
    manage_path = html.split('data-testid="manage-link">')[0].rsplit('href="', 1)[1].split('"')[0]
    token = manage_path.rstrip("/").rsplit("/", 1)[1]
    assert manage_path == reverse("pages:manage", args=[booking.reference, token])
    assert f"http://testserver{manage_path}" in html
    assert client.get(manage_path).status_code == 200
    assert reverse("pages:confirmation_ics", args=[booking.reference]) in html
    assert page["Cache-Control"].startswith("no-store") and page["Referrer-Policy"] == "strict-origin"
    # The plain token is never logged, and never travels in a URL we redirect to.
    assert not [r for r in caplog.records if token in r.getMessage()]
    assert token not in response["Location"]


def test_a_returning_customer_s_pages_show_the_details_given_with_this_booking(client, provider):
    CustomerFactory(name="Carol Ames", email="carol@example.com", phone="+15550001111")
    response = post_booking(client, provider, free_start(provider), name="C. Berg", email="Carol@Example.com")
    booking = Booking.objects.get()
    assert (booking.customer_name, booking.customer.name) == ("C. Berg", "Carol Ames")
    page = client.get(response["Location"]).content.decode()
    manage_path = page.split('data-testid="manage-link">')[0].rsplit('href="', 1)[1].split('"')[0]
    for html in (page, client.get(manage_path).content.decode()):
        assert '<dd data-testid="customer-name">C. Berg</dd>' in html and "Carol Ames" not in html


def test_a_provider_that_confirms_bookings_gets_a_request_awaiting_confirmation(client):
    provider = daily_provider(slug="room", requires_confirmation=True)
    start = free_start(provider)

    html = client.get(book_url(provider, start)).content.decode()
    assert "Request this time" in html

    response = post_booking(client, provider, start)
    page = client.get(response["Location"]).content.decode()

    assert Booking.objects.get().status == BookingStatus.PENDING
    assert "Your booking is requested" in page
    assert "Awaiting confirmation." in page


def test_when_the_slot_was_taken_meanwhile_the_form_returns_with_everything_typed_and_alternatives(client, provider):
    start = free_start(provider)
    make_booking(provider, start, email="quicker@example.com")

    response = post_booking(client, provider, start, name="Kenji <b>Sato</b>")

    html = response.content.decode()
    assert response.status_code == 409
    assert "someone else has just booked this time" in html
    assert 'value="Kenji &lt;b&gt;Sato&lt;/b&gt;"' in html
    assert 'value="kenji@example.com"' in html and 'value="+81 3 1234 5678"' in html
    assert '<option value="Asia/Tokyo" selected>' in html
    nearest = [start - timedelta(minutes=30), start + timedelta(minutes=30)]
    offered = [iso(s) for s in nearest if f'name="choose_start" value="{iso(s)}"' in html]
    assert offered, "the nearest free times are offered"
    assert Booking.objects.count() == 1

    # Choosing an offered time books it with the details already typed.
    again = client.post(book_url(provider, start), {"start": iso(start), "choose_start": offered[0], **details()})

    assert again.status_code == 302
    mine = Booking.objects.get(customer__email="kenji@example.com")
    assert iso(mine.start_at) == offered[0]


def test_invalid_details_show_field_errors_and_book_nothing(client, provider):
    response = post_booking(client, provider, free_start(provider), email="not-an-email", name=" ")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid email address." in html
    assert 'id="id_name_error"' in html and 'aria-invalid="true"' in html
    assert not Booking.objects.exists()


def test_a_start_that_stopped_being_offered_is_explained(client, provider):
    past = (timezone.now() - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)

    response = post_booking(client, provider, past)

    assert response.status_code == 400
    assert "That time has already passed." in response.content.decode()
    assert not Booking.objects.exists()


def test_booking_posts_are_throttled_per_client_ip(client, provider, settings, private_cache):
    settings.BOOKING_POST_RATE = (3, 60)
    # From the opening of a day three days ahead, so all four starts are in its hours whatever the time now.
    day = (timezone.now() + timedelta(days=3)).astimezone(provider.timezone).date()
    opening = datetime.combine(day, time(9), tzinfo=provider.timezone).astimezone(UTC)
    starts = [opening + timedelta(hours=i) for i in range(4)]

    codes = [post_booking(client, provider, s, email=f"p{i}@example.com").status_code for i, s in enumerate(starts)]

    assert codes == [302, 302, 302, 429]
    assert Booking.objects.count() == 3
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert post_booking(other, provider, starts[3], email="other@example.com").status_code == 302


def test_the_throttle_window_ends_its_period_after_the_first_post(client, provider, settings, private_cache):
    import time as clock

    settings.BOOKING_POST_RATE = (1, 1)
    start = free_start(provider)
    assert [post_booking(client, provider, start, email="bad").status_code for _ in range(2)] == [200, 429]
    clock.sleep(1.2)
    assert post_booking(client, provider, start, email="bad").status_code == 200


def test_the_default_throttle_is_ten_booking_posts_a_minute(client, provider, private_cache):
    start = free_start(provider)
    codes = [post_booking(client, provider, start, email="bad").status_code for _ in range(11)]

    assert codes == [200] * 10 + [429]
    assert "Please wait a moment" in post_booking(client, provider, start).content.decode()


def test_booking_requires_a_csrf_token(provider):
    client = Client(enforce_csrf_checks=True)
    start = free_start(provider)

    response = post_booking(client, provider, start)

    assert response.status_code == 403
    assert "Please try again" in response.content.decode()
    assert not Booking.objects.exists()


def test_the_confirmation_page_needs_its_cookie(client, provider):
    booking = make_booking(provider)

    assert client.get(reverse("pages:confirmation", args=[booking.reference])).status_code == 404
    client.cookies[CONFIRMATION_COOKIE] = booking.manage_token  # unsigned: refused
    response = client.get(reverse("pages:confirmation", args=[booking.reference]))
    assert response.status_code == 404
    assert "We couldn't find that booking" in response.content.decode()


def test_the_confirmation_ics_parses_back_to_the_booked_instants(client, provider):
    from icalendar import Calendar

    start = free_start(provider)
    post_booking(client, provider, start)
    booking = Booking.objects.get()

    response = client.get(reverse("pages:confirmation_ics", args=[booking.reference]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert f'filename="booking-{booking.reference}.ics"' in response["Content-Disposition"]
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == start
    assert event.decoded("dtend") == start + timedelta(minutes=30)
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert str(event["status"]) == "CONFIRMED"
    assert booking.reference in str(event["uid"])


def test_terms_shown_are_the_terms_snapshotted(client, provider):
    client.cookies["tz"] = quote("UTC", safe="")
    start = free_start(provider)
    html = client.get(book_url(provider, start)).content.decode()

    post_booking(client, provider, start)

    booking = Booking.objects.get()
    assert f"Cancel free of charge until {local_time(booking.free_cancel_until, ZoneInfo('UTC'))}" in html
    assert booking.late_cancel_fee == Decimal("25.00")


def test_when_the_cache_is_down_bookings_still_go_through_and_it_is_logged(client, provider, settings, caplog):
    settings.CACHES = {"default": {"BACKEND": "booking_site.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}

    response = post_booking(client, provider, free_start(provider))

    assert response.status_code == 302
    assert "Booking throttle unavailable" in caplog.text


def test_the_download_the_providers_feed_and_the_calendar_export_carry_one_uid(client, provider, settings):
    """The site answers on another name than SITE_URL's (and than its first ALLOWED_HOSTS entry): the
    UID is still one, so a calendar that meets the booking twice keeps one event, and import knows
    the exported event as the booking's own."""
    from icalendar import Calendar

    from calendars.export_dispatch import export_event
    from calendars.feed import feed_bookings, feed_calendar
    from calendars.feed_services import provider_feed_get_or_create
    from scheduling.ics import booking_uid

    settings.SITE_URL = "https://book.example.com"
    settings.ALLOWED_HOSTS = ["internal.example.net", "testserver"]
    post_booking(client, provider, free_start(provider))
    booking = Booking.objects.get()

    download = client.get(reverse("pages:confirmation_ics", args=[booking.reference]))
    feed = provider_feed_get_or_create(provider=provider)
    listed = Calendar.from_ical(feed_calendar(feed, feed_bookings(feed))).walk("VEVENT")
    exported = export_event(booking, uid=booking_uid(booking))

    uids = {str(Calendar.from_ical(download.content).walk("VEVENT")[0]["uid"]), *(str(e["uid"]) for e in listed)}
    assert uids == {exported.uid} == {f"{booking.reference}@book.example.com"}
