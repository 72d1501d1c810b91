"""factory_boy factories shared by the whole suite."""

import hashlib
from datetime import date, time, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from scheduling.models import AvailabilityRule, BlockedTime, Booking, BookingStatus, Customer, Provider, Service


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests")
    is_staff = True


SERVICE_SETTINGS = {
    "duration_minutes", "slot_step_minutes", "buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes",
    "max_advance_days", "requires_confirmation", "hold_minutes", "reminder_lead_minutes", "free_cancel_hours",
    "late_cancel_fee", "price", "currency", "payment_mode", "waitlist_offer_minutes",
}  # fmt: skip


class ServiceFactory(factory.django.DjangoModelFactory):
    """A service; `providers=[...]` makes them offer it."""

    class Meta:
        model = Service
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Service {n}")
    slug = factory.Sequence(lambda n: f"service-{n}")
    duration_minutes = 30
    min_notice_minutes = 0
    max_advance_days = 3650

    @factory.post_generation
    def providers(self, create, extracted, **kwargs):
        if create and extracted:
            self.providers.set(extracted)


class ProviderFactory(factory.django.DjangoModelFactory):
    """A provider offering one service of its own, as every provider made before services did.

    Service settings given here (`duration_minutes=60`, `price=...`) go to that service; `service_of`
    returns it. `with_service=False` makes a provider that offers nothing yet.
    """

    class Meta:
        model = Provider

    kind = Provider.Kind.PERSON
    name = factory.Sequence(lambda n: f"Provider {n}")
    slug = factory.Sequence(lambda n: f"provider-{n}")
    timezone = "America/New_York"

    @classmethod
    def _create(cls, model_class, *args, with_service=True, **kwargs):
        settings = {name: kwargs.pop(name) for name in list(kwargs) if name in SERVICE_SETTINGS}
        provider = super()._create(model_class, *args, **kwargs)
        if with_service:
            ServiceFactory(name=provider.name, slug=provider.slug, providers=[provider], **settings)
        return provider


def service_of(provider: Provider) -> Service:
    """The provider's own service (the first it offers)."""
    return provider.services.order_by("pk").first()


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
    service = factory.LazyAttribute(lambda b: service_of(b.provider))
    customer = factory.SubFactory(CustomerFactory)
    start_at = factory.LazyFunction(lambda: timezone.now().replace(microsecond=0) + timedelta(days=2))
    end_at = factory.LazyAttribute(lambda b: b.start_at + timedelta(minutes=b.service.duration_minutes))
    blocked_from = factory.LazyAttribute(lambda b: b.start_at - timedelta(minutes=b.service.buffer_before_minutes))
    blocked_until = factory.LazyAttribute(lambda b: b.end_at + timedelta(minutes=b.service.buffer_after_minutes))
    status = BookingStatus.CONFIRMED
    provider_timezone = factory.LazyAttribute(lambda b: b.provider.timezone)
    customer_name = factory.LazyAttribute(lambda b: b.customer.name)
    customer_email = factory.LazyAttribute(lambda b: b.customer.email)
    customer_phone = factory.LazyAttribute(lambda b: b.customer.phone)
    customer_timezone = factory.LazyAttribute(lambda b: b.customer.timezone)
    hold_expires_at = factory.LazyAttribute(
        lambda b: timezone.now() + timedelta(minutes=15) if b.status == BookingStatus.PENDING else None
    )
    free_cancel_until = factory.LazyAttribute(lambda b: b.start_at - timedelta(hours=b.service.free_cancel_hours))
    price = factory.LazyAttribute(lambda b: b.service.price)
    currency = factory.LazyAttribute(lambda b: b.service.currency)
    late_cancel_fee = factory.LazyAttribute(lambda b: b.service.late_cancel_fee)
    manage_token_hash = factory.LazyFunction(lambda: hashlib.sha256(b"factory-token").hexdigest())


class PaidChargeFactory(factory.django.DjangoModelFactory):
    """A charge the customer has paid (at the venue unless told otherwise), as if staff had marked it."""

    class Meta:
        model = "payments.Payment"

    booking = factory.SubFactory(BookingFactory)
    kind = "charge"
    amount = factory.LazyAttribute(lambda payment: payment.booking.price)
    currency = factory.LazyAttribute(lambda payment: payment.booking.currency)
    status = "succeeded"
    gateway = "at_venue"
    succeeded_at = factory.LazyFunction(timezone.now)
