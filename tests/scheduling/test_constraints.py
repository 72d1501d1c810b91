"""The database, not the application, forbids overlapping live bookings (docs/architecture.md §2).

These tests write rows straight through the ORM, bypassing the services, to prove the constraints
hold on their own.
"""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from scheduling.models import BookingStatus
from tests.factories import BookingFactory, ProviderFactory, ServiceFactory, service_of
from tests.scheduling.conftest import future_slot

pytestmark = pytest.mark.django_db


def constraint_violated(exc: IntegrityError) -> str:
    return exc.__cause__.diag.constraint_name


def insert(**fields):
    with transaction.atomic():
        return BookingFactory(**fields)


def test_an_overlapping_live_booking_is_refused_by_the_exclusion_constraint():
    provider = ProviderFactory()
    start = future_slot()
    insert(provider=provider, start_at=start)
    with pytest.raises(IntegrityError) as exc:
        insert(provider=provider, start_at=start + timedelta(minutes=15))
    assert constraint_violated(exc.value) == "booking_no_overlap"


def test_a_pending_hold_blocks_an_overlapping_booking_too():
    provider = ProviderFactory()
    start = future_slot()
    insert(provider=provider, start_at=start, status=BookingStatus.PENDING)
    with pytest.raises(IntegrityError):
        insert(provider=provider, start_at=start)


def test_back_to_back_bookings_are_allowed():
    provider = ProviderFactory(duration_minutes=30)
    start = future_slot()
    insert(provider=provider, start_at=start)
    second = insert(provider=provider, start_at=start + timedelta(minutes=30))
    assert second.pk


@pytest.mark.parametrize("status", [BookingStatus.CANCELLED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW])
def test_a_booking_that_is_no_longer_live_frees_its_time(status):
    provider = ProviderFactory()
    start = future_slot()
    insert(provider=provider, start_at=start, status=status)
    assert insert(provider=provider, start_at=start).pk


def test_the_database_enforces_buffers_not_only_the_engine():
    provider = ProviderFactory(duration_minutes=30, buffer_after_minutes=15)
    start = future_slot()
    insert(provider=provider, start_at=start)
    # The booked times do not meet, but the first booking's buffer reaches into the second.
    with pytest.raises(IntegrityError) as exc:
        insert(provider=provider, start_at=start + timedelta(minutes=30))
    assert constraint_violated(exc.value) == "booking_no_overlap"
    assert insert(provider=provider, start_at=start + timedelta(minutes=45)).pk


def test_bookings_of_different_providers_may_overlap():
    start = future_slot()
    insert(provider=ProviderFactory(), start_at=start)
    assert insert(provider=ProviderFactory(), start_at=start).pk


def test_an_end_before_the_start_is_refused_by_a_check_constraint():
    start = future_slot()
    with pytest.raises(IntegrityError) as exc:
        insert(start_at=start, end_at=start - timedelta(minutes=30), blocked_until=start)
    assert constraint_violated(exc.value) == "booking_end_after_start"


def test_buffered_span_must_cover_the_booking():
    start = future_slot()
    with pytest.raises(IntegrityError) as exc:
        insert(start_at=start, blocked_from=start + timedelta(minutes=5))
    assert constraint_violated(exc.value) == "booking_buffers_cover_booking"


def test_a_pending_booking_without_a_hold_expiry_is_refused():
    with pytest.raises(IntegrityError) as exc:
        insert(status=BookingStatus.PENDING, hold_expires_at=None)
    assert constraint_violated(exc.value) == "booking_pending_has_hold"


def test_a_blocked_time_ending_before_it_starts_is_refused():
    from tests.factories import BlockedTimeFactory

    start = future_slot()
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        BlockedTimeFactory(start_at=start, end_at=start)
    assert constraint_violated(exc.value) == "blocked_time_end_after_start"


def test_two_services_of_one_provider_cannot_overlap():
    provider = ProviderFactory(duration_minutes=30)
    cleaning = ServiceFactory(duration_minutes=60, buffer_after_minutes=10, providers=[provider])
    start = future_slot()
    insert(provider=provider, start_at=start, service=cleaning)  # buffered span start .. start+70min
    with pytest.raises(IntegrityError) as exc:
        insert(provider=provider, start_at=start + timedelta(minutes=60), service=service_of(provider))
    assert constraint_violated(exc.value) == "booking_no_overlap"


def test_the_same_service_with_two_providers_may_be_booked_at_once():
    first, second = ProviderFactory(), ProviderFactory()
    shared = ServiceFactory(providers=[first, second])
    start = future_slot()
    insert(provider=first, service=shared, start_at=start)
    assert insert(provider=second, service=shared, start_at=start).pk
