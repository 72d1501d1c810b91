"""A provider's bookings as an iCal subscription feed: what it lists, that calendar apps can read it
back, conditional GET, the secret's rotation, and where staff find the URL."""

from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from calendars.feed import feed_bookings, feed_calendar
from calendars.feed_services import provider_feed_get_or_create, provider_feed_rotate, provider_feed_update
from calendars.models import ProviderFeed
from scheduling.ics import booking_uid
from scheduling.models import Booking
from scheduling.services import CustomerData, booking_cancel, booking_create, booking_reschedule
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db

ADA = CustomerData(name="Ada Lovelace", email="ada@example.com")


@pytest.fixture
def provider(db):
    return open_all_day_provider(name="Dr. Feed", max_advance_days=60)


def get_feed(client, feed, **headers):
    return client.get(f"/calendars/feed/{feed.secret}.ics", **headers)


def events(response) -> dict[str, dict]:
    calendar = Calendar.from_ical(response.content)
    return {
        str(event["uid"]): {
            "status": str(event["status"]),
            "summary": str(event["summary"]),
            "start": event.decoded("dtstart"),
            "sequence": int(event["sequence"]),
        }
        for event in calendar.walk("VEVENT")
    }


def book(provider, start, customer=ADA):
    return booking_create(provider_id=provider.pk, start=start, customer=customer)


def test_the_feed_lists_live_bookings_under_their_own_uid_and_parses_back(client, provider):
    feed = provider_feed_get_or_create(provider=provider)
    booking = book(provider, future_slot(days=3))

    response = get_feed(client, feed)

    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    listed = events(response)
    uid = booking_uid(booking)
    assert list(listed) == [uid]
    assert listed[uid]["status"] == "CONFIRMED"
    assert listed[uid]["start"] == booking.start_at
    assert listed[uid]["summary"].endswith("– Ada Lovelace")


def test_a_moved_booking_is_cancelled_under_its_old_uid_and_listed_under_the_new(client, provider):
    feed = provider_feed_get_or_create(provider=provider)
    old = book(provider, future_slot(days=3))
    new = booking_reschedule(booking_id=old.pk, start=future_slot(days=4))

    listed = events(get_feed(client, feed))

    assert listed[booking_uid(old)]["status"] == "CANCELLED"
    assert listed[booking_uid(new)]["status"] == "CONFIRMED"


def test_old_cancellations_and_bookings_beyond_the_horizon_are_left_out(client, provider):
    feed = provider_feed_get_or_create(provider=provider)
    long_cancelled = book(provider, future_slot(days=5))
    booking_cancel(booking_id=long_cancelled.pk)
    Booking.objects.filter(pk=long_cancelled.pk).update(cancelled_at=timezone.now() - timedelta(days=31))
    far = book(provider, future_slot(days=5, hour=12))
    Booking.objects.filter(pk=far.pk).update(
        start_at=far.start_at + timedelta(days=70),
        end_at=far.end_at + timedelta(days=70),
        blocked_from=far.blocked_from + timedelta(days=70),
        blocked_until=far.blocked_until + timedelta(days=70),
    )

    assert events(get_feed(client, feed)) == {}


def test_a_provider_can_hide_customer_names_from_its_feed(client, provider):
    feed = provider_feed_update(provider=provider, hide_customer_details=True)
    book(provider, future_slot(days=3))

    [event] = events(get_feed(client, feed)).values()

    assert "Ada" not in event["summary"]


def test_an_unchanged_feed_answers_304_to_its_etag_and_a_change_gives_a_new_one(client, provider):
    feed = provider_feed_get_or_create(provider=provider)
    booking = book(provider, future_slot(days=3))
    first = get_feed(client, feed)

    assert get_feed(client, feed, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    booking_cancel(booking_id=booking.pk)
    changed = get_feed(client, feed, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_a_rotated_secret_is_a_404_and_the_new_url_works(client, provider):
    old = provider_feed_get_or_create(provider=provider).secret
    rotated = provider_feed_rotate(provider=provider)

    assert client.get(f"/calendars/feed/{old}.ics").status_code == 404
    assert get_feed(client, rotated).status_code == 200


def test_a_provider_made_through_the_api_has_its_feed_url_for_staff(as_superuser_api):
    response = as_superuser_api.post(
        "/api/v1/providers/", {"name": "Room 9", "slug": "room-9", "kind": "room", "timezone": "UTC"}, format="json"
    )
    assert response.status_code == 201
    feed = ProviderFeed.objects.get(provider_id=response.json()["id"])
    assert response.json()["calendar_feed_url"].endswith(f"/calendars/feed/{feed.secret}.ics")


def test_staff_see_the_feed_url_in_the_console_and_rotate_it(admin_client, provider):
    feed = provider_feed_get_or_create(provider=provider)
    page = admin_client.get(f"/admin/scheduling/provider/{provider.pk}/change/").content.decode()
    assert f"/calendars/feed/{feed.secret}.ics" in page

    admin_client.post(
        "/admin/scheduling/provider/", {"action": "rotate_calendar_feed", "_selected_action": [provider.pk]}
    )

    feed.refresh_from_db()
    assert f"/calendars/feed/{feed.secret}.ics" not in page
    assert feed.rotated_at is not None


@pytest.fixture
def as_superuser_api(db):
    from tests.api.conftest import client_for
    from tests.factories import UserFactory

    return client_for(UserFactory(is_superuser=True))


def test_anonymous_readers_and_other_staff_never_see_a_providers_feed_url(client, provider):
    provider_feed_get_or_create(provider=provider)
    assert client.get(f"/api/v1/providers/{provider.pk}/").json()["calendar_feed_url"] is None
    listed = client.get("/api/v1/providers/").json()
    assert [p["calendar_feed_url"] for p in listed] == [None]


def test_an_exported_event_hides_the_customer_like_the_feed(provider):
    from calendars.export_dispatch import export_event

    booking = book(provider, future_slot(days=3))
    assert "Ada" in export_event(booking, uid="u").summary

    feed = provider_feed_update(provider=provider, hide_customer_details=True)
    [listed] = Calendar.from_ical(feed_calendar(feed, feed_bookings(feed))).walk("VEVENT")

    summary = export_event(booking, uid="u").summary
    assert "Ada" not in summary and summary == str(listed["summary"]) == booking.service.name
