"""Integrator webhook endpoints over the API (docs/decisions/0016-webhooks.md): their owner's, or
every one for a superuser (notifications.selectors.webhook_endpoints_for_user); anyone else's is a
404. Reading needs `view_webhookendpoint`, making `add_`, changing, pinging, rotating and enabling
`change_`, removing `delete_`; the delivery log needs `view_webhookdelivery` and replaying
`change_webhookdelivery`. The signing secret is answered by create and rotate-secret only.

A URL is checked for its shape when stored; whether its host is a public address is checked at every
send (DNS can change), so a private one is stored but each delivery to it fails at once, with the
reason in its attempt log, unless the server allows private URLs (WEBHOOK_ALLOW_PRIVATE_URLS).
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import selectors, webhooks
from notifications.models import WebhookDelivery, WebhookEndpoint
from scheduling.api.pagination import PagePagination
from scheduling.api.permissions import model_permission
from scheduling.api.schema import errors
from scheduling.api.webhook_serializers import (
    WebhookDeliveryFilterSerializer,
    WebhookDeliveryPageSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
    WebhookReplayedSerializer,
    WebhookReplaySinceSerializer,
    WebhookRotateSecretSerializer,
)

TAGS = ["webhooks"]


def _endpoint(user, pk: int) -> WebhookEndpoint:
    return get_object_or_404(selectors.webhook_endpoints_for_user(user=user), pk=pk)


def _delivery(endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    rows = selectors.webhook_deliveries(endpoint_id=endpoint.pk).prefetch_related("attempt_log")
    return get_object_or_404(rows, pk=delivery_id)


def _with_secret(endpoint: WebhookEndpoint, secret: str) -> dict:
    endpoint.secret = secret
    return WebhookEndpointWithSecretSerializer(endpoint).data


class WebhookListApi(APIView):
    permission_classes = [model_permission(WebhookEndpoint)]

    @extend_schema(
        responses={200: WebhookEndpointSerializer(many=True), **errors()},
        tags=TAGS,
        operation_id="webhooks_list",
        description="Your endpoints (a superuser: everyone's), newest first. The secret is never shown here.",
    )
    def get(self, request):
        endpoints = selectors.webhook_endpoints_for_user(user=request.user)
        return Response(WebhookEndpointSerializer(endpoints, many=True).data)

    @extend_schema(
        request=WebhookEndpointSerializer,
        responses={201: WebhookEndpointWithSecretSerializer, **errors(400)},
        tags=TAGS,
        operation_id="webhooks_create",
        description="Register an endpoint, yours. The answer holds its signing `secret`, this once.",
    )
    def post(self, request):
        data = WebhookEndpointSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        endpoint, secret = webhooks.webhook_endpoint_create(
            owner=request.user,
            url=given["url"],
            description=given.get("description", ""),
            event_types=given.get("event_types"),
        )
        return Response(_with_secret(endpoint, secret), status=status.HTTP_201_CREATED)


class WebhookDetailApi(APIView):
    permission_classes = [model_permission(WebhookEndpoint)]

    @extend_schema(responses={200: WebhookEndpointSerializer, **errors()}, tags=TAGS, operation_id="webhooks_retrieve")
    def get(self, request, pk: int):
        return Response(WebhookEndpointSerializer(_endpoint(request.user, pk)).data)

    @extend_schema(
        request=WebhookEndpointSerializer,
        responses={200: WebhookEndpointSerializer, **errors(400)},
        tags=TAGS,
        operation_id="webhooks_partial_update",
        description="Change the URL, description or event types; pending deliveries go to the new URL.",
    )
    def patch(self, request, pk: int):
        endpoint = _endpoint(request.user, pk)
        data = WebhookEndpointSerializer(endpoint, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        webhooks.webhook_endpoint_update(endpoint_id=endpoint.pk, **data.validated_data)
        return Response(WebhookEndpointSerializer(_endpoint(request.user, pk)).data)

    @extend_schema(responses={204: None, **errors()}, tags=TAGS, operation_id="webhooks_destroy")
    def delete(self, request, pk: int):
        webhooks.webhook_endpoint_delete(endpoint_id=_endpoint(request.user, pk).pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _EndpointActionApi(APIView):
    permission_classes = [model_permission(WebhookEndpoint, POST=("change",))]


class WebhookPingApi(_EndpointActionApi):
    @extend_schema(
        request=None,
        responses={202: WebhookDeliverySerializer, **errors(409)},
        tags=TAGS,
        operation_id="webhooks_ping",
        description="Queue a `ping` event to this endpoint (whatever its event types): 202 with the delivery, "
        "sent at once by a worker; follow it in the delivery log. 409 `invalid_transition` when disabled.",
    )
    def post(self, request, pk: int):
        endpoint = _endpoint(request.user, pk)
        delivery = webhooks.webhook_ping(endpoint_id=endpoint.pk)
        return Response(WebhookDeliverySerializer(_delivery(endpoint, delivery.pk)).data, status=202)


class WebhookRotateSecretApi(_EndpointActionApi):
    @extend_schema(
        request=WebhookRotateSecretSerializer,
        responses={200: WebhookEndpointWithSecretSerializer, **errors()},
        tags=TAGS,
        operation_id="webhooks_rotate_secret",
        description="A new signing secret, in this answer only. Every send from now on (retries and replays "
        "too) is signed with it. The old one stops at once, unless `previous_secret_valid_hours` keeps it "
        "signing too for that long (a second signature in `webhook-signature`; the body is optional).",
    )
    def post(self, request, pk: int):
        endpoint = _endpoint(request.user, pk)
        asked = WebhookRotateSecretSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        secret = webhooks.webhook_endpoint_rotate_secret(
            endpoint_id=endpoint.pk, previous_valid_hours=asked.validated_data["previous_secret_valid_hours"]
        )
        return Response(_with_secret(_endpoint(request.user, pk), secret))


class WebhookEnableApi(_EndpointActionApi):
    @extend_schema(
        request=None,
        responses={200: WebhookEndpointSerializer, **errors()},
        tags=TAGS,
        operation_id="webhooks_enable",
        description="Active again (after 3 days of failures disabled it), its failing state forgotten. What it "
        "missed is not resent: replay it (`deliveries/replay/` with `since`).",
    )
    def post(self, request, pk: int):
        endpoint = webhooks.webhook_endpoint_enable(endpoint_id=_endpoint(request.user, pk).pk)
        return Response(WebhookEndpointSerializer(endpoint).data)


class WebhookDisableApi(_EndpointActionApi):
    @extend_schema(
        request=None,
        responses={200: WebhookEndpointSerializer, **errors()},
        tags=TAGS,
        operation_id="webhooks_disable",
        description="Switched off by its owner: nothing new is queued for it, and deliveries still waiting are "
        "not sent, until `enable/`.",
    )
    def post(self, request, pk: int):
        endpoint = webhooks.webhook_endpoint_disable(endpoint_id=_endpoint(request.user, pk).pk)
        return Response(WebhookEndpointSerializer(endpoint).data)


class WebhookDeliveryListApi(APIView):
    permission_classes = [model_permission(WebhookDelivery)]

    @extend_schema(
        parameters=[WebhookDeliveryFilterSerializer],
        responses={200: WebhookDeliveryPageSerializer, **errors(400)},
        tags=TAGS,
        operation_id="webhooks_deliveries_list",
        description="The endpoint's delivery log, newest first, in pages, each delivery with every attempt "
        "(status code, duration, error). Filters `status` and `event_type`.",
    )
    def get(self, request, pk: int):
        endpoint = _endpoint(request.user, pk)
        filters = WebhookDeliveryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        given = filters.validated_data
        rows = selectors.webhook_deliveries(
            endpoint_id=endpoint.pk, status=given.get("status"), event_type=given.get("event_type")
        ).prefetch_related("attempt_log")
        paginator = PagePagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookDeliveryReplayApi(APIView):
    permission_classes = [model_permission(WebhookDelivery, POST=("change",))]

    @extend_schema(
        request=None,
        responses={202: WebhookDeliverySerializer, **errors(409)},
        tags=TAGS,
        operation_id="webhooks_deliveries_replay",
        description="Send this delivery again, with the same `webhook-id` and body, on a fresh retry schedule: "
        "202 with it. One being sent right now is left to finish. 409 `invalid_transition` when the endpoint "
        "is disabled.",
    )
    def post(self, request, pk: int, delivery_id: int):
        endpoint = _endpoint(request.user, pk)
        delivery = webhooks.webhook_delivery_replay(delivery_id=_delivery(endpoint, delivery_id).pk)
        return Response(WebhookDeliverySerializer(_delivery(endpoint, delivery.pk)).data, status=202)


class WebhookReplaySinceApi(APIView):
    permission_classes = [model_permission(WebhookDelivery, POST=("change",))]

    @extend_schema(
        request=WebhookReplaySinceSerializer,
        responses={202: WebhookReplayedSerializer, **errors(400, 409)},
        tags=TAGS,
        operation_id="webhooks_deliveries_replay_since",
        description="Replay every delivery of an event since `since` that is not pending (sent, failed, or "
        "skipped while disabled), each with its own `webhook-id`: 202 with how many. 409 "
        "`invalid_transition` when the endpoint is disabled.",
    )
    def post(self, request, pk: int):
        endpoint = _endpoint(request.user, pk)
        data = WebhookReplaySinceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = webhooks.webhook_deliveries_replay_since(endpoint_id=endpoint.pk, since=data.validated_data["since"])
        return Response({"replayed": count}, status=202)
