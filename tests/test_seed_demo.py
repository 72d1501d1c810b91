"""`manage.py seed_demo`: three providers in three zones, varied rules, a few bookings; idempotent."""

from io import StringIO

import pytest
from django.core.management import call_command

from scheduling.models import AvailabilityRule, Booking, Customer, Provider

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "providers": Provider.objects.count(),
        "rules": AvailabilityRule.objects.count(),
        "customers": Customer.objects.count(),
        "bookings": Booking.objects.count(),
    }


def test_seed_twice_creates_nothing_new():
    seed()
    first = counts()
    second_output = seed()

    assert counts() == first
    assert first["providers"] == 3
    assert "none added" in second_output


def test_three_providers_in_three_zones():
    seed()

    zones = {p.slug: (p.kind, str(p.timezone)) for p in Provider.objects.all()}
    assert zones == {
        "dentist": (Provider.Kind.PERSON, "America/New_York"),
        "meeting-room": (Provider.Kind.ROOM, "Europe/Berlin"),
        "3d-printer": (Provider.Kind.EQUIPMENT, "Asia/Tokyo"),
    }
    dentist = Provider.objects.get(slug="dentist")
    assert (dentist.slot_minutes, dentist.buffer_after_minutes, dentist.requires_confirmation) == (30, 10, False)
    assert (str(dentist.price), str(dentist.late_cancel_fee), dentist.currency) == ("120.00", "40.00", "USD")
    room = Provider.objects.get(slug="meeting-room")
    assert (room.slot_minutes, room.step_minutes, room.requires_confirmation, room.currency) == (60, 30, True, "EUR")
    assert Provider.objects.get(slug="3d-printer").slot_minutes == 120


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

    bookings = list(Booking.objects.select_related("provider", "customer"))
    assert 3 <= len(bookings) <= 5
    assert {b.provider.slug for b in bookings} == {"dentist", "meeting-room", "3d-printer"}
    for booking in bookings:
        assert booking.is_live
        assert booking.blocked_from <= booking.start_at < booking.end_at <= booking.blocked_until
    assert Booking.objects.get(provider__slug="meeting-room").status == "pending"
    assert {b.status for b in bookings if b.provider.slug == "dentist"} == {"confirmed"}
