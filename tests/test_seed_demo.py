"""`manage.py seed_demo`: four providers in three zones, varied rules, services (two of one provider, one
of two rooms), a few bookings; idempotent."""

from datetime import UTC, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from scheduling.models import AvailabilityRule, Booking, Customer, Provider, Service

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "providers": Provider.objects.count(),
        "services": Service.objects.count(),
        "offers": Service.providers.through.objects.count(),
        "rules": AvailabilityRule.objects.count(),
        "customers": Customer.objects.count(),
        "bookings": Booking.objects.count(),
    }


def test_seed_twice_creates_nothing_new():
    seed()
    first = counts()
    second_output = seed()

    assert counts() == first
    assert (first["providers"], first["services"], first["offers"]) == (4, 4, 5)
    assert "none added" in second_output


def test_four_providers_in_three_zones():
    seed()

    zones = {p.slug: (p.kind, str(p.timezone)) for p in Provider.objects.all()}
    assert zones == {
        "dentist": (Provider.Kind.PERSON, "America/New_York"),
        "meeting-room": (Provider.Kind.ROOM, "Europe/Berlin"),
        "havel-room": (Provider.Kind.ROOM, "Europe/Berlin"),
        "3d-printer": (Provider.Kind.EQUIPMENT, "Asia/Tokyo"),
    }


def test_the_dentist_offers_a_check_up_and_a_cleaning_with_their_own_length_and_price():
    seed()

    offered = {s.slug: s for s in Provider.objects.get(slug="dentist").services.all()}
    assert set(offered) == {"check-up", "cleaning"}
    check_up, cleaning = offered["check-up"], offered["cleaning"]
    assert (check_up.duration_minutes, check_up.buffer_after_minutes, check_up.requires_confirmation) == (30, 10, False)
    assert (str(check_up.price), str(check_up.late_cancel_fee), check_up.currency) == ("120.00", "40.00", "USD")
    assert (cleaning.duration_minutes, str(cleaning.price)) == (60, "180.00")


def test_the_meeting_room_service_is_offered_by_both_rooms():
    seed()

    room = Service.objects.get(slug="meeting-room-hour")
    assert {p.slug for p in room.providers.all()} == {"meeting-room", "havel-room"}
    assert (room.duration_minutes, room.step_minutes, room.requires_confirmation, room.currency) == (
        60,
        30,
        True,
        "EUR",
    )
    assert Service.objects.get(slug="3d-print").duration_minutes == 120


def test_rules_are_varied_and_valid():
    seed()

    rules = list(AvailabilityRule.objects.all())
    for rule in rules:
        rule.full_clean()
    rrules = {rule.rrule for rule in rules}
    assert {"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "FREQ=WEEKLY;BYDAY=TU", "FREQ=MONTHLY;BYDAY=1SA"} <= rrules
    assert {rule.kind for rule in rules} == {AvailabilityRule.Kind.OPEN, AvailabilityRule.Kind.CLOSED}
    for provider in Provider.objects.all():
        kinds = set(provider.rules.values_list("kind", flat=True))
        assert kinds == {AvailabilityRule.Kind.OPEN, AvailabilityRule.Kind.CLOSED}, provider.slug


def test_bookings_are_made_through_the_service_in_free_slots():
    seed()

    bookings = list(Booking.objects.select_related("provider", "service", "customer"))
    assert len(bookings) == 5
    assert sorted((b.service.slug, b.provider.slug) for b in bookings) == [
        ("3d-print", "3d-printer"), ("check-up", "dentist"), ("check-up", "dentist"),
        ("meeting-room-hour", "havel-room"), ("meeting-room-hour", "meeting-room"),
    ]  # fmt: skip
    for booking in bookings:
        assert booking.is_live
        assert booking.blocked_from <= booking.start_at < booking.end_at <= booking.blocked_until
        assert booking.end_at - booking.start_at == timedelta(minutes=booking.service.duration_minutes)
    assert {b.status for b in bookings if b.service.slug == "meeting-room-hour"} == {"pending"}
    assert {b.status for b in bookings if b.provider.slug == "dentist"} == {"confirmed"}
    # The check-up is paid at the practice: each booking owes a charge staff will mark paid.
    assert {(p.gateway, p.status) for b in bookings if b.service.slug == "check-up" for p in b.payments.all()} == {
        ("at_venue", "pending")
    }


def test_any_available_gives_the_second_room_booking_at_the_same_time_to_the_other_room():
    seed()

    rooms = list(Booking.objects.filter(service__slug="meeting-room-hour"))
    assert len({b.start_at for b in rooms}) == 1
    assert len({b.provider_id for b in rooms}) == 2


def test_any_available_pairs_a_time_both_rooms_offer_when_the_next_free_times_are_one_rooms_saturday(monkeypatch):
    # A Friday afternoon before a month's first Saturday: after Friday's last hour, the next free
    # meeting-room times are the Saturday morning only the Spree room opens.
    saturday = timezone.localdate() + timedelta(days=2)
    while saturday.weekday() != 5 or saturday.day > 7:
        saturday += timedelta(days=1)
    friday_afternoon = datetime.combine(saturday - timedelta(days=1), time(15), tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: friday_afternoon)

    seed()

    rooms = list(Booking.objects.filter(service__slug="meeting-room-hour"))
    assert len(rooms) == 2
    assert len({b.start_at for b in rooms}) == 1
    assert rooms[0].start_at.astimezone(rooms[0].provider.timezone).weekday() != 5


def test_a_demo_database_from_before_services_offers_only_the_demos_services():
    dentist = Provider.objects.create(name="Dr. Ada Molar", slug="dentist", timezone="America/New_York")
    migrated = Service.objects.create(name="Dr. Ada Molar", slug="dentist")  # as migration 0009 made it
    migrated.providers.add(dentist)

    seed()

    offered = set(Provider.objects.get(slug="dentist").services.filter(is_active=True).values_list("slug", flat=True))
    assert migrated.slug not in offered
    assert len(offered) == 2


def test_a_demo_made_before_payments_gets_the_demos_payment_modes():
    seed()
    Service.objects.filter(slug__in=["check-up", "cleaning"]).update(payment_mode="none")

    seed()

    assert dict(Service.objects.filter(slug__in=["check-up", "cleaning"]).values_list("slug", "payment_mode")) == {
        "check-up": "at_venue",
        "cleaning": "online",
    }
