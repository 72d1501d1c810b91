"""Providers, their availability rules, blocked times and free slots."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from scheduling import services
from scheduling.api import access
from scheduling.api.fields import YEAR_PATTERN
from scheduling.api.permissions import PublicReadsMixin, model_permission
from scheduling.api.renderers import FastJSONRenderer
from scheduling.api.schema import errors
from scheduling.api.serializers import (
    AvailabilityRuleSerializer,
    BlockedTimeSerializer,
    ProviderSerializer,
    SlotsQuerySerializer,
    SlotsResponseSerializer,
)
from scheduling.api.throttling import SlotsThrottle
from scheduling.models import AvailabilityRule, BlockedTime, Provider
from scheduling.selectors import provider_slots

DATE = {"type": "string", "format": "date", "pattern": YEAR_PATTERN}


class ProviderListApi(PublicReadsMixin, APIView):
    permission_classes = [model_permission(Provider)]

    @extend_schema(responses={200: ProviderSerializer(many=True), **errors()}, tags=["providers"])
    def get(self, request):
        providers = access.readable_providers(request.user).order_by("name", "pk")
        return Response(ProviderSerializer(providers, many=True).data)

    @extend_schema(request=ProviderSerializer, responses={201: ProviderSerializer, **errors(400)}, tags=["providers"])
    def post(self, request):
        data = ProviderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        provider = services.provider_create(staff=[request.user], **data.validated_data)
        return Response(ProviderSerializer(provider).data, status=status.HTTP_201_CREATED)


class ProviderDetailApi(PublicReadsMixin, APIView):
    permission_classes = [model_permission(Provider)]

    @extend_schema(responses={200: ProviderSerializer, **errors()}, tags=["providers"])
    def get(self, request, pk: int):
        return Response(ProviderSerializer(access.readable_provider(request.user, pk)).data)

    @extend_schema(request=ProviderSerializer, responses={200: ProviderSerializer, **errors(400)}, tags=["providers"])
    def patch(self, request, pk: int):
        provider = access.managed_provider(request.user, pk)
        data = ProviderSerializer(provider, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        provider = services.provider_update(provider=provider, **data.validated_data)
        return Response(ProviderSerializer(provider).data)

    @extend_schema(
        responses={200: ProviderSerializer, 204: None, **errors()},
        description="Deletes the provider (204), or deactivates it when it has bookings (200, `is_active` false).",
        tags=["providers"],
    )
    def delete(self, request, pk: int):
        provider = access.managed_provider(request.user, pk)
        if services.provider_delete(provider=provider):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ProviderSerializer(provider).data)


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


class SlotsApi(APIView):
    permission_classes = [AllowAny]
    renderer_classes = [FastJSONRenderer, BrowsableAPIRenderer]
    throttle_classes = [SlotsThrottle]
    throttle_scope = "slots"

    @extend_schema(
        parameters=[
            OpenApiParameter("start", DATE, description="First local date (YYYY-MM-DD) in `tz`; default today."),
            OpenApiParameter(
                "end", DATE, description="Last local date, inclusive; default start + 6 days. At most 62 days in all."
            ),
            OpenApiParameter("tz", str, description="IANA zone the dates are in; default the provider's zone."),
        ],
        responses={200: SlotsResponseSerializer, **errors(400)},
        tags=["providers"],
    )
    def get(self, request, pk: int):
        provider = access.readable_provider(request.user, pk)
        query = SlotsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        viewer_tz = query.validated_data.get("tz") or provider.timezone
        first = query.validated_data.get("start") or timezone.now().astimezone(viewer_tz).date()
        last = query.validated_data.get("end") or first + timedelta(days=6)
        if last < first or (last - first).days + 1 > SlotsQuerySerializer.MAX_DAYS:
            query = SlotsQuerySerializer(data={"start": first, "end": last})
            query.is_valid(raise_exception=True)
        slots = provider_slots(provider=provider, first=first, last=last, viewer_tz=viewer_tz)
        # Built by hand and rendered by orjson: per-slot serializers, then isoformat(), each cost more
        # than computing the slots (bench/api_booking.py). SlotsResponseSerializer documents the shape.
        body = {
            "provider": provider.pk,
            "timezone": str(viewer_tz),
            "slots": [
                {"start": slot.start, "end": slot.end, "local_start": _local(slot.start, viewer_tz)} for slot in slots
            ],
        }
        return Response(body)


def _local(instant: datetime, zone: ZoneInfo) -> datetime | str:
    """The instant in `zone`, for the renderer. At offset zero the renderer would write `Z`, which
    reads as "UTC" rather than "London wall clock": such times go out as `+00:00`, written here."""
    local = instant.astimezone(zone)
    return local if local.utcoffset() else local.isoformat()
