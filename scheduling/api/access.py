"""Who may see and act on what. Anything a user may not act on is a 404, so nothing leaks."""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import PermissionDenied

from scheduling.errors import InvalidInput
from scheduling.models import AvailabilityRule, BlockedTime, Booking, Provider, Service
from scheduling.selectors import bookings_for_user, providers_for_user, service_managed_by, services_for_user


def readable_providers(user) -> QuerySet[Provider]:
    """Active providers for everyone, plus inactive ones the user manages."""
    if user.is_authenticated and user.is_superuser:
        return Provider.objects.all()
    if user.is_authenticated:
        return Provider.objects.filter(Q(is_active=True) | Q(staff=user)).distinct()
    return Provider.objects.filter(is_active=True)


def readable_provider(user, pk: int) -> Provider:
    return get_object_or_404(readable_providers(user), pk=pk)


def managed_provider(user, pk: int) -> Provider:
    return get_object_or_404(providers_for_user(user=user), pk=pk)


def readable_services(user) -> QuerySet[Service]:
    """Active services for everyone (as providers), plus the inactive ones the user may see."""
    if user.is_authenticated and user.is_superuser:
        return Service.objects.all()
    if user.is_authenticated:
        return Service.objects.filter(Q(is_active=True) | Q(pk__in=services_for_user(user=user).values("pk")))
    return Service.objects.filter(is_active=True)


def managed_service(user, pk: int) -> Service:
    """A service the user may change: 404 when they cannot see it, 403 when other staff's providers
    offer it too (a change would reach those providers' bookings)."""
    service = get_object_or_404(services_for_user(user=user), pk=pk)
    if not service_managed_by(service=service, user=user):
        raise PermissionDenied("Providers you do not manage offer this service too.")
    return service


def managed_rule(user, provider_pk: int, rule_pk: int) -> AvailabilityRule:
    provider = managed_provider(user, provider_pk)
    return get_object_or_404(AvailabilityRule, provider=provider, pk=rule_pk)


def managed_blocked_time(user, provider_pk: int, blocked_pk: int) -> BlockedTime:
    provider = managed_provider(user, provider_pk)
    return get_object_or_404(BlockedTime, provider=provider, pk=blocked_pk)


def managed_booking(user, pk: int) -> Booking:
    return get_object_or_404(bookings_for_user(user=user), pk=pk)


def check_bookable_by(user, *, provider_id: int | None, service_id: int | None) -> None:
    """Staff book for the providers they manage: a provider they name must be theirs, and "any
    available" of a service only when every provider offering it is theirs (else the booking could
    land with someone else's provider, out of their sight). Joining the waitlist is checked the same
    way: its offers are bookings of those providers."""
    if provider_id is not None:
        if not providers_for_user(user=user).filter(pk=provider_id).exists():
            raise InvalidInput("No such provider.", field="provider")
        return
    service = services_for_user(user=user).filter(pk=service_id).first()
    if service is None:
        raise InvalidInput("No such service.", field="service")
    if not service_managed_by(service=service, user=user):
        raise InvalidInput("Providers you do not manage offer this service too; say which provider.", field="provider")
