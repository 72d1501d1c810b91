"""Manage links that outlive the confirmation tab: signed links and the links of older bookings,
revoking them, and "email me my links" (the same answer whether or not we know the address)."""

import re
import time

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from notifications import services as notifications
from notifications.models import Notification
from notifications.services import LINKS_WINDOW_SECONDS
from scheduling import manage_links
from scheduling.manage_links import hash_old_token
from scheduling.models import Booking
from tests.factories import BookingFactory
from tests.pages.conftest import free_start, make_booking

pytestmark = pytest.mark.django_db

LINKS = reverse("pages:links_request")
NOT_FOUND = "We couldn't find that booking"


def manage(booking, token):
    return reverse("pages:manage", args=[booking.reference, token])


def revoke(client, booking, token):
    return client.post(reverse("pages:revoke_links", args=[booking.reference]), {"token": token})


# --- which links open a booking -----------------------------------------------------------------


def test_a_link_made_later_from_the_booking_id_opens_it(client, provider):
    booking = make_booking(provider)
    assert client.get(manage_links.manage_path(Booking.objects.get(pk=booking.pk))).status_code == 200


def test_a_booking_made_before_signed_links_opens_with_its_old_token_and_a_signed_one(client, provider):
    old = BookingFactory(provider=provider, manage_token_hash=hash_old_token("an-old-emailed-token"))
    assert client.get(manage(old, "an-old-emailed-token")).status_code == 200
    assert client.get(manage_links.manage_path(old)).status_code == 200


def test_a_signed_token_opens_only_its_own_booking(client, provider):
    mine, other = make_booking(provider), make_booking(provider, free_start(provider, days=5), email="bo@example.com")
    response = client.get(manage(other, mine.manage_token))
    assert response.status_code == 404 and NOT_FOUND in response.content.decode()


def test_a_token_signed_with_another_salt_or_key_opens_nothing(client, provider):
    booking = make_booking(provider)
    other_salt = signing.dumps([booking.pk, 0], salt="pages.confirmation")
    other_key = signing.dumps([booking.pk, 0], salt=manage_links.SALT, key="not-our-secret-key")
    assert client.get(manage(booking, other_salt)).status_code == 404
    assert client.get(manage(booking, other_key)).status_code == 404


def test_revoking_refuses_every_earlier_link_and_moves_the_page_to_a_new_one(client, provider):
    booking = BookingFactory(provider=provider, manage_token_hash=hash_old_token("an-old-emailed-token"))
    signed_before = manage_links.token_for(booking)

    response = revoke(client, booking, signed_before)

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.manage_secret_version == 1 and booking.manage_token_hash == ""
    assert response["Location"] == manage_links.manage_path(booking)
    page = client.get(response["Location"])
    assert page.status_code == 200 and "no longer work" in page.content.decode()
    for token in (signed_before, "an-old-emailed-token"):
        refused = client.get(manage(booking, token))
        assert refused.status_code == 404
        assert LINKS in refused.content.decode()  # a way to ask for the links again


def test_revoking_needs_a_valid_link(client, provider):
    booking = make_booking(provider)
    assert revoke(client, booking, "guess").status_code == 404
    assert Booking.objects.get(pk=booking.pk).manage_secret_version == 0


# --- email me my links --------------------------------------------------------------------------


@pytest.fixture
def quiet_throttles(settings, private_cache):
    settings.LINKS_REQUEST_IP_RATE = (100, 600)
    settings.LINKS_REQUEST_ADDRESS_RATE = (100, 3600)


def ask(client, email):
    return client.post(LINKS, {"email": email})


def test_known_and_unknown_addresses_get_byte_identical_answers_and_one_email(provider, quiet_throttles, mailoutbox):
    first = make_booking(provider, email="ann@example.com")
    second = make_booking(provider, free_start(provider, days=6), email="ann@example.com")
    make_booking(provider, free_start(provider, days=8), email="someone@example.com")
    Notification.objects.all().delete()

    known, unknown = Client(), Client()
    known.get(LINKS)
    unknown.get(LINKS)
    answers = [ask(known, "ANN@example.com"), ask(unknown, "nobody@example.com")]

    assert answers[0].status_code == answers[1].status_code == 200
    assert answers[0].content == answers[1].content
    assert "If we have upcoming bookings for this address" in answers[0].content.decode()
    assert list(Notification.objects.values_list("kind", "address")) == [("links", "ann@example.com")]

    notifications.notifications_dispatch()
    [email] = mailoutbox
    assert email.to == ["ann@example.com"]
    paths = re.findall(r"http://\S+?(/b/[A-Z0-9]+/\S+/)", email.body)
    assert len(paths) == 2
    for path, booking in zip(paths, (first, second), strict=True):
        page = Client().get(path)
        assert page.status_code == 200 and booking.reference in page.content.decode()


def test_asking_again_soon_sends_no_second_email(client, provider, quiet_throttles):
    make_booking(provider, email="ann@example.com")
    to_window_edge = LINKS_WINDOW_SECONDS - time.time() % LINKS_WINDOW_SECONDS
    if to_window_edge < 5:  # the dedup key is per clock window: both asks must fall in one
        time.sleep(to_window_edge)
    ask(client, "ann@example.com")
    ask(client, "ann@example.com")
    assert Notification.objects.filter(kind="links").count() == 1


def test_an_address_over_its_limit_gets_the_same_answer_and_nothing_is_queued(
    client, provider, settings, private_cache
):
    settings.LINKS_REQUEST_IP_RATE = (100, 600)
    settings.LINKS_REQUEST_ADDRESS_RATE = (1, 3600)
    make_booking(provider, email="ann@example.com")
    first = ask(client, "ann@example.com")
    # Out of the outbox's dedup window, so only the throttle can hold a second email back.
    Notification.objects.filter(kind="links").update(dedup_key="links:an-earlier-window")

    second = ask(client, "Ann@Example.com")

    assert second.status_code == 200 and second.content == first.content
    assert Notification.objects.filter(kind="links").count() == 1


def test_link_requests_are_throttled_per_client_ip(client, settings, private_cache, db):
    settings.LINKS_REQUEST_IP_RATE = (2, 600)
    responses = [ask(client, f"n{n}@example.com") for n in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[2]["Retry-After"] == "600"  # the links limit's window, not the booking POSTs'


def test_with_the_cache_down_link_requests_still_work(client, provider, settings, caplog):
    settings.CACHES = {"default": {"BACKEND": "booking_site.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    make_booking(provider, email="ann@example.com")
    assert ask(client, "ann@example.com").status_code == 200
    assert Notification.objects.filter(kind="links").count() == 1
    assert "Links request throttle unavailable" in caplog.text


def test_a_past_or_cancelled_booking_is_not_listed(provider, quiet_throttles, client):
    from scheduling.services import booking_cancel

    booking = make_booking(provider, email="ann@example.com")
    booking_cancel(booking_id=booking.pk)
    ask(client, "ann@example.com")
    assert not Notification.objects.filter(kind="links").exists()


def test_the_pages_that_lose_links_point_to_the_request_page(client, provider):
    booking = make_booking(provider)
    assert LINKS in client.get(reverse("pages:home")).content.decode()
    assert LINKS in client.get(manage(booking, booking.manage_token)).content.decode()
    assert client.get(LINKS).status_code == 200
    assert ask(client, "not an address").status_code == 400
