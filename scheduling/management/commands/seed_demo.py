"""Demo data for `make run`: four providers in three time zones, their rules, the services they
offer (two of one provider, one offered by two rooms) and a few bookings.

Idempotent: providers and services are looked up by slug, rules by their content, and the demo
bookings are made only while the demo customers have none, so a second run creates nothing.
"""

from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from scheduling.errors import DomainError
from scheduling.formatting import is_own_service
from scheduling.models import AvailabilityRule, Booking, Provider, Service
from scheduling.selectors import provider_slots, service_slots
from scheduling.services import CustomerData, booking_create, service_create, service_update

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
        "defaults": {"kind": Provider.Kind.PERSON, "name": "Dr. Ada Molar", "timezone": "America/New_York"},
        "rules": [
            RuleSeed(OPEN, WEEKDAYS, time(9), time(17), "Weekdays"),
            RuleSeed(CLOSED, WEEKDAYS, time(12), time(13), "Lunch break"),
            RuleSeed(CLOSED, CHRISTMAS, time(0), time(0), "Christmas Day"),
        ],
    },
    {
        "slug": "meeting-room",
        "defaults": {"kind": Provider.Kind.ROOM, "name": "Spree Meeting Room", "timezone": "Europe/Berlin"},
        "rules": [
            RuleSeed(OPEN, WEEKDAYS, time(9), time(17), "Weekdays"),
            RuleSeed(OPEN, FIRST_SATURDAY, time(10), time(13), "First Saturday of the month"),
            RuleSeed(CLOSED, CHRISTMAS, time(0), time(0), "Christmas Day"),
        ],
    },
    {
        "slug": "havel-room",
        "defaults": {"kind": Provider.Kind.ROOM, "name": "Havel Meeting Room", "timezone": "Europe/Berlin"},
        "rules": [
            RuleSeed(OPEN, WEEKDAYS, time(9), time(17), "Weekdays"),
            RuleSeed(CLOSED, CHRISTMAS, time(0), time(0), "Christmas Day"),
        ],
    },
    {
        "slug": "3d-printer",
        "defaults": {"kind": Provider.Kind.EQUIPMENT, "name": "Prusa 3D Printer", "timezone": "Asia/Tokyo"},
        "rules": [
            RuleSeed(OPEN, TUESDAYS, time(10), time(14), "Tuesdays"),
            RuleSeed(OPEN, FIRST_SATURDAY, time(10), time(13), "First Saturday of the month"),
            RuleSeed(CLOSED, CHRISTMAS, time(0), time(0), "Christmas Day"),
        ],
    },
]

# What customers book (the check-up is paid at the practice, the cleaning online through the checkout,
# which `make run` serves with localstripe). The dentist offers two services (they can never overlap: the constraint is
# per provider); the meeting room service is offered by both rooms, so it can be booked with
# "any available" room.
SERVICES = [
    {
        "slug": "check-up",
        "providers": ["dentist"],
        "fields": {
            "name": "Dental check-up", "duration_minutes": 30, "buffer_after_minutes": 10,
            "price": Decimal("120.00"), "currency": "USD", "late_cancel_fee": Decimal("40.00"),
            "payment_mode": "at_venue",
        },
    },
    {
        "slug": "cleaning",
        "providers": ["dentist"],
        "fields": {
            "name": "Dental cleaning", "duration_minutes": 60, "buffer_after_minutes": 10,
            "price": Decimal("180.00"), "currency": "USD", "late_cancel_fee": Decimal("60.00"),
            "payment_mode": "online",
        },
    },
    {
        "slug": "meeting-room-hour",
        "providers": ["meeting-room", "havel-room"],
        "fields": {
            "name": "Meeting room, 1 hour", "duration_minutes": 60, "slot_step_minutes": 30,
            "price": Decimal("30.00"), "currency": "EUR", "requires_confirmation": True,
        },
    },
    {
        "slug": "3d-print",
        "providers": ["3d-printer"],
        "fields": {"name": "3D print job", "duration_minutes": 120, "price": Decimal("0.00"), "currency": "JPY"},
    },
]  # fmt: skip

CUSTOMERS = [
    CustomerData(name="Grace Hopper", email="grace@demo.example", timezone="America/Los_Angeles"),
    CustomerData(name="Alan Turing", email="alan@demo.example", timezone="Europe/London"),
    CustomerData(name="Yuki Tanaka", email="yuki@demo.example", timezone="Asia/Tokyo"),
]

# (service slug, provider slug or None for "any available", customer index, which free slot: 0 is the
# first, None the start of the booking made just before)
BOOKINGS = [
    ("check-up", "dentist", 0, 2),
    # A cleaning is paid online when booked: a demo booking of it would only wait for a payment.
    ("check-up", "dentist", 1, 9),
    ("meeting-room-hour", None, 1, 4),
    ("meeting-room-hour", None, 0, None),  # the same time: "any available" gives it the other room
    ("3d-print", "3d-printer", 2, 0),
]
SEARCH_DAYS = 21


class Command(BaseCommand):
    help = "Create the demo providers, their rules, the services they offer and a few bookings (idempotent)."

    def handle(self, *args, **options):
        providers = self._providers()
        services = self._services(providers)
        self._bookings(providers, services)

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

    @transaction.atomic
    def _services(self, providers: dict[str, Provider]) -> dict[str, Service]:
        services = {}
        for seed in SERVICES:
            offering = [providers[slug] for slug in seed["providers"]]
            service = Service.objects.filter(slug=seed["slug"]).first()
            if service is None:
                service = service_create(providers=offering, slug=seed["slug"], **seed["fields"])
                self.stdout.write(f"Created service {service.name}, offered by {', '.join(p.name for p in offering)}")
            else:
                missing = [p for p in offering if not service.providers.filter(pk=p.pk).exists()]
                if missing:
                    service_update(service=service, providers=[*service.providers.all(), *missing])
                mode = seed["fields"].get("payment_mode", "none")
                if service.payment_mode == "none" and mode != "none":
                    # A demo database made before payments gets the demo's way of paying.
                    service_update(service=service, payment_mode=mode)
                    self.stdout.write(f"Service {service.name} is now paid {service.get_payment_mode_display()}")
                self.stdout.write(f"Kept service {service.name}")
            services[service.slug] = service
        self._retire_migrated_services(providers, services)
        return services

    def _retire_migrated_services(self, providers: dict[str, Provider], services: dict[str, Service]) -> None:
        """A demo database made before services has, for each demo provider, the service migration 0009
        made from its old settings (named after it). The demo's services replace them: deactivated, so
        each provider offers what the demo shows, and bookings made with them keep their service."""
        for provider in providers.values():
            for service in provider.services.filter(is_active=True).exclude(slug__in=list(services)):
                if is_own_service(service.name, provider.name):
                    service_update(service=service, is_active=False)
                    self.stdout.write(
                        f"Deactivated {service.name}'s service from before services: the demo's replace it"
                    )

    def _bookings(self, providers: dict[str, Provider], services: dict[str, Service]) -> None:
        emails = [customer.email for customer in CUSTOMERS]
        existing = Booking.objects.filter(customer__email__in=emails).count()
        if existing:
            self.stdout.write(f"Demo customers already have {existing} booking(s): none added.")
            return
        today = timezone.localdate()
        last = today + timedelta(days=SEARCH_DAYS)
        previous = None
        for service_slug, provider_slug, customer_index, nth in BOOKINGS:
            service = services[service_slug]
            provider = providers[provider_slug] if provider_slug else None
            # Read after every booking: two services of one provider, or two bookings of one service,
            # must not be offered a time already taken.
            if provider is not None:
                free = provider_slots(provider=provider, service=service, first=today, last=last)
            else:
                zone = service.providers.first().timezone
                free = service_slots(service=service, first=today, last=last, viewer_tz=zone)
                # The demo books such a time twice to show the second going to another provider: only a
                # time more than one of them offers will do (one room also opens on first Saturdays).
                free = [slot for slot in free if len(slot.provider_ids) > 1] or free
            if not free:
                self.stderr.write(
                    self.style.WARNING(f"No free slot for {service.name} in the next {SEARCH_DAYS} days: skipped.")
                )
                continue
            start = previous if nth is None and previous is not None else free[min(nth or 0, len(free) - 1)].start
            customer = CUSTOMERS[customer_index]
            try:
                booking = booking_create(
                    service_id=service.pk, provider_id=provider.pk if provider else None, start=start, customer=customer
                )
            except DomainError as exc:
                self.stderr.write(self.style.WARNING(f"{service.name} at {start:%Y-%m-%d %H:%M} UTC: {exc.detail}"))
                continue
            previous = booking.start_at
            local = booking.start_at.astimezone(booking.provider.timezone)
            self.stdout.write(
                f"Booked {service.name} with {booking.provider.name} for {customer.name} on "
                f"{local:%a %Y-%m-%d %H:%M} {booking.provider.timezone} ({booking.status}, ref {booking.reference})"
            )
