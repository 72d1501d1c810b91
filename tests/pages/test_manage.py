"""The private manage link: details, cancelling with the late-fee verdict, rescheduling, the .ics file."""

from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from scheduling import selectors
from scheduling.formatting import local_time
from scheduling.manage_links import hash_old_token
from scheduling.models import Booking, BookingStatus, CancelReason
from scheduling.services import CustomerData, booking_cancel, booking_create
from scheduling.views.booking import CONFIRMATION_COOKIE
from tests.factories import BookingFactory, ServiceFactory, service_of
from tests.pages.conftest import daily_provider, free_start, iso, make_booking, ny_at

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
NOT_FOUND = "We couldn't find that booking"


def manage_url(booking, token=None) -> str:
    return reverse("pages:manage", args=[booking.reference, token or booking.manage_token])


def factory_booking(provider, *, hours_ahead: int, token: str = "a-known-test-token-0123456789", **fields):
    """A booking written directly (for deadlines already past), with a token we know."""
    start = (timezone.now() + timedelta(hours=hours_ahead)).replace(minute=0, second=0, microsecond=0)
    booking = BookingFactory(
        provider=provider,
        start_at=start,
        manage_token_hash=hash_old_token(token),
        **fields,
    )
    booking.refresh_from_db()
    booking.manage_token = token
    return booking


def free_starts(provider, around):
    slots = selectors.provider_slots(
        provider=provider, service=service_of(provider), first=around.date(), last=around.date()
    )
    return [s.start for s in slots]


# --- finding the booking --------------------------------------------------------------------------


def test_the_manage_page_shows_the_booking_in_both_zones(client, provider):
    client.cookies["tz"] = quote("Asia/Tokyo", safe="")
    booking = make_booking(provider)

    response = client.get(manage_url(booking))

    html = response.content.decode()
    assert response.status_code == 200
    assert booking.reference in html and "Dr. Ada Molar" in html and "Confirmed" in html
    assert local_time(booking.start_at, TOKYO) in html
    assert local_time(booking.start_at, NEW_YORK) in html
    assert reverse("pages:cancel_confirm", args=[booking.reference, booking.manage_token]) in html
    assert reverse("pages:reschedule", args=[booking.reference, booking.manage_token]) in html
    assert reverse("pages:manage_ics", args=[booking.reference, booking.manage_token]) in html
    assert response["Cache-Control"].startswith("no-store")
    assert response["Referrer-Policy"] == "strict-origin"
    assert "noindex" in response["X-Robots-Tag"]


def test_the_manage_page_names_the_service_with_its_provider(client, checkup, ann):
    booking = booking_create(
        service_id=checkup.pk,
        provider_id=ann.pk,
        start=ny_at(3, 10),
        customer=CustomerData(name="Ann", email="ann@example.com", timezone="Europe/Paris"),
    )

    html = client.get(manage_url(booking)).content.decode()

    assert '<dd data-testid="what">Check-up with Ann Lee</dd>' in html


def test_a_providers_own_service_is_named_once(client, provider):
    html = client.get(manage_url(make_booking(provider))).content.decode()

    assert '<dd data-testid="what">Dr. Ada Molar</dd>' in html


def test_without_a_zone_cookie_the_manage_page_uses_the_customers_zone(client, provider):
    booking = make_booking(provider, tz="Europe/Paris")

    html = client.get(manage_url(booking)).content.decode()

    assert local_time(booking.start_at, ZoneInfo("Europe/Paris")) in html


def test_the_reference_is_case_insensitive(client, provider):
    booking = make_booking(provider)

    response = client.get(reverse("pages:manage", args=[booking.reference.lower(), booking.manage_token]))

    assert response.status_code == 200


def test_a_tampered_token_gets_the_friendly_404_and_reveals_nothing(client, provider):
    booking = make_booking(provider, name="Secret Customer")
    token = booking.manage_token
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    response = client.get(manage_url(booking, tampered))

    html = response.content.decode()
    assert response.status_code == 404
    assert NOT_FOUND in html
    assert booking.reference not in html and "Secret Customer" not in html and "Dr. Ada Molar" not in html


def test_an_unknown_reference_gets_the_same_friendly_404(client, provider):
    booking = make_booking(provider)

    unknown = client.get(reverse("pages:manage", args=["ZZZZZZZZZZ", booking.manage_token]))
    tampered = client.get(manage_url(booking, "x" * 43))

    assert unknown.status_code == tampered.status_code == 404
    assert NOT_FOUND in unknown.content.decode()
    assert unknown.content.replace(b"ZZZZZZZZZZ", b"") == tampered.content.replace(booking.reference.encode(), b"")


def test_a_reference_alone_opens_nothing(client, provider):
    booking = make_booking(provider)

    for path in (f"/b/{booking.reference}/", f"/booked/{booking.reference}/calendar.ics"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert booking.reference.encode() not in response.content


def test_the_token_lookup_matches_the_services_hash(provider):
    booking = make_booking(provider)

    assert selectors.booking_by_manage_token(reference=booking.reference, token=booking.manage_token) == booking
    assert selectors.booking_by_manage_token(reference=booking.reference, token="") is None
    assert selectors.booking_by_manage_token(reference="", token=booking.manage_token) is None


def test_a_pending_booking_says_it_awaits_confirmation(client):
    provider = daily_provider(slug="room", requires_confirmation=True)
    booking = make_booking(provider)

    html = client.get(manage_url(booking)).content.decode()

    assert "Requested – awaiting confirmation" in html


# --- cancelling -----------------------------------------------------------------------------------


def test_before_the_deadline_the_cancel_page_says_cancelling_is_free(client, provider):
    booking = make_booking(provider, free_start(provider, days=5))

    html = client.get(reverse("pages:cancel_confirm", args=[booking.reference, booking.manage_token])).content.decode()

    assert "Cancelling now is free." in html
    assert "refunded" not in html  # nothing was paid, so nothing is promised back (tests/pages/test_checkout.py)
    assert 'name="quoted_fee" value="0.00"' in html


def test_after_the_deadline_the_cancel_page_shows_the_late_fee(client, provider):
    booking = factory_booking(provider, hours_ahead=5)  # 24 h free-cancel window already over

    html = client.get(reverse("pages:cancel_confirm", args=[booking.reference, booking.manage_token])).content.decode()

    assert "A late cancellation fee of 25.00 USD applies." in html
    assert "refunded" not in html
    assert "Cancel and pay 25.00 USD" in html


def test_the_fee_quote_matches_what_the_service_charges(provider):
    late = factory_booking(provider, hours_ahead=5, token="late-token-0123456789")
    early = make_booking(provider, free_start(provider, days=5))

    for booking in (late, early):
        quoted = selectors.booking_cancellation_fee(booking=booking)
        cancelled = booking_cancel(booking_id=booking.pk, reason=CancelReason.CUSTOMER)
        assert cancelled.cancellation_fee == quoted
    assert quoted == Decimal("0.00") and late.late_cancel_fee == Decimal("25.00")


def test_cancelling_frees_the_slot_and_says_so(client, provider):
    start = free_start(provider, days=5)
    booking = make_booking(provider, start)
    assert start not in free_starts(provider, start)

    response = client.post(
        reverse("pages:cancel", args=[booking.reference]), {"token": booking.manage_token, "quoted_fee": "0.00"}
    )

    assert response.status_code == 302 and response["Location"] == manage_url(booking)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.cancel_reason == CancelReason.CUSTOMER
    assert booking.cancellation_fee == Decimal("0.00")
    page = client.get(response["Location"]).content.decode()
    assert "Your booking is cancelled. There is no fee." in page
    assert "This booking was cancelled" in page and "Cancel booking" not in page
    assert start in free_starts(provider, start)


def test_a_stale_fee_quote_asks_again_instead_of_charging(client, provider):
    booking = factory_booking(provider, hours_ahead=5)

    response = client.post(
        reverse("pages:cancel", args=[booking.reference]), {"token": booking.manage_token, "quoted_fee": "0.00"}
    )

    assert response.status_code == 200
    assert "The terms changed while this page was open" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_a_late_cancellation_records_the_fee(client, provider):
    booking = factory_booking(provider, hours_ahead=5)

    response = client.post(
        reverse("pages:cancel", args=[booking.reference]), {"token": booking.manage_token, "quoted_fee": "25.00"}
    )

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.cancellation_fee == Decimal("25.00")
    assert "A late cancellation fee of 25.00 USD applies." in client.get(response["Location"]).content.decode()


def test_cancelling_with_a_wrong_token_changes_nothing(client, provider):
    booking = make_booking(provider)

    response = client.post(reverse("pages:cancel", args=[booking.reference]), {"token": "guess", "quoted_fee": "0.00"})

    assert response.status_code == 404
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_the_action_urls_only_accept_post(client, provider):
    booking = make_booking(provider)

    assert client.get(reverse("pages:cancel", args=[booking.reference])).status_code == 405
    assert client.get(reverse("pages:reschedule_action", args=[booking.reference])).status_code == 405


def test_cancelling_requires_a_csrf_token(provider):
    client = Client(enforce_csrf_checks=True)
    booking = make_booking(provider)

    response = client.post(
        reverse("pages:cancel", args=[booking.reference]), {"token": booking.manage_token, "quoted_fee": "0.00"}
    )

    assert response.status_code == 403
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_a_cancelled_booking_offers_no_changes(client, provider):
    booking = make_booking(provider)
    booking_cancel(booking_id=booking.pk)

    assert "Cancel booking" not in client.get(manage_url(booking)).content.decode()
    cancel_page = client.get(reverse("pages:cancel_confirm", args=[booking.reference, booking.manage_token]))
    assert cancel_page.status_code == 302


# --- rescheduling ---------------------------------------------------------------------------------


def test_the_reschedule_page_offers_free_times_but_not_the_current_one(client, provider):
    booking = make_booking(provider)
    url = reverse("pages:reschedule", args=[booking.reference, booking.manage_token])

    html = client.get(url).content.decode()

    assert f'data-start="{iso(booking.start_at)}"' not in html
    later = booking.start_at + timedelta(minutes=30)
    assert f'data-start="{iso(later)}"' in html
    assert f"{url}?start={quote(iso(later), safe='')}" in html


@pytest.fixture
def cleaning_with_ann(ann, bob):
    """A 60-minute service of Ann (09:00–12:00) and Bob (09:00–17:00), booked with Ann at 09:00 in three
    days; Ann also offers a 30-minute service."""
    ServiceFactory(name="Check-up", slug="check-up", duration_minutes=30, providers=[ann, bob])
    cleaning = ServiceFactory(name="Cleaning", slug="cleaning", duration_minutes=60, providers=[ann, bob])
    return booking_create(
        service_id=cleaning.pk,
        provider_id=ann.pk,
        start=ny_at(3, 9),
        customer=CustomerData(name="Ann", email="ann@example.com", timezone="America/New_York"),
    )


def test_rescheduling_offers_the_times_of_the_bookings_service_with_its_provider(client, cleaning_with_ann):
    booking = cleaning_with_ann
    url = reverse("pages:reschedule", args=[booking.reference, booking.manage_token])

    html = client.get(url).content.decode()

    offered = {part.split('"', 1)[0] for part in html.split('data-start="')[1:]}
    assert {iso(ny_at(3, 10)), iso(ny_at(3, 11))} <= offered
    assert iso(ny_at(3, 9, 30)) not in offered  # the 30-minute service's grid
    assert iso(ny_at(3, 14)) not in offered  # Bob's hours
    assert "Now: <strong>" in html and "Cleaning with Ann Lee" in html


def test_rescheduling_keeps_the_service_and_provider(client, cleaning_with_ann):
    booking = cleaning_with_ann

    response = client.post(
        reverse("pages:reschedule_action", args=[booking.reference]),
        {"token": booking.manage_token, "start": iso(ny_at(3, 11))},
    )

    assert response.status_code == 302
    new = Booking.objects.get(rescheduled_from=booking)
    assert (new.provider, new.service) == (booking.provider, booking.service)
    assert new.end_at - new.start_at == timedelta(minutes=60)
    assert "Cleaning with Ann Lee" in client.get(response["Location"]).content.decode()


def test_rescheduling_to_a_time_only_another_provider_has_is_refused(client, cleaning_with_ann):
    booking = cleaning_with_ann
    url = reverse("pages:reschedule", args=[booking.reference, booking.manage_token])

    response = client.get(url, {"start": iso(ny_at(3, 14))})

    assert response.status_code == 400
    assert "Ann Lee has no appointment starting at that time." in response.content.decode()


def test_the_reschedule_confirmation_shows_the_new_time_and_terms(client, provider):
    client.cookies["tz"] = quote("Asia/Tokyo", safe="")
    booking = make_booking(provider)
    new = booking.start_at + timedelta(days=1)
    url = reverse("pages:reschedule", args=[booking.reference, booking.manage_token])

    html = client.get(url, {"start": iso(new)}).content.decode()

    assert local_time(new, TOKYO) in html and local_time(new, NEW_YORK) in html
    assert f'name="start" value="{iso(new)}"' in html
    assert f"Cancel free of charge until {local_time(new - timedelta(hours=24), TOKYO)}" in html


def test_rescheduling_moves_the_booking_and_hands_over_a_new_manage_link(client, provider):
    booking = make_booking(provider)
    old_token = booking.manage_token
    new_start = booking.start_at + timedelta(days=1, minutes=30)

    response = client.post(
        reverse("pages:reschedule_action", args=[booking.reference]), {"token": old_token, "start": iso(new_start)}
    )

    assert response.status_code == 302
    new = Booking.objects.get(rescheduled_from=booking)
    assert response["Location"] == reverse("pages:confirmation", args=[new.reference])
    assert response.cookies[CONFIRMATION_COOKIE]["path"] == f"/booked/{new.reference}/"
    assert new.start_at == new_start and new.status == BookingStatus.CONFIRMED
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.cancel_reason == CancelReason.RESCHEDULED

    page = client.get(response["Location"]).content.decode()
    assert "Your booking has moved" in page and booking.reference in page
    new_path = page.split('data-testid="manage-link">')[0].rsplit('href="', 1)[1].split('"')[0]
    new_token = new_path.rstrip("/").rsplit("/", 1)[1]
    assert new_token != old_token
    assert selectors.booking_by_manage_token(reference=new.reference, token=new_token) == new
    old_page = client.get(manage_url(booking, old_token)).content.decode()
    assert "This booking was moved to a new time" in old_page and new.reference in old_page
    assert "Move to another time" not in old_page


def test_rescheduling_into_a_taken_slot_changes_nothing_and_offers_alternatives(client, provider):
    booking = make_booking(provider)
    other_start = booking.start_at + timedelta(days=1)
    make_booking(provider, other_start, email="other@example.com")

    response = client.post(
        reverse("pages:reschedule_action", args=[booking.reference]),
        {"token": booking.manage_token, "start": iso(other_start)},
    )

    html = response.content.decode()
    assert response.status_code == 409
    assert "someone else has just booked that time. Your booking has not changed." in html
    assert 'data-testid="alternatives"' in html
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.start_at != other_start


def test_rescheduling_to_a_time_that_is_not_a_slot_is_explained(client, provider):
    booking = make_booking(provider)
    url = reverse("pages:reschedule", args=[booking.reference, booking.manage_token])

    response = client.get(url, {"start": iso(booking.start_at + timedelta(minutes=7))})

    assert response.status_code == 400
    assert "has no appointment starting at that time" in response.content.decode()


def test_rescheduling_posts_are_throttled(client, provider, settings, private_cache):
    settings.BOOKING_POST_RATE = (1, 60)
    booking = make_booking(provider)
    url = reverse("pages:reschedule_action", args=[booking.reference])
    data = {"token": booking.manage_token, "start": iso(booking.start_at + timedelta(days=1))}

    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 429


# --- calendar file --------------------------------------------------------------------------------


def test_the_ics_file_holds_the_booked_instants_in_utc(client, provider):
    booking = make_booking(provider)

    response = client.get(reverse("pages:manage_ics", args=[booking.reference, booking.manage_token]))

    assert response.status_code == 200
    assert f"DTSTART:{booking.start_at:%Y%m%dT%H%M%S}Z".encode() in response.content
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == booking.start_at
    assert event.decoded("dtend") == booking.end_at
    assert booking.manage_token.encode() not in response.content


def test_the_ics_of_a_cancelled_booking_says_cancelled(client, provider):
    booking = make_booking(provider)
    booking_cancel(booking_id=booking.pk)

    response = client.get(reverse("pages:manage_ics", args=[booking.reference, booking.manage_token]))

    assert str(Calendar.from_ical(response.content).walk("VEVENT")[0]["status"]) == "CANCELLED"


def test_the_ics_needs_the_token(client, provider):
    booking = make_booking(provider)

    assert client.get(reverse("pages:manage_ics", args=[booking.reference, "wrong" * 9])).status_code == 404
