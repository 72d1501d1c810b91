"""Who may see and act on what. Anything a user may not act on is a 404, so nothing leaks."""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from scheduling.models import AvailabilityRule, BlockedTime, Booking, Provider
from scheduling.selectors import bookings_for_user, providers_for_user


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


def managed_rule(user, provider_pk: int, rule_pk: int) -> AvailabilityRule:
    provider = managed_provider(user, provider_pk)
    return get_object_or_404(AvailabilityRule, provider=provider, pk=rule_pk)


def managed_blocked_time(user, provider_pk: int, blocked_pk: int) -> BlockedTime:
    provider = managed_provider(user, provider_pk)
    return get_object_or_404(BlockedTime, provider=provider, pk=blocked_pk)


def managed_booking(user, pk: int) -> Booking:
    return get_object_or_404(bookings_for_user(user=user), pk=pk)
