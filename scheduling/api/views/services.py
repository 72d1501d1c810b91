"""Services: what is booked, and which providers offer it (their slots: scheduling/api/views/slots.py)."""

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
from scheduling.api.serializers import ServiceSerializer
from scheduling.models import Provider, Service


def _with_providers(services_: QuerySet[Service]) -> QuerySet[Service]:
    return services_.prefetch_related(Prefetch("providers", queryset=Provider.objects.order_by("pk")))


def _written(request, service: Service | None = None, *, partial: bool = False) -> dict:
    data = ServiceSerializer(service, data=request.data, partial=partial, context={"user": request.user})
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


class ServiceListApi(PublicReadsMixin, APIView):
    permission_classes = [model_permission(Service)]

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses={200: PageOrArray(ServiceSerializer, "Service"), **errors(400)},
        operation_id="services_list",
        description=DEPRECATED_ARRAY,
        tags=["services"],
    )
    def get(self, request):
        found = _with_providers(access.readable_services(request.user)).order_by("name", "pk")
        return listed(request, found, ServiceSerializer, view=self)

    @extend_schema(request=ServiceSerializer, responses={201: ServiceSerializer, **errors(400)}, tags=["services"])
    def post(self, request):
        service = services.service_create(**_written(request))
        return Response(ServiceSerializer(service).data, status=status.HTTP_201_CREATED)


class ServiceDetailApi(PublicReadsMixin, APIView):
    permission_classes = [model_permission(Service)]

    @extend_schema(responses={200: ServiceSerializer, **errors()}, tags=["services"])
    def get(self, request, pk: int):
        service = get_object_or_404(_with_providers(access.readable_services(request.user)), pk=pk)
        return Response(ServiceSerializer(service).data)

    @extend_schema(request=ServiceSerializer, responses={200: ServiceSerializer, **errors(400)}, tags=["services"])
    def patch(self, request, pk: int):
        service = access.managed_service(request.user, pk)
        service = services.service_update(service=service, **_written(request, service, partial=True))
        return Response(ServiceSerializer(service).data)

    @extend_schema(
        responses={200: ServiceSerializer, 204: None, **errors()},
        description="Deletes the service (204), or deactivates it when it has bookings (200, `is_active` false).",
        tags=["services"],
    )
    def delete(self, request, pk: int):
        service = access.managed_service(request.user, pk)
        if services.service_delete(service=service):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ServiceSerializer(service).data)
