"""Providers, their availability rules and blocked times (their slots: scheduling/api/views/slots.py)."""

from contextlib import contextmanager

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from scheduling import services
from scheduling.api import access
from scheduling.api.pagination import DEPRECATED_ARRAY, PAGE_PARAMETERS, PageOrArray, listed
from scheduling.api.permissions import PublicReadsMixin, model_permission
from scheduling.api.schema import errors
from scheduling.api.serializers import (
    DEPRECATED_PROVIDER_FIELDS,
    AvailabilityRuleSerializer,
    BlockedTimeSerializer,
    ProviderSerializer,
)
from scheduling.errors import InvalidInput
from scheduling.models import AvailabilityRule, BlockedTime, Provider, Service
from scheduling.selectors import DEFAULT_SERVICE_FIRST


def with_services(providers: QuerySet[Provider]) -> QuerySet[Provider]:
    """Providers with the services they offer in `services_by_id`, in the order
    `selectors.provider_default_service` takes the first from: one query for a whole list."""
    return providers.select_related("calendar_feed").prefetch_related(
        Prefetch("services", queryset=Service.objects.order_by(*DEFAULT_SERVICE_FIRST), to_attr="services_by_id")
    )


_PROVIDER_FIELD_OF = {setting: name for name, setting in DEPRECATED_PROVIDER_FIELDS.items()}


@contextmanager
def _named_as_provider_fields():
    """Errors about the default service's settings name the provider fields they were given as
    (`slot_minutes`, not `duration_minutes`)."""
    try:
        yield
    except InvalidInput as exc:
        fields = {_PROVIDER_FIELD_OF.get(name, name): messages for name, messages in exc.fields.items()}
        raise type(exc)(exc.detail, fields=fields) from exc


class ProviderListApi(PublicReadsMixin, APIView):
    permission_classes = [model_permission(Provider)]

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses={200: PageOrArray(ProviderSerializer, "Provider"), **errors(400)},
        operation_id="providers_list",
        description=DEPRECATED_ARRAY,
        tags=["providers"],
    )
    def get(self, request):
        providers = with_services(access.readable_providers(request.user)).order_by("name", "pk")
        return listed(request, providers, ProviderSerializer, view=self)

    @extend_schema(request=ProviderSerializer, responses={201: ProviderSerializer, **errors(400)}, tags=["providers"])
    def post(self, request):
        data = ProviderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        # Always a service of its own (defaults for what is not given), so it is bookable as before.
        own_service = fields.pop("own_service", {})
        with _named_as_provider_fields():
            provider = services.provider_create(staff=[request.user], own_service=own_service, **fields)
        return Response(ProviderSerializer(provider, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ProviderDetailApi(PublicReadsMixin, APIView):
    permission_classes = [model_permission(Provider)]

    @extend_schema(responses={200: ProviderSerializer, **errors()}, tags=["providers"])
    def get(self, request, pk: int):
        provider = get_object_or_404(with_services(access.readable_providers(request.user)), pk=pk)
        return Response(ProviderSerializer(provider, context={"request": request}).data)

    @extend_schema(request=ProviderSerializer, responses={200: ProviderSerializer, **errors(400)}, tags=["providers"])
    def patch(self, request, pk: int):
        provider = access.managed_provider(request.user, pk)
        data = ProviderSerializer(provider, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        own_service = fields.pop("own_service", None)
        with _named_as_provider_fields():
            provider = services.provider_update(provider=provider, own_service=own_service, **fields)
        return Response(ProviderSerializer(provider, context={"request": request}).data)

    @extend_schema(
        responses={200: ProviderSerializer, 204: None, **errors()},
        description="Deletes the provider (204), or deactivates it when it has bookings (200, `is_active` false).",
        tags=["providers"],
    )
    def delete(self, request, pk: int):
        provider = access.managed_provider(request.user, pk)
        if services.provider_delete(provider=provider):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ProviderSerializer(provider, context={"request": request}).data)


class RuleApi(APIView):
    """A provider's rules: staff of that provider only (404 for everyone else), with the rule permissions."""

    permission_classes = [model_permission(AvailabilityRule)]


class BlockedTimeApi(APIView):
    permission_classes = [model_permission(BlockedTime)]


class RuleListApi(RuleApi):
    @extend_schema(responses={200: AvailabilityRuleSerializer(many=True), **errors()}, tags=["availability rules"])
    def get(self, request, pk: int):
        provider = access.managed_provider(request.user, pk)
        return Response(AvailabilityRuleSerializer(provider.rules.order_by("pk"), many=True).data)

    @extend_schema(
        request=AvailabilityRuleSerializer,
        responses={201: AvailabilityRuleSerializer, **errors(400)},
        tags=["availability rules"],
    )
    def post(self, request, pk: int):
        provider = access.managed_provider(request.user, pk)
        data = AvailabilityRuleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = services.availability_rule_create(provider=provider, **data.validated_data)
        return Response(AvailabilityRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailApi(RuleApi):
    @extend_schema(responses={200: AvailabilityRuleSerializer, **errors()}, tags=["availability rules"])
    def get(self, request, pk: int, rule_id: int):
        return Response(AvailabilityRuleSerializer(access.managed_rule(request.user, pk, rule_id)).data)

    @extend_schema(
        request=AvailabilityRuleSerializer,
        responses={200: AvailabilityRuleSerializer, **errors(400)},
        tags=["availability rules"],
    )
    def patch(self, request, pk: int, rule_id: int):
        rule = access.managed_rule(request.user, pk, rule_id)
        data = AvailabilityRuleSerializer(rule, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rule = services.availability_rule_update(rule=rule, **data.validated_data)
        return Response(AvailabilityRuleSerializer(rule).data)

    @extend_schema(responses={204: None, **errors()}, tags=["availability rules"])
    def delete(self, request, pk: int, rule_id: int):
        services.availability_rule_delete(rule=access.managed_rule(request.user, pk, rule_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlockedTimeListApi(BlockedTimeApi):
    @extend_schema(responses={200: BlockedTimeSerializer(many=True), **errors()}, tags=["blocked times"])
    def get(self, request, pk: int):
        provider = access.managed_provider(request.user, pk)
        return Response(BlockedTimeSerializer(provider.blocked_times.order_by("start_at", "pk"), many=True).data)

    @extend_schema(
        request=BlockedTimeSerializer, responses={201: BlockedTimeSerializer, **errors(400)}, tags=["blocked times"]
    )
    def post(self, request, pk: int):
        provider = access.managed_provider(request.user, pk)
        data = BlockedTimeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        blocked = services.blocked_time_create(provider=provider, **data.validated_data)
        return Response(BlockedTimeSerializer(blocked).data, status=status.HTTP_201_CREATED)


class BlockedTimeDetailApi(BlockedTimeApi):
    @extend_schema(responses={200: BlockedTimeSerializer, **errors()}, tags=["blocked times"])
    def get(self, request, pk: int, blocked_id: int):
        return Response(BlockedTimeSerializer(access.managed_blocked_time(request.user, pk, blocked_id)).data)

    @extend_schema(responses={204: None, **errors()}, tags=["blocked times"])
    def delete(self, request, pk: int, blocked_id: int):
        services.blocked_time_delete(blocked_time=access.managed_blocked_time(request.user, pk, blocked_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
