"""`booking_create` by service: with a named provider, by provider alone, and "any available"
(the fair rule and the race retry of docs/decisions/0011-services.md)."""

import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from scheduling.errors import InvalidInput, SlotNotOffered, SlotUnavailable
from scheduling.models import Booking, BookingStatus, Service
from scheduling.services import CustomerData, booking_create, booking_reschedule, service_delete
from tests.concurrency import run_concurrently
from tests.factories import BlockedTimeFactory, BookingFactory, ServiceFactory, service_of
from tests.scheduling.conftest import future_slot, open_all_day_provider

pytestmark = pytest.mark.django_db

ALICE = CustomerData(name="Alice", email="alice@example.com")


def customer(n: int) -> CustomerData:
    return CustomerData(name=f"Customer {n}", email=f"customer{n}@example.com")


def shared_service(count: int = 3, **settings):
    providers = [open_all_day_provider(with_service=False) for _ in range(count)]
    return ServiceFactory(providers=providers, **settings), providers


# --- choosing the service and the provider -----------------------------------------------------


def test_booking_with_a_named_provider_uses_the_services_length_buffers_and_price():
    provider = open_all_day_provider(duration_minutes=30)
    cleaning = ServiceFactory(
        duration_minutes=60, buffer_after_minutes=15, price="80.00", late_cancel_fee="20.00", providers=[provider]
    )
    start = future_slot()

    booking = booking_create(service_id=cleaning.pk, provider_id=provider.pk, start=start, customer=ALICE)

    assert (booking.service, booking.provider) == (cleaning, provider)
    assert (booking.end_at, booking.blocked_until) == (start + timedelta(minutes=60), start + timedelta(minutes=75))
    assert (booking.price, booking.late_cancel_fee) == (Decimal("80.00"), Decimal("20.00"))


def test_booking_by_provider_alone_takes_its_only_service():
    provider = open_all_day_provider()
    booking = booking_create(provider_id=provider.pk, start=future_slot(), customer=ALICE)
    assert booking.service == service_of(provider)


def test_booking_by_provider_alone_ignores_an_inactive_second_service():
    provider = open_all_day_provider()
    ServiceFactory(providers=[provider], is_active=False)
    booking = booking_create(provider_id=provider.pk, start=future_slot(), customer=ALICE)
    assert booking.service == service_of(provider)


def test_booking_by_provider_alone_is_refused_naming_service_when_it_offers_several():
    provider = open_all_day_provider()
    ServiceFactory(providers=[provider])
    with pytest.raises(InvalidInput) as exc:
        booking_create(provider_id=provider.pk, start=future_slot(), customer=ALICE)
    assert list(exc.value.fields) == ["service"]
    assert Booking.objects.count() == 0


def test_a_provider_that_does_not_offer_the_service_is_refused_naming_provider():
    provider = open_all_day_provider()
    other = ServiceFactory(providers=[open_all_day_provider()])
    with pytest.raises(InvalidInput) as exc:
        booking_create(service_id=other.pk, provider_id=provider.pk, start=future_slot(), customer=ALICE)
    assert list(exc.value.fields) == ["provider"]


def test_an_inactive_service_takes_no_bookings():
    provider = open_all_day_provider()
    service = service_of(provider)
    service.is_active = False
    service.save()
    with pytest.raises(InvalidInput) as exc:
        booking_create(service_id=service.pk, provider_id=provider.pk, start=future_slot(), customer=ALICE)
    assert list(exc.value.fields) == ["service"]


def test_neither_service_nor_provider_is_refused_naming_service():
    with pytest.raises(InvalidInput) as exc:
        booking_create(start=future_slot(), customer=ALICE)
    assert list(exc.value.fields) == ["service"]


def test_rescheduling_keeps_the_provider_and_the_service():
    service, _ = shared_service(2)
    booking = booking_create(service_id=service.pk, start=future_slot(), customer=ALICE)
    moved = booking_reschedule(booking_id=booking.pk, start=future_slot(hour=14))
    assert (moved.provider, moved.service) == (booking.provider, service)


# --- any available -------------------------------------------------------------------------------


def test_any_available_assigns_a_provider_free_at_that_time():
    service, (first, second) = shared_service(2)
    start = future_slot()
    BookingFactory(provider=first, service=service, start_at=start)

    booking = booking_create(service_id=service.pk, start=start, customer=ALICE)

    assert booking.provider == second


def test_any_available_skips_a_provider_blocked_or_closed_at_that_time():
    service, (blocked, free) = shared_service(2)
    start = future_slot()
    BlockedTimeFactory(provider=blocked, start_at=start - timedelta(hours=1), end_at=start + timedelta(hours=1))

    assert booking_create(service_id=service.pk, start=start, customer=ALICE).provider == free


def test_any_available_skips_a_provider_busy_with_another_service():
    service, (busy, free) = shared_service(2)
    other = ServiceFactory(duration_minutes=60, providers=[busy])
    start = future_slot()
    BookingFactory(provider=busy, service=other, start_at=start - timedelta(minutes=30))

    assert booking_create(service_id=service.pk, start=start, customer=ALICE).provider == free


def test_any_available_gives_a_conflict_naming_a_booking_when_every_provider_is_taken():
    service, providers = shared_service(2)
    start = future_slot()
    taken = [BookingFactory(provider=p, service=service, start_at=start) for p in providers]

    with pytest.raises(SlotUnavailable) as exc:
        booking_create(service_id=service.pk, start=start, customer=ALICE)

    assert exc.value.conflicting_booking_id in {b.pk for b in taken}
    assert Booking.objects.count() == 2


def test_any_available_off_the_grid_is_not_offered():
    service, _ = shared_service(2)
    with pytest.raises(SlotNotOffered):
        booking_create(service_id=service.pk, start=future_slot() + timedelta(minutes=7), customer=ALICE)


def test_any_available_with_no_active_provider_is_refused_naming_service():
    service = ServiceFactory(providers=[open_all_day_provider(is_active=False)])
    with pytest.raises(InvalidInput) as exc:
        booking_create(service_id=service.pk, start=future_slot(), customer=ALICE)
    assert list(exc.value.fields) == ["service"]


# --- the fair rule ------------------------------------------------------------------------------


def test_thirty_any_available_bookings_over_three_equally_free_providers_give_ten_each():
    service, providers = shared_service(3)
    base = future_slot(days=5, hour=0)
    for n in range(30):
        booking_create(service_id=service.pk, start=base + timedelta(hours=n), customer=customer(n))

    counts = Counter(Booking.objects.filter(service=service).values_list("provider_id", flat=True))
    assert sorted(counts.values()) == [10, 10, 10]
    assert set(counts) == {p.pk for p in providers}


def test_the_provider_with_fewest_bookings_of_the_service_nearby_is_assigned():
    service, (busiest, idle, middle) = shared_service(3)
    start = future_slot(days=10)
    for n, provider in enumerate([busiest, busiest, middle]):
        BookingFactory(provider=provider, service=service, start_at=start + timedelta(days=1, hours=n))

    assert booking_create(service_id=service.pk, start=start, customer=ALICE).provider == idle


def test_bookings_far_from_the_start_or_cancelled_or_of_other_services_do_not_count():
    service, (first, second) = shared_service(2)
    start = future_slot(days=40)
    BookingFactory(provider=first, service=service, start_at=start - timedelta(days=20))  # outside 14 days
    BookingFactory(provider=first, service=service, start_at=start + timedelta(hours=2), status=BookingStatus.CANCELLED)
    BookingFactory(provider=first, service=ServiceFactory(providers=[first]), start_at=start + timedelta(hours=4))
    BookingFactory(provider=second, service=service, start_at=start + timedelta(days=3))

    assert booking_create(service_id=service.pk, start=start, customer=ALICE).provider == first


def test_a_tie_goes_to_the_provider_booked_least_recently():
    service, (first, second) = shared_service(2)
    start = future_slot(days=10)
    BookingFactory(provider=second, service=service, start_at=start + timedelta(days=1))
    BookingFactory(provider=first, service=service, start_at=start + timedelta(days=2))  # made later

    assert booking_create(service_id=service.pk, start=start, customer=ALICE).provider == second


# --- races: the constraint still arbitrates ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_two_customers_taking_one_time_with_two_free_providers_both_succeed_on_different_providers():
    service, providers = shared_service(2)
    start = future_slot()

    results = run_concurrently(
        [lambda n=n: booking_create(service_id=service.pk, start=start, customer=customer(n)) for n in range(2)]
    )

    assert all(isinstance(r, Booking) for r in results), results
    assert {r.provider_id for r in results} == {p.pk for p in providers}


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_twenty_racers_for_one_time_over_three_providers_leave_three_bookings_and_seventeen_conflicts():
    service, providers = shared_service(3)
    start = future_slot()

    results = run_concurrently(
        [lambda n=n: booking_create(service_id=service.pk, start=start, customer=customer(n)) for n in range(20)]
    )

    winners = [r for r in results if isinstance(r, Booking)]
    losers = [r for r in results if isinstance(r, SlotUnavailable)]
    assert len(losers) == 17, [r for r in results if not isinstance(r, Booking | SlotUnavailable)]
    assert sorted(w.provider_id for w in winners) == sorted(p.pk for p in providers)
    assert {loser.conflicting_booking_id for loser in losers} <= {w.pk for w in winners}
    assert Booking.objects.live().filter(start_at=start).count() == 3


def test_any_available_moves_on_from_a_candidate_taken_off_the_service_meanwhile(monkeypatch):
    service, (leaving, staying) = shared_service(2)
    service.providers.remove(leaving)  # after the candidates were read, as a concurrent edit would
    monkeypatch.setattr(
        "scheduling.selectors.assignment_candidates", lambda *, service, start: [leaving.pk, staying.pk]
    )

    assert booking_create(service_id=service.pk, start=future_slot(), customer=ALICE).provider == staying


def test_a_booking_can_move_after_its_provider_stopped_offering_the_service():
    service, (provider, _) = shared_service(2)
    booking = booking_create(service_id=service.pk, provider_id=provider.pk, start=future_slot(), customer=ALICE)
    service.providers.remove(provider)

    moved = booking_reschedule(booking_id=booking.pk, start=future_slot(hour=15))

    assert (moved.provider, moved.service) == (provider, service)


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_service_deleted_while_a_booking_of_it_commits_is_deactivated_not_deleted():
    service, _ = shared_service(1)
    booked = threading.Event()

    def book_and_linger():
        with transaction.atomic():
            booking = booking_create(service_id=service.pk, start=future_slot(), customer=ALICE)
            booked.set()
            time.sleep(0.5)  # the delete arrives while this booking is not yet committed
        return booking

    def delete_when_booked():
        assert booked.wait(10)
        return service_delete(service=Service.objects.get(pk=service.pk))

    booking, deleted = run_concurrently([book_and_linger, delete_when_booked])

    assert isinstance(booking, Booking), booking
    assert deleted is False
    assert Service.objects.get(pk=service.pk).is_active is False
