"""The provider's lock read says which followers of booking changes are present (webhooks, two-way
calendars: scheduling.booking_events.presence_sql), and a booking asks only those. The presence must
never be false where the follower's own lookup would find someone, or that booking would go unheard."""

import pytest
from django.db import transaction
from django.utils import timezone

from calendars.export_hooks import exporting_connections
from calendars.models import CalendarConnection
from notifications.models import WebhookDelivery, WebhookEndpoint
from notifications.webhook_events import EVENT_TYPES, endpoints_hearing
from scheduling import selectors
from scheduling.services import CustomerData, booking_create
from tests.factories import ProviderFactory, UserFactory, service_of
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    return open_all_day_provider(slug="followed")


def followers(provider) -> frozenset[str]:
    with transaction.atomic():
        service, now = service_of(provider), timezone.now()
        return selectors.provider_for_booking(provider_id=provider.pk, service=service, start=now).followers


def endpoint(owner, **fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(owner=owner, url="https://hooks.example.com/in", **fields)


def manager_of(provider, **fields):
    user = UserFactory(is_staff=True, **fields)
    provider.staff.add(user)
    return user


WEBHOOK_CASES = {
    "a superuser's endpoint": lambda p: endpoint(UserFactory(is_superuser=True, is_staff=True)),
    "an endpoint of staff managing the provider": lambda p: endpoint(manager_of(p)),
    "an endpoint of staff managing another provider": lambda p: endpoint(manager_of(ProviderFactory())),
    "an endpoint of a deactivated manager": lambda p: endpoint(manager_of(p, is_active=False)),
    "a switched-off endpoint": lambda p: endpoint(manager_of(p), is_active=False),
    "an endpoint wanting payment events only": lambda p: endpoint(manager_of(p), event_types=["payment.succeeded"]),
    "no endpoint": lambda p: None,
}


@pytest.mark.parametrize("case", WEBHOOK_CASES)
def test_the_lock_read_finds_webhooks_exactly_where_the_endpoint_lookup_does(provider, case):
    WEBHOOK_CASES[case](provider)

    heard = any(endpoints_hearing(provider_id=provider.pk, type_=type_) for type_ in EVENT_TYPES)
    assert ("webhooks" in followers(provider)) == heard


CALENDAR_CASES = {
    "an active CalDAV calendar": ("caldav", True, True),
    "a switched-off Google calendar": ("google", False, False),
    "an iCal feed (read only)": ("ical_url", True, False),
}


@pytest.mark.parametrize("case", CALENDAR_CASES)
def test_the_lock_read_finds_two_way_calendars_exactly_where_the_export_lookup_does(provider, case):
    kind, active, exports = CALENDAR_CASES[case]
    CalendarConnection.objects.create(provider=provider, kind=kind, url="https://cal.example.com/", is_active=active)
    CalendarConnection.objects.create(provider=ProviderFactory(), kind="caldav", url="https://cal.example.com/")

    assert bool(exporting_connections(provider.pk)) is exports
    assert ("calendars" in followers(provider)) is exports


def test_a_booking_of_a_followed_provider_still_queues_its_webhook(provider):
    hook = endpoint(manager_of(provider))

    booking_create(provider_id=provider.pk, start=future_slot(), customer=CustomerData(name="Ada", email="a@x.org"))

    assert list(WebhookDelivery.objects.values_list("endpoint_id", "event__type")) == [(hook.pk, "booking.created")]
