"""The waitlist benches' scenario: 100 services, each offered by its own provider (weekdays 09:00-17:00
with a closed lunch hour, Europe/Berlin), every slot of the next DAYS days booked, and 100 waiting
entries per service (10,000 in all) whose windows of one to three days lie inside that stretch; a
third only between 09:00 and 13:00 in their own zone, a fifth for that provider only. Written with
bulk_create for speed, with 300 closed entries per service as the line's history, after wiping the
bench database's scheduling and waitlist rows."""

from __future__ import annotations

import hashlib
import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

SERVICES = 100
ENTRIES_PER_SERVICE = 100
CLOSED_PER_SERVICE = 300  # the line's history: entries booked, expired or withdrawn stay in the table
DAYS = 14
PROVIDER_TZ = ZoneInfo("Europe/Berlin")
CUSTOMER_ZONES = ("Europe/Berlin", "Europe/London", "America/New_York")


def seed(*, now: datetime):
    """Returns the services, in creation order."""
    from django.db import connection, transaction

    from scheduling.availability import CLOSED, OPEN
    from scheduling.models import AvailabilityRule, BlockedTime, Booking, BookingStatus, Customer, Provider, Service
    from scheduling.selectors import provider_slots
    from waitlist.models import WaitlistEntry, WaitlistMessage

    rng = random.Random(20261203)
    first = now.astimezone(PROVIDER_TZ).date() + timedelta(days=1)
    last = first + timedelta(days=DAYS - 1)
    token_hash = hashlib.sha256(b"bench").hexdigest()
    with transaction.atomic():
        WaitlistMessage.objects.all().delete()
        WaitlistEntry.objects.all().delete()
        Booking.objects.all().delete()
        BlockedTime.objects.all().delete()
        AvailabilityRule.objects.all().delete()
        Service.objects.all().delete()
        Provider.objects.all().delete()
        Customer.objects.all().delete()
        customers = Customer.objects.bulk_create(
            [
                Customer(name=f"Waiter {n}", email=f"waiter{n}@example.com", timezone=rng.choice(CUSTOMER_ZONES))
                for n in range(ENTRIES_PER_SERVICE)
            ]
        )
        services = []
        for n in range(SERVICES):
            provider = Provider.objects.create(
                name=f"Bench provider {n}", slug=f"bench-provider-{n}", timezone=PROVIDER_TZ
            )
            service = Service.objects.create(
                name=f"Bench service {n}",
                slug=f"bench-service-{n}",
                duration_minutes=30,
                min_notice_minutes=0,
                max_advance_days=90,
                price=Decimal("50.00"),
            )
            service.providers.add(provider)
            since = first - timedelta(days=365)
            AvailabilityRule.objects.bulk_create(
                [
                    AvailabilityRule(provider=provider, kind=OPEN, rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                                     starts_on=since, start_time=time(9), end_time=time(17), label="Weekdays"),
                    AvailabilityRule(provider=provider, kind=CLOSED, rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                                     starts_on=since, start_time=time(12), end_time=time(13), label="Lunch"),
                ]
            )  # fmt: skip
            grid = [
                s.start for s in provider_slots(provider=provider, service=service, first=first, last=last, now=now)
            ]
            Booking.objects.bulk_create(
                [
                    Booking(
                        provider=provider, service=service, customer=customers[i % len(customers)],
                        start_at=start, end_at=start + timedelta(minutes=30),
                        blocked_from=start, blocked_until=start + timedelta(minutes=30),
                        status=BookingStatus.CONFIRMED, provider_timezone=PROVIDER_TZ,
                        customer_name="Booked", customer_email=f"booked{i}@example.com",
                        customer_timezone=PROVIDER_TZ, price=service.price,
                        free_cancel_until=start - timedelta(hours=service.free_cancel_hours),
                        manage_token_hash=token_hash,
                    )
                    for i, start in enumerate(grid)
                ]
            )  # fmt: skip
            entries = []
            for i, customer in enumerate(customers):
                day = first + timedelta(days=rng.randrange(DAYS - 3))
                zone = customer.timezone
                start = datetime.combine(day, time(0), tzinfo=zone)
                narrow = i % 3 == 0
                entries.append(
                    WaitlistEntry(
                        service=service, provider=provider if i % 5 == 0 else None, customer=customer,
                        customer_name=customer.name, customer_email=customer.email, customer_timezone=zone,
                        language="en", window_start=start, window_end=start + timedelta(days=rng.randint(1, 3)),
                        day_start=time(9) if narrow else None, day_end=time(13) if narrow else None,
                    )
                )  # fmt: skip
            WaitlistEntry.objects.bulk_create(entries)
            past = now - timedelta(days=30)
            WaitlistEntry.objects.bulk_create(
                [
                    WaitlistEntry(
                        service=service, customer=customers[i % len(customers)], customer_name="Earlier",
                        customer_email="earlier@example.com", customer_timezone=PROVIDER_TZ,
                        window_start=past - timedelta(days=i % 20 + 1), window_end=past - timedelta(days=i % 20),
                        status=("booked", "expired", "withdrawn")[i % 3], closed_at=past,
                    )
                    for i in range(CLOSED_PER_SERVICE)
                ]
            )  # fmt: skip
            services.append(service)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return services


def cancellable(service, *, now: datetime, count: int, rng: random.Random) -> list:
    """Booked slots of `service` that at least one waiting entry could take once freed."""
    from scheduling.models import Booking, BookingStatus
    from waitlist.models import EntryStatus, WaitlistEntry

    entries = list(WaitlistEntry.objects.filter(service=service, status=EntryStatus.WAITING))
    bookings = list(Booking.objects.filter(service=service, status=BookingStatus.CONFIRMED, start_at__gt=now))
    rng.shuffle(bookings)
    chosen = []
    for booking in bookings:
        if any(_fits(entry, booking) for entry in entries):
            chosen.append(booking)
            if len(chosen) == count:
                break
    return chosen


def _fits(entry, booking) -> bool:
    if not (entry.window_start <= booking.start_at and booking.end_at <= entry.window_end):
        return False
    if entry.day_start is None:
        return True
    local = booking.start_at.astimezone(entry.customer_timezone)
    local_end = booking.end_at.astimezone(entry.customer_timezone)
    return local.date() == local_end.date() and entry.day_start <= local.time() <= local_end.time() <= entry.day_end


def first_day(now: datetime) -> date:
    return now.astimezone(PROVIDER_TZ).date() + timedelta(days=1)
