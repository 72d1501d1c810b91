"""The waitlist: join, list and read the line, and act on an entry (accept, decline, withdraw).

Who may do what mirrors bookings: joining needs `add_booking` and, for staff, the providers the
offers could go to (`access.check_bookable_by`), since every offer is a booking made for the
customer; reading needs `view_waitlistentry`, the transitions `change_waitlistentry`. The entries a
user reaches are `waitlist.selectors_api.waitlist_entries_for_user`; any other is a 404.
"""

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from scheduling.api import access
from scheduling.api.pagination import PAGE_PARAMETERS, PageOrArray, listed
from scheduling.api.permissions import model_permission
from scheduling.api.schema import errors
from scheduling.api.waitlist_serializers import (
    WaitlistAcceptedSerializer,
    WaitlistEntrySerializer,
    WaitlistFilterSerializer,
    WaitlistJoinSerializer,
)
from scheduling.models import Booking
from scheduling.selectors import bookings_for_user
from scheduling.services import CustomerData
from waitlist import services
from waitlist.models import WaitlistEntry
from waitlist.selectors_api import waitlist_entries_for_user, with_line_positions

LIST_DESCRIPTION = (
    "The entries you may see (of your providers, or of a service one of them offers), in line order: "
    "`created_at`, then `id`. Pass `page` or `page_size` to get a page (`count`, `next`, `previous`, "
    "`results`); without either, the whole list as a JSON array, as providers and services are listed."
)


def _entries(user) -> QuerySet[WaitlistEntry]:
    return with_line_positions(waitlist_entries_for_user(user=user)).order_by("created_at", "pk")


def _entry(user, pk: int) -> WaitlistEntry:
    return get_object_or_404(_entries(user), pk=pk)


def _filtered(entries: QuerySet[WaitlistEntry], filters: dict) -> QuerySet[WaitlistEntry]:
    for name in ("service", "provider", "status"):
        if name in filters:
            entries = entries.filter(**{"status" if name == "status" else f"{name}_id": filters[name]})
    return entries


class WaitlistListApi(APIView):
    permission_classes = [model_permission(WaitlistEntry)]

    def get_permissions(self):
        # Joining makes bookings for the customer (the offers): it needs what booking needs.
        if self.request.method == "POST":
            return [model_permission(Booking)()]
        return super().get_permissions()

    @extend_schema(
        parameters=[WaitlistFilterSerializer, *PAGE_PARAMETERS],
        responses={200: PageOrArray(WaitlistEntrySerializer, "WaitlistEntry"), **errors(400)},
        operation_id="waitlist_list",
        description=LIST_DESCRIPTION,
        tags=["waitlist"],
    )
    def get(self, request):
        filters = WaitlistFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return listed(request, _filtered(_entries(request.user), filters.validated_data), WaitlistEntrySerializer, self)

    @extend_schema(
        request=WaitlistJoinSerializer,
        responses={201: WaitlistEntrySerializer, **errors(400, 409)},
        operation_id="waitlist_create",
        description="Put a customer in line. 409 `already_waiting` when they already wait for this service "
        "over an overlapping window. An offer is made right after, should a time be free already.",
        tags=["waitlist"],
    )
    def post(self, request):
        data = WaitlistJoinSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        if not request.user.is_superuser:
            access.check_bookable_by(request.user, provider_id=given.get("provider"), service_id=given["service"])
        customer = given["customer"]
        entry = services.waitlist_join(
            service_id=given["service"],
            provider_id=given.get("provider"),
            window=services.Window(
                start=given["window_start"],
                end=given["window_end"],
                day_start=given.get("day_start"),
                day_end=given.get("day_end"),
            ),
            customer=CustomerData(
                name=customer["name"],
                email=customer["email"],
                phone=customer.get("phone", ""),
                timezone=customer["timezone"],
            ),
            language=given.get("language") or getattr(request, "LANGUAGE_CODE", "") or settings.LANGUAGE_CODE,
        )
        return Response(WaitlistEntrySerializer(_entry(request.user, entry.pk)).data, status=status.HTTP_201_CREATED)


class WaitlistDetailApi(APIView):
    permission_classes = [model_permission(WaitlistEntry)]

    @extend_schema(
        responses={200: WaitlistEntrySerializer, **errors()}, operation_id="waitlist_retrieve", tags=["waitlist"]
    )
    def get(self, request, pk: int):
        return Response(WaitlistEntrySerializer(_entry(request.user, pk)).data)


class _TransitionApi(APIView):
    permission_classes = [model_permission(WaitlistEntry, POST=("change",))]
    output = WaitlistEntrySerializer

    def transition(self, entry_id: int) -> None:
        raise NotImplementedError

    def post(self, request, pk: int):
        entry = _entry(request.user, pk)
        # The offer is a booking with one provider: acting on it takes managing that provider, as for
        # any booking, even when the entry itself was for any provider of the service.
        if (
            entry.offer_booking_id
            and not bookings_for_user(user=request.user).filter(pk=entry.offer_booking_id).exists()
        ):
            raise NotFound()
        self.transition(entry.pk)
        return Response(self.output(_entry(request.user, pk)).data)


def _transition_schema(operation_id: str, description: str, output=WaitlistEntrySerializer) -> dict:
    return {
        "request": None,
        "responses": {200: output, **errors(409)},
        "operation_id": operation_id,
        "description": description,
        "tags": ["waitlist"],
    }


class WaitlistAcceptApi(_TransitionApi):
    output = WaitlistAcceptedSerializer

    @extend_schema(
        **_transition_schema(
            "waitlist_accept",
            "Take the offered time: the held booking (`booking`) is confirmed, or for a service paid online "
            "stays pending for the customer to pay within the offer. 409 `invalid_transition` without a live offer.",
            WaitlistAcceptedSerializer,
        )
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def transition(self, entry_id: int) -> None:
        services.waitlist_accept(entry_id=entry_id)


class WaitlistDeclineApi(_TransitionApi):
    @extend_schema(
        **_transition_schema(
            "waitlist_decline",
            "Turn the offered time down: the hold is released for the next in line and the entry closes "
            "(`withdrawn`). 409 `invalid_transition` without a live offer.",
        )
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def transition(self, entry_id: int) -> None:
        services.waitlist_decline(entry_id=entry_id)


class WaitlistWithdrawApi(_TransitionApi):
    @extend_schema(
        **_transition_schema(
            "waitlist_withdraw",
            "Leave the line (`withdrawn`); a live offer is declined with it. 409 `invalid_transition` once the "
            "entry is closed (booked, expired or withdrawn).",
        )
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def transition(self, entry_id: int) -> None:
        services.waitlist_withdraw(entry_id=entry_id)
