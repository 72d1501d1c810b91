"""The public booking API (/api/v1/public/): what a company's own booking widget calls from its
visitors' browsers, with no credentials at all (docs/api.md, "Public booking API").

No authentication classes, so no session and no CSRF: a browser on another origin (allowed by
booking_site.cors) sends nothing that could make a request count as staff. Reads are throttled per IP
at the anonymous slots rate, POSTs in the booking pages' own per-IP window. A booking is reached only
by its signed manage token, the one in the customer's manage link; its answers are whitelists
(scheduling/api/public_serializers.py), and no error names another booking.
"""

import logging

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from payments import services as payments
from payments.gateways.base import GatewayError
from scheduling import selectors, services
from scheduling.api.errors import ErrorSerializer, api_exception_handler
from scheduling.api.public_serializers import (
    PublicBookingCreateSerializer,
    PublicBookingSerializer,
    PublicCancelSerializer,
    PublicRescheduleSerializer,
    PublicServiceSerializer,
)
from scheduling.api.schema import errors
from scheduling.api.serializers import ServiceSlotsResponseSerializer
from scheduling.api.throttling import PublicBookingPostThrottle, SlotsThrottle
from scheduling.api.views.slots import WINDOW_PARAMETERS, ServiceSlotsApi
from scheduling.errors import InvalidTransition
from scheduling.models import Booking, BookingStatus, CancelReason

logger = logging.getLogger(__name__)

# Ids of other bookings that the staff API's errors carry (a 409's `conflicting_booking_id`, a moved
# booking's `rescheduled_to`): another customer's booking, or nothing a widget needs.
PRIVATE_ERROR_FIELDS = ("conflicting_booking_id", "rescheduled_to")
TOKEN = OpenApiParameter(
    "token", str, OpenApiParameter.PATH, description="The booking's manage token (`manage_token`)."
)


def public_exception_handler(exc, context):
    response = api_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict):
        response.data = {name: value for name, value in response.data.items() if name not in PRIVATE_ERROR_FIELDS}
    return response


def public_errors(*codes: int) -> dict:
    documented = errors(*codes)
    if 409 in documented:
        documented[409] = OpenApiResponse(
            ErrorSerializer, description="Conflict: `slot_unavailable` or `invalid_transition` (no booking ids)."
        )
    return documented


class _PublicApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [SlotsThrottle, PublicBookingPostThrottle]

    def get_exception_handler(self):
        return public_exception_handler


class PublicServiceListApi(_PublicApi):
    @extend_schema(
        responses={200: PublicServiceSerializer(many=True), **public_errors()},
        tags=["public"],
        operation_id="public_services_list",
        description="The services a visitor can book, each with the providers offering it.",
    )
    def get(self, request):
        found = selectors.active_services_with_providers()
        return Response(PublicServiceSerializer(found, many=True).data)


class PublicServiceSlotsApi(ServiceSlotsApi):
    """The staff API's service slots, anonymously: the same query and answer."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get_exception_handler(self):
        return public_exception_handler

    @extend_schema(
        parameters=[
            *WINDOW_PARAMETERS,
            OpenApiParameter(
                "tz",
                str,
                description="IANA zone the dates are in (the visitor's); default UTC or "
                "the zone all the service's providers share.",
            ),
            OpenApiParameter("provider", int, description="Only this provider's slots (it must offer the service)."),
        ],
        responses={200: ServiceSlotsResponseSerializer, **public_errors(400)},
        tags=["public"],
        operation_id="public_services_slots_retrieve",
    )
    def get(self, request, pk: int):
        return super().get(request, pk)


def _language(request, customer: dict) -> str:
    return customer.get("language") or getattr(request, "LANGUAGE_CODE", "") or settings.LANGUAGE_CODE


def _start_online_charge(booking: Booking) -> None:
    """Start the charge a booking held for online payment waits for, after its transaction has
    committed (as the staff API does: no gateway call under the provider's lock). A gateway that is
    down leaves the charge to the checkout, which starts it on the customer's visit."""
    if booking.status != BookingStatus.PENDING or not booking.service.takes_online_payment:
        return
    try:
        payments.checkout_charge(booking=booking)
    except GatewayError as exc:
        logger.warning("Booking %s: the charge could not be started yet (%s)", booking.reference, exc)


def _booking_for(token: str) -> Booking:
    booking = selectors.booking_by_signed_token(token=token)
    if booking is None:
        raise exceptions.NotFound()
    booking.manage_token = token
    return booking


def _still_changeable(booking: Booking, *, verb: str) -> None:
    """As the manage page: only a live booking that has not started can be changed online."""
    if not booking.is_live or timezone.now() >= booking.start_at:
        raise InvalidTransition(f"This booking can no longer be {verb} online.")


def _shown(booking: Booking, *, token: str | None = None, new: bool = False) -> Response:
    if token is not None:
        booking.manage_token = token
    body = PublicBookingSerializer(booking, context={"with_secret": new}).data
    return Response(body, status=status.HTTP_201_CREATED if new else status.HTTP_200_OK)


class PublicBookingCreateApi(_PublicApi):
    @extend_schema(
        request=PublicBookingCreateSerializer,
        responses={201: PublicBookingSerializer, **public_errors(400, 409)},
        tags=["public"],
        operation_id="public_bookings_create",
    )
    def post(self, request):
        data = PublicBookingCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given, customer = data.validated_data, data.validated_data["customer"]
        booking = services.booking_create(
            service_id=given["service"],
            provider_id=given.get("provider"),
            start=given["start"],
            customer=services.CustomerData(
                name=customer["name"], email=customer["email"], phone=customer["phone"], timezone=customer["timezone"]
            ),
            notes=given["notes"],
            language=_language(request, customer),
        )
        _start_online_charge(booking)
        return _shown(booking, new=True)


class PublicBookingDetailApi(_PublicApi):
    @extend_schema(
        parameters=[TOKEN],
        responses={200: PublicBookingSerializer, **public_errors()},
        tags=["public"],
        operation_id="public_bookings_retrieve",
    )
    def get(self, request, token: str):
        return _shown(_booking_for(token))


class PublicBookingCancelApi(_PublicApi):
    @extend_schema(
        parameters=[TOKEN],
        request=PublicCancelSerializer,
        responses={200: PublicBookingSerializer, **public_errors(400, 409)},
        tags=["public"],
        operation_id="public_bookings_cancel",
        description="The customer cancels: free until `free_cancel_until`, after it the `late_cancel_fee`.",
    )
    def post(self, request, token: str):
        booking = _booking_for(token)
        data = PublicCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _still_changeable(booking, verb="cancelled")
        cancelled = services.booking_cancel(
            booking_id=booking.pk, reason=CancelReason.CUSTOMER, note=data.validated_data["note"]
        )
        return _shown(cancelled, token=token)


class PublicBookingRescheduleApi(_PublicApi):
    @extend_schema(
        parameters=[TOKEN],
        request=PublicRescheduleSerializer,
        responses={201: PublicBookingSerializer, **public_errors(400, 409)},
        tags=["public"],
        operation_id="public_bookings_reschedule",
        description="Moves the booking to another free start of the same service and provider: the answer is "
        "the new booking, with its own `manage_token` and `manage_url`; the old token shows the old booking, "
        "cancelled.",
    )
    def post(self, request, token: str):
        booking = _booking_for(token)
        data = PublicRescheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _still_changeable(booking, verb="moved")
        new = services.booking_reschedule(booking_id=booking.pk, start=data.validated_data["start"])
        _start_online_charge(new)
        return _shown(new, new=True)
