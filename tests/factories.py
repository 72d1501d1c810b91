"""factory_boy factories shared by the whole suite."""

import hashlib
from datetime import date, time, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from scheduling.models import AvailabilityRule, BlockedTime, Booking, BookingStatus, Customer, Provider


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests")
    is_staff = True


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    kind = Provider.Kind.PERSON
    name = factory.Sequence(lambda n: f"Provider {n}")
    slug = factory.Sequence(lambda n: f"provider-{n}")
    timezone = "America/New_York"
    slot_minutes = 30
    min_notice_minutes = 0
    max_advance_days = 3650


class AvailabilityRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AvailabilityRule

    provider = factory.SubFactory(ProviderFactory)
    kind = AvailabilityRule.Kind.OPEN
    rrule = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    starts_on = date(2026, 1, 1)
    start_time = time(9, 0)
    end_time = time(17, 0)


class BlockedTimeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BlockedTime

    provider = factory.SubFactory(ProviderFactory)
    start_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    end_at = factory.LazyAttribute(lambda b: b.start_at + timedelta(hours=1))
    reason = BlockedTime.Reason.PERSONAL


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    timezone = "UTC"


class BookingFactory(factory.django.DjangoModelFactory):
    """A booking written straight to the table, bypassing the services.

    For tests that need a booking in a given state or in the past; anything that tests booking
    behaviour goes through scheduling.services instead.
    """

    class Meta:
        model = Booking

    provider = factory.SubFactory(ProviderFactory)
    customer = factory.SubFactory(CustomerFactory)
    start_at = factory.LazyFunction(lambda: timezone.now().replace(microsecond=0) + timedelta(days=2))
    end_at = factory.LazyAttribute(lambda b: b.start_at + timedelta(minutes=b.provider.slot_minutes))
    blocked_from = factory.LazyAttribute(lambda b: b.start_at - timedelta(minutes=b.provider.buffer_before_minutes))
    blocked_until = factory.LazyAttribute(lambda b: b.end_at + timedelta(minutes=b.provider.buffer_after_minutes))
    status = BookingStatus.CONFIRMED
    provider_timezone = factory.LazyAttribute(lambda b: b.provider.timezone)
    customer_name = factory.LazyAttribute(lambda b: b.customer.name)
    customer_email = factory.LazyAttribute(lambda b: b.customer.email)
    customer_phone = factory.LazyAttribute(lambda b: b.customer.phone)
    customer_timezone = factory.LazyAttribute(lambda b: b.customer.timezone)
    hold_expires_at = factory.LazyAttribute(
        lambda b: timezone.now() + timedelta(minutes=15) if b.status == BookingStatus.PENDING else None
    )
    free_cancel_until = factory.LazyAttribute(lambda b: b.start_at - timedelta(hours=b.provider.free_cancel_hours))
    price = factory.LazyAttribute(lambda b: b.provider.price)
    late_cancel_fee = factory.LazyAttribute(lambda b: b.provider.late_cancel_fee)
    manage_token_hash = factory.LazyFunction(lambda: hashlib.sha256(b"factory-token").hexdigest())
