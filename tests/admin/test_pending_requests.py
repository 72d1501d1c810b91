"""The admin index's "Pending requests: N", scoped to the providers the staff user manages."""

import re

import pytest

from scheduling.services import CustomerData, booking_create
from tests.admin.conftest import slot_in
from tests.factories import service_of

pytestmark = pytest.mark.django_db

COUNT = re.compile(r"Pending requests: <strong>(\d+)</strong>")


def request(provider, days, email="ann@example.com"):
    service = service_of(provider)
    service.requires_confirmation = True
    service.save()
    return booking_create(provider_id=provider.pk, start=slot_in(days), customer=CustomerData(name="Ann", email=email))


@pytest.fixture
def requests(provider_a, provider_b):
    request(provider_a, 2)
    request(provider_a, 3)
    request(provider_b, 2)
    service = service_of(provider_a)
    service.requires_confirmation = False
    service.save()
    booking_create(provider_id=provider_a.pk, start=slot_in(4), customer=CustomerData(name="Bo", email="bo@x.example"))


def pending_count(client) -> int:
    html = client.get("/admin/").content.decode()
    [count] = COUNT.findall(html)
    return int(count)


def test_staff_see_the_pending_requests_of_their_own_providers_only(as_staff_a, requests):
    assert pending_count(as_staff_a) == 2


def test_other_staff_see_theirs(as_staff_b, requests):
    assert pending_count(as_staff_b) == 1


def test_a_superuser_sees_every_pending_request(as_superuser, requests):
    assert pending_count(as_superuser) == 3


def test_the_count_links_to_the_pending_bookings_list(as_staff_a, requests):
    html = as_staff_a.get("/admin/").content.decode()
    assert 'href="/admin/scheduling/booking/?status__exact=pending"' in html
    listing = as_staff_a.get("/admin/scheduling/booking/?status__exact=pending")
    assert listing.status_code == 200 and "2 bookings" in listing.content.decode()
