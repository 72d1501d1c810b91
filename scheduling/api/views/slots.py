"""Free slots: of a provider (for one of its services) and of a service (over its providers)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from booking_site.db_router import replica_for_reads
from scheduling.api import access
from scheduling.api.fields import YEAR_PATTERN
from scheduling.api.renderers import FastJSONRenderer
from scheduling.api.schema import errors
from scheduling.api.serializers import (
    ProviderSlotsQuerySerializer,
    ServiceSlotsQuerySerializer,
    ServiceSlotsResponseSerializer,
    SlotsQuerySerializer,
    SlotsResponseSerializer,
)
from scheduling.api.throttling import SlotsThrottle
from scheduling.errors import InvalidInput
from scheduling.models import Provider, Service
from scheduling.selectors import provider_slots, service_providers, service_slots, services_offered_by
from scheduling.services.inputs import sole_service

DATE = {"type": "string", "format": "date", "pattern": YEAR_PATTERN}
WINDOW_PARAMETERS = [
    OpenApiParameter("start", DATE, description="First local date (YYYY-MM-DD) in `tz`; default today."),
    OpenApiParameter(
        "end", DATE, description="Last local date, inclusive; default start + 6 days. At most 62 days in all."
    ),
]


class _SlotsApi(APIView):
    permission_classes = [AllowAny]
    renderer_classes = [FastJSONRenderer, BrowsableAPIRenderer]
    throttle_classes = [SlotsThrottle]
    query_serializer: type[SlotsQuerySerializer]

    def query(self, request) -> dict:
        query = self.query_serializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data

    @staticmethod
    def window(query: dict, default_tz: ZoneInfo) -> tuple[date, date, ZoneInfo]:
        """The local dates asked for and their zone, defaults filled in and bounded as given ones are."""
        viewer_tz = query.get("tz") or default_tz
        first = query.get("start") or timezone.now().astimezone(viewer_tz).date()
        last = query.get("end") or first + timedelta(days=6)
        if last < first or (last - first).days + 1 > SlotsQuerySerializer.MAX_DAYS:
            bounded = SlotsQuerySerializer(data={"start": first, "end": last})
            bounded.is_valid(raise_exception=True)
        return first, last, viewer_tz


class SlotsApi(_SlotsApi):
    query_serializer = ProviderSlotsQuerySerializer

    @extend_schema(
        parameters=[
            *WINDOW_PARAMETERS,
            OpenApiParameter("tz", str, description="IANA zone the dates are in; default the provider's zone."),
            OpenApiParameter(
                "service",
                int,
                description="A service this provider offers; needed when it offers several (else a 400 naming "
                "`service`).",
            ),
        ],
        responses={200: SlotsResponseSerializer, **errors(400)},
        tags=["providers"],
    )
    def get(self, request, pk: int):
        provider = access.readable_provider(request.user, pk)
        query = self.query(request)
        service = _service_of(provider, query.get("service"))
        first, last, viewer_tz = self.window(query, provider.timezone)
        slots = (
            provider_slots(
                provider=provider,
                service=service,
                first=first,
                last=last,
                viewer_tz=viewer_tz,
                using=replica_for_reads(),
                provider_is_fresh=True,  # its availability version keys the slots cache
            )
            if service
            else []
        )
        # Built by hand and rendered by orjson: per-slot serializers, then isoformat(), each cost more
        # than computing the slots: with them, slots fell from 59-71 % of the floor to 22-24 % (ADR 0007,
        # item 4). SlotsResponseSerializer documents the shape.
        body = {
            "provider": provider.pk,
            "service": service.pk if service else None,
            "timezone": str(viewer_tz),
            "slots": [
                {
                    "start": slot.start,
                    "end": slot.end,
                    "local_start": _local(slot.start, viewer_tz),
                    "local_end": _local(slot.end, viewer_tz),
                }
                for slot in slots
            ],
        }
        return Response(body)


class ServiceSlotsApi(_SlotsApi):
    query_serializer = ServiceSlotsQuerySerializer

    @extend_schema(
        parameters=[
            *WINDOW_PARAMETERS,
            OpenApiParameter(
                "tz",
                str,
                description="IANA zone the dates are in; default the zone of `provider`, or the one all the "
                "service's providers share, else UTC.",
            ),
            OpenApiParameter(
                "provider", int, description="Only this provider's slots (it must offer the service, else a 400)."
            ),
        ],
        responses={200: ServiceSlotsResponseSerializer, **errors(400)},
        tags=["services"],
    )
    def get(self, request, pk: int):
        service = get_object_or_404(access.readable_services(request.user), pk=pk)
        query = self.query(request)
        providers = service_providers(service=service)
        if "provider" in query:
            providers = [p for p in providers if p.pk == query["provider"]]
            if not providers:
                raise InvalidInput("This provider does not offer this service.", field="provider")
        zones = {str(p.timezone) for p in providers}
        first, last, viewer_tz = self.window(query, ZoneInfo(zones.pop() if len(zones) == 1 else "UTC"))
        slots = service_slots(
            service=service,
            first=first,
            last=last,
            viewer_tz=viewer_tz,
            providers=providers,
            using=replica_for_reads(),
            providers_are_fresh=True,
        )
        body = {
            "service": service.pk,
            "timezone": str(viewer_tz),
            "slots": [
                {
                    "start": slot.start,
                    "end": slot.end,
                    "local_start": _local(slot.start, viewer_tz),
                    "local_end": _local(slot.end, viewer_tz),
                    "providers": list(slot.provider_ids),
                    "available": len(slot.provider_ids),
                }
                for slot in slots
            ],
        }
        return Response(body)


def _service_of(provider: Provider, service_id: int | None) -> Service | None:
    """The service a provider's slots are for: the one asked for (which it must offer), else its only
    active one. As `booking_create` decides for a booking by provider alone."""
    offered = services_offered_by(provider=provider)
    if service_id is not None:
        chosen = next((s for s in offered if s.pk == service_id), None)
        if chosen is None:
            raise InvalidInput("This provider does not offer this service.", field="service")
        return chosen
    return sole_service(offered)


def _local(instant: datetime, zone: ZoneInfo) -> datetime | str:
    """The instant in `zone`, for the renderer. At offset zero the renderer would write `Z`, which
    reads as "UTC" rather than "London wall clock": such times go out as `+00:00`, written here."""
    local = instant.astimezone(zone)
    return local if local.utcoffset() else local.isoformat()
