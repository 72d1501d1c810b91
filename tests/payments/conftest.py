"""Shared pieces of the payments tests: a provider whose service is paid online, and the worker's calls."""

import pytest

from payments.services import gateway_calls_run
from scheduling.services import CustomerData, booking_create
from tests.scheduling.conftest import future_slot, open_all_day_provider

ALICE = CustomerData(name="Alice", email="alice@example.com", timezone="Europe/Berlin")
BOB = CustomerData(name="Bob", email="bob@example.com")
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"


def paid_online_provider(**fields):
    fields = {
        "price": "120.00",
        "currency": "EUR",
        "late_cancel_fee": "20.00",
        "free_cancel_hours": 24,
        "payment_mode": "online",
        **fields,
    }
    return open_all_day_provider(**fields)


def book(provider, start=None, customer=ALICE):
    return booking_create(provider_id=provider.pk, start=start or future_slot(), customer=customer)


def run_gateway_calls() -> int:
    """What the worker does after a commit (or Beat within a minute): make every owed gateway call."""
    return gateway_calls_run()


@pytest.fixture
def online_provider(db, stripe_local):
    return paid_online_provider()
