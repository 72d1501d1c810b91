"""Races over real HTTP: gunicorn with several worker processes, 30 concurrent POSTs."""

from datetime import timedelta

import pytest
from rest_framework.authtoken.models import Token

from scheduling.models import Booking
from tests.api.test_bookings_api import URL, booking_body, iso
from tests.concurrency import run_concurrently
from tests.factories import ServiceFactory, UserFactory
from tests.live.server import Gunicorn
from tests.scheduling.conftest import future_slot, open_all_day_provider
from tests.scheduling.test_booking_races import overlapping_live_pairs

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        gunicorn = Gunicorn(workers=4)
    yield gunicorn
    gunicorn.stop()


@pytest.fixture
def token():
    user = UserFactory(username="integrator", is_superuser=True)
    return Token.objects.create(user=user).key


def post_booking(server, token, body):
    return lambda: server.request("POST", URL, body, {"Authorization": f"Token {token}"})


def test_thirty_concurrent_posts_for_one_slot_give_one_201_and_29_409s_naming_it(server, token):
    provider = open_all_day_provider(slug="http-race")
    start = future_slot()
    calls = [
        post_booking(server, token, booking_body(provider, start, customer={"name": f"C{n}", "email": f"c{n}@x.org"}))
        for n in range(30)
    ]
    results = run_concurrently(calls)

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * 29
    winner = next(body for status, body in results if status == 201)
    assert {body["conflicting_booking_id"] for status, body in results if status == 409} == {winner["id"]}
    assert all(body["code"] == "slot_unavailable" for status, body in results if status == 409)


def test_partly_overlapping_concurrent_posts_against_buffers_never_overlap(server, token):
    provider = open_all_day_provider(slug="http-buffers", duration_minutes=60, slot_step_minutes=15,
                                     buffer_before_minutes=10, buffer_after_minutes=20)  # fmt: skip
    base = future_slot()
    calls = []
    for n in range(30):
        start = base + timedelta(minutes=15 * (n % 8))
        body = booking_body(provider, start, customer={"name": f"P{n}", "email": f"p{n}@x.org"})
        body["start"] = iso(start)
        calls.append(post_booking(server, token, body))
    results = run_concurrently(calls)

    assert {status for status, _ in results} <= {201, 409}
    winners = {body["id"] for status, body in results if status == 201}
    assert winners
    assert {body["conflicting_booking_id"] for status, body in results if status == 409} <= winners
    assert overlapping_live_pairs() == 0


def test_twenty_concurrent_any_available_posts_on_three_free_providers_give_three_201s_and_17_409s(server, token):
    providers = [open_all_day_provider(slug=f"http-any-{n}") for n in range(3)]
    service = ServiceFactory(providers=providers, slug="http-any")
    start = future_slot()
    calls = []
    for n in range(20):
        body = booking_body(providers[0], start, customer={"name": f"A{n}", "email": f"a{n}@x.org"})
        del body["provider"]
        calls.append(post_booking(server, token, {**body, "service": service.pk}))
    results = run_concurrently(calls)

    assert sorted(status for status, _ in results) == [201] * 3 + [409] * 17
    winners = [body for status, body in results if status == 201]
    assert sorted(body["provider"] for body in winners) == sorted(p.pk for p in providers)
    assert {body["conflicting_booking_id"] for status, body in results if status == 409} <= {b["id"] for b in winners}
    assert Booking.objects.live().filter(service=service, start_at=start).count() == 3
