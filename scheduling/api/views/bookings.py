"""Bookings: list, read, create (idempotent), the lifecycle transitions and staff refunds."""

import logging
from datetime import datetime
from functools import partial

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from payments import services as payments
from payments.gateways.base import GatewayError
from payments.selectors import with_payments
from scheduling import services
from scheduling.api import access
from scheduling.api.idempotency import Unstored, idempotent
from scheduling.api.pagination import PagePagination
from scheduling.api.permissions import model_permission
from scheduling.api.schema import IDEMPOTENCY_KEY, errors
from scheduling.api.serializers import (
    BookingCreatedSerializer,
    BookingCreateSerializer,
    BookingFilterSerializer,
    BookingPageSerializer,
    BookingSerializer,
    CancelSerializer,
    RefundSerializer,
    RescheduleSerializer,
    booking_manage_url,
)
from scheduling.api.throttling import BookingPostThrottle
from scheduling.models import Booking, BookingStatus
from scheduling.selectors import bookings_for_user

logger = logging.getLogger(__name__)


def _filtered(bookings: QuerySet[Booking], filters: dict) -> QuerySet[Booking]:
    if "provider" in filters:
        bookings = bookings.filter(provider_id=filters["provider"])
    if "service" in filters:
        bookings = bookings.filter(service_id=filters["service"])
    if "status" in filters:
        bookings = bookings.filter(status=filters["status"])
    if "start_after" in filters:
        bookings = bookings.filter(start_at__gte=filters["start_after"])
    if "start_before" in filters:
        bookings = bookings.filter(start_at__lt=filters["start_before"])
    if "customer_email" in filters:
        bookings = bookings.filter(customer_email__iexact=filters["customer_email"])
    return bookings


class BookingListApi(APIView):
    permission_classes = [model_permission(Booking)]
    throttle_classes = [BookingPostThrottle]

    @extend_schema(
        parameters=[BookingFilterSerializer],
        responses={200: BookingPageSerializer, **errors(400)},
        tags=["bookings"],
        operation_id="bookings_list",
    )
    def get(self, request):
        filters = BookingFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        bookings = _filtered(bookings_for_user(user=request.user), filters.validated_data)
        bookings = with_payments(bookings.select_related("rescheduled_to", "service")).order_by("start_at", "pk")
        paginator = PagePagination()
        page = paginator.paginate_queryset(bookings, request, view=self)
        return paginator.get_paginated_response(BookingSerializer(page, many=True).data)

    @extend_schema(
        request=BookingCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: BookingCreatedSerializer, **errors(400, 409, 422)},
        tags=["bookings"],
    )
    def post(self, request):
        data = BookingCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The client's Accept-Language (kept by booking_site.middleware.PagesLocaleMiddleware, which
        # answers the API itself in English) is the booking's language unless the body names one.
        asked = getattr(request, "LANGUAGE_CODE", "") or settings.LANGUAGE_CODE
        create = partial(self._create, request.user, data.validated_data, language=asked)
        return _with_checkout(idempotent(request, create, unstored=MANAGE_URL))

    @staticmethod
    def _create(user, data: dict, *, language: str) -> Response:
        # A superuser may book anything; the service layer refuses what does not exist.
        if not user.is_superuser:
            access.check_bookable_by(user, provider_id=data.get("provider"), service_id=data.get("service"))
        customer = data["customer"]
        booking = _booking_create(data, customer, language=language)
        return Response(BookingCreatedSerializer(booking).data, status=status.HTTP_201_CREATED)


def _with_checkout(response: Response) -> Response:
    """Start the online charge a new (or moved) booking waits for, and answer with it: after
    `idempotent` has committed the booking and its record, so no gateway call is ever made inside a
    transaction or under the provider's lock (docs/decisions/0013-payments.md). The stored record
    therefore never holds the client secret; a replay shows it again, from the live charge, to the same
    user. A gateway that is down does not undo the booking: it stays held, and the charge is started on
    the next visit to the checkout."""
    if response.status_code != status.HTTP_201_CREATED or not isinstance(response.data, dict):
        return response
    owed = response.data.get("payment") or {}
    if owed.get("mode") != "online" or owed.get("status") not in ("awaiting_payment", "failed"):
        return response  # nothing to pay online: no query more than before
    booking = Booking.objects.select_related("service").filter(pk=response.data.get("id")).first()
    if booking is None or not booking.service.takes_online_payment or booking.status != BookingStatus.PENDING:
        return response
    try:
        payments.checkout_charge(booking=booking)
    except GatewayError as exc:
        logger.warning("Booking %s: the charge could not be started yet (%s)", booking.reference, exc)
    response.data = {**response.data, "payment": BookingCreatedSerializer().get_payment(booking)}
    return response


def _remade_manage_url(body: dict) -> str | None:
    booking = Booking.objects.only("pk", "reference", "manage_secret_version").filter(pk=body["id"]).first()
    return booking_manage_url(booking) if booking else None


# A replayed creation shows the manage link again without the idempotency record keeping it: signed
# links are made from the booking, never stored (docs/decisions/0010-manage-links.md).
MANAGE_URL = Unstored(field="manage_url", remake=_remade_manage_url)


def _booking_create(data: dict, customer: dict, *, language: str) -> Booking:
    return services.booking_create(
        provider_id=data.get("provider"),
        service_id=data.get("service"),
        start=data["start"],
        customer=services.CustomerData(
            name=customer["name"],
            email=customer["email"],
            phone=customer.get("phone", ""),
            timezone=customer["timezone"],
        ),
        notes=data["notes"],
        language=data.get("language") or language,
    )


class BookingDetailApi(APIView):
    permission_classes = [model_permission(Booking)]

    @extend_schema(responses={200: BookingSerializer, **errors()}, tags=["bookings"])
    def get(self, request, pk: int):
        booking = get_object_or_404(with_payments(bookings_for_user(user=request.user)), pk=pk)
        return Response(BookingSerializer(booking).data)


class _TransitionApi(APIView):
    permission_classes = [model_permission(Booking, POST=("change",))]  # as the console's transition buttons

    def transition(self, booking: Booking, request) -> Booking:
        raise NotImplementedError

    def post(self, request, pk: int):
        booking = self.transition(access.managed_booking(request.user, pk), request)
        return Response(BookingSerializer(booking).data)


_TRANSITION_SCHEMA = {"responses": {200: BookingSerializer, **errors(409)}, "tags": ["bookings"], "request": None}


class BookingConfirmApi(_TransitionApi):
    @extend_schema(**_TRANSITION_SCHEMA, operation_id="bookings_confirm")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def transition(self, booking, request):
        return services.booking_confirm(booking_id=booking.pk)


class BookingCompleteApi(_TransitionApi):
    @extend_schema(**_TRANSITION_SCHEMA, operation_id="bookings_complete")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def transition(self, booking, request):
        return services.booking_complete(booking_id=booking.pk)


class BookingNoShowApi(_TransitionApi):
    @extend_schema(**_TRANSITION_SCHEMA, operation_id="bookings_no_show")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def transition(self, booking, request):
        return services.booking_mark_no_show(booking_id=booking.pk)


class BookingCancelApi(_TransitionApi):
    @extend_schema(
        request=CancelSerializer,
        responses={200: BookingSerializer, **errors(400, 409)},
        tags=["bookings"],
        operation_id="bookings_cancel",
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def transition(self, booking, request):
        data = CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return services.booking_cancel(booking_id=booking.pk, reason=data.validated_data["reason"])


class BookingRescheduleApi(APIView):
    # The old booking changes state and a new one is made.
    permission_classes = [model_permission(Booking, POST=("add", "change"))]
    throttle_classes = [BookingPostThrottle]

    @extend_schema(
        request=RescheduleSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: BookingCreatedSerializer, **errors(400, 409, 422)},
        tags=["bookings"],
        operation_id="bookings_reschedule",
    )
    def post(self, request, pk: int):
        booking = access.managed_booking(request.user, pk)
        data = RescheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        start, service_id = data.validated_data["start"], data.validated_data.get("service")
        moved = idempotent(request, lambda: self._reschedule(booking.pk, start, service_id), unstored=MANAGE_URL)
        return _with_checkout(moved)

    @staticmethod
    def _reschedule(booking_id: int, start: datetime, service_id: int | None) -> Response:
        new = services.booking_reschedule(booking_id=booking_id, start=start, service_id=service_id)
        return Response(BookingCreatedSerializer(new).data, status=status.HTTP_201_CREATED)


class BookingRefundApi(_TransitionApi):
    """Staff give money back: as for the transitions, a booking of a provider they manage and
    `change_booking`. The refund rows commit at once; a worker makes the gateway calls."""

    @extend_schema(
        request=RefundSerializer,
        responses={200: BookingSerializer, **errors(400)},
        tags=["bookings"],
        operation_id="bookings_refund",
        description="Refunds `amount` (default: everything paid and not yet refunded). More than that, or a "
        "booking with nothing paid, is a 400 `invalid` naming `amount`. The answer's `payment` shows the "
        "refund as made; the gateway is called right after. Send an `Idempotency-Key` so that a retry "
        "after a lost answer replays it instead of refunding again.",
    )
    def post(self, request, pk: int):
        # Money moves: a retried request with the same key replays the first answer, never refunds twice.
        return idempotent(request, lambda: super(BookingRefundApi, self).post(request, pk))

    def transition(self, booking, request):
        data = RefundSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payments.payment_refund(booking_id=booking.pk, amount=data.validated_data.get("amount"), user=request.user)
        return get_object_or_404(with_payments(Booking.objects.all()), pk=booking.pk)
