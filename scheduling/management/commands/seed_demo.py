"""Demo data for `make run`: three providers in three time zones, their rules and a few bookings.

Idempotent: providers are looked up by slug, rules by their content, and the demo bookings are
made only while the demo customers have none, so a second run creates nothing.
"""

from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from scheduling.models import AvailabilityRule, Booking, Provider
from scheduling.selectors import provider_slots
from scheduling.services import CustomerData, booking_create

STARTS_ON = date(2026, 1, 1)
WEEKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
TUESDAYS = "FREQ=WEEKLY;BYDAY=TU"
FIRST_SATURDAY = "FREQ=MONTHLY;BYDAY=1SA"
CHRISTMAS = "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25"

OPEN = AvailabilityRule.Kind.OPEN
CLOSED = AvailabilityRule.Kind.CLOSED


@dataclass(frozen=True)
class RuleSeed:
    kind: str
    rrule: str
    start_time: time
    end_time: time
    label: str


PROVIDERS = [
    {
        "slug": "dentist",
        "defaults": {
            "kind": Provider.Kind.PERSON,
            "name": "Dr. Ada Molar",
            "timezone": "America/New_York",
            "slot_minutes": 30,
            "buffer_after_minutes": 10,
            "price": Decimal("120.00"),
            "currency": "USD",
            "late_cancel_fee": Decimal("40.00"),
            "requires_confirmation": False,
        },
        "rules": [
            RuleSeed(OPEN, WEEKDAYS, time(9), time(17), "Weekdays"),
            RuleSeed(CLOSED, WEEKDAYS, time(12), time(13), "Lunch break"),
            RuleSeed(CLOSED, CHRISTMAS, time(0), time(0), "Christmas Day"),
        ],
    },
    {
        "slug": "meeting-room",
        "defaults": {
            "kind": Provider.Kind.ROOM,
            "name": "Spree Meeting Room",
            "timezone": "Europe/Berlin",
            "slot_minutes": 60,
            "slot_step_minutes": 30,
            "price": Decimal("30.00"),
            "currency": "EUR",
            "requires_confirmation": True,
        },
        "rules": [
            RuleSeed(OPEN, WEEKDAYS, time(9), time(17), "Weekdays"),
            RuleSeed(OPEN, FIRST_SATURDAY, time(10), time(13), "First Saturday of the month"),
            RuleSeed(CLOSED, CHRISTMAS, time(0), time(0), "Christmas Day"),
        ],
    },
    {
        "slug": "3d-printer",
        "defaults": {
            "kind": Provider.Kind.EQUIPMENT,
            "name": "Prusa 3D Printer",
            "timezone": "Asia/Tokyo",
            "slot_minutes": 120,
            "currency": "JPY",
        },
        "rules": [
            RuleSeed(OPEN, TUESDAYS, time(10), time(14), "Tuesdays"),
            RuleSeed(OPEN, FIRST_SATURDAY, time(10), time(13), "First Saturday of the month"),
            RuleSeed(CLOSED, CHRISTMAS, time(0), time(0), "Christmas Day"),
        ],
    },
]

CUSTOMERS = [
    CustomerData(name="Grace Hopper", email="grace@demo.example", timezone="America/Los_Angeles"),
    CustomerData(name="Alan Turing", email="alan@demo.example", timezone="Europe/London"),
    CustomerData(name="Yuki Tanaka", email="yuki@demo.example", timezone="Asia/Tokyo"),
]

# (provider slug, customer index, which of the provider's free slots to take: 0 is the first)
BOOKINGS = [
    ("dentist", 0, 2),
    ("dentist", 1, 9),
    ("meeting-room", 1, 4),
    ("3d-printer", 2, 0),
]
SEARCH_DAYS = 21


class Command(BaseCommand):
    help = "Create the demo providers, their availability rules and a few bookings (idempotent)."

    def handle(self, *args, **options):
        providers = self._providers()
        self._bookings(providers)

    @transaction.atomic
    def _providers(self) -> dict[str, Provider]:
        providers = {}
        for seed in PROVIDERS:
            provider, created = Provider.objects.get_or_create(slug=seed["slug"], defaults=seed["defaults"])
            if created:
                provider.full_clean()
            self.stdout.write(f"{'Created' if created else 'Kept'} provider {provider.name} ({provider.timezone})")
            for rule_seed in seed["rules"]:
                rule, created = AvailabilityRule.objects.get_or_create(
                    provider=provider,
                    kind=rule_seed.kind,
                    rrule=rule_seed.rrule,
                    starts_on=STARTS_ON,
                    start_time=rule_seed.start_time,
                    end_time=rule_seed.end_time,
                    defaults={"label": rule_seed.label},
                )
                if created:
                    rule.full_clean()
                    self.stdout.write(f"  added rule: {rule}")
            providers[provider.slug] = provider
        return providers

    def _bookings(self, providers: dict[str, Provider]) -> None:
        emails = [customer.email for customer in CUSTOMERS]
        existing = Booking.objects.filter(customer__email__in=emails).count()
        if existing:
            self.stdout.write(f"Demo customers already have {existing} booking(s): none added.")
            return
        today = timezone.localdate()
        free = {
            slug: provider_slots(provider=provider, first=today, last=today + timedelta(days=SEARCH_DAYS))
            for slug, provider in providers.items()
        }
        taken: dict[str, set] = {slug: set() for slug in providers}
        for slug, customer_index, nth in BOOKINGS:
            provider = providers[slug]
            slot = self._pick(free[slug], nth, taken[slug], provider)
            if slot is None:
                self.stderr.write(
                    self.style.WARNING(f"No free slot for {provider.name} in the next {SEARCH_DAYS} days: skipped.")
                )
                continue
            booking = booking_create(provider_id=provider.pk, start=slot.start, customer=CUSTOMERS[customer_index])
            taken[slug].add(slot.start)
            local = booking.start_at.astimezone(provider.timezone)
            self.stdout.write(
                f"Booked {provider.name} for {CUSTOMERS[customer_index].name} on {local:%a %Y-%m-%d %H:%M} "
                f"{provider.timezone} ({booking.status}, ref {booking.reference})"
            )

    @staticmethod
    def _pick(slots, nth: int, taken: set, provider: Provider):
        """The nth free slot, or the nearest one after it that does not meet a slot already booked here."""
        if not slots:
            return None
        reach = timedelta(
            minutes=provider.slot_minutes + provider.buffer_before_minutes + provider.buffer_after_minutes
        )
        candidates = slots[min(nth, len(slots) - 1) :] + slots[: min(nth, len(slots) - 1)]
        for slot in candidates:
            if all(abs(slot.start - start) >= reach for start in taken):
                return slot
        return None
