"""Input and output shapes of the webhook endpoints (scheduling/api/views/webhooks.py). The signing
secret is in `WebhookEndpointWithSecretSerializer` only: the answers of create and rotate-secret."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from notifications.models import OutboxStatus, WebhookDelivery, WebhookEndpoint
from notifications.webhook_events import EVENT_TYPES
from notifications.webhooks import MAX_PREVIOUS_SECRET_HOURS, SUBSCRIBABLE
from scheduling.api.fields import AwareDateTimeField
from scheduling.api.serializers import QueryParamsSerializer


class TextField(serializers.CharField):
    """A JSON string only: DRF's CharField would store a number sent for it as its digits."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    url = serializers.URLField(
        max_length=2000,
        help_text="Where deliveries are POSTed: http(s). An address that resolves to a private network is "
        "accepted here but refused at each send (the delivery fails at once, see its attempts) unless the "
        "server allows private URLs.",
    )
    description = TextField(max_length=200, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE),
        required=False,
        help_text="The event types wanted; empty (the default): every type. `ping` is always sent on request.",
    )
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    created_at = AwareDateTimeField(read_only=True)
    updated_at = AwareDateTimeField(read_only=True)
    failing_since = AwareDateTimeField(
        read_only=True, allow_null=True, help_text="The first failed attempt since the last success."
    )
    disabled_at = AwareDateTimeField(
        read_only=True, allow_null=True, help_text="When it was disabled (3 days of failures, or by hand)."
    )
    rotation_grace_ends_at = serializers.SerializerMethodField(
        help_text="Until then every send carries a second signature, made with the secret before the last "
        "rotation (the rotation's grace); null when none is running or it has ended.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id", "url", "description", "event_types", "is_active", "owner", "failing_since", "disabled_at",
            "disabled_reason", "rotation_grace_ends_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["is_active", "disabled_reason"]

    @extend_schema_field(AwareDateTimeField(allow_null=True))
    def get_rotation_grace_ends_at(self, endpoint: WebhookEndpoint) -> str | None:
        ends = endpoint.grace_ends_at(now=timezone.now())
        return AwareDateTimeField().to_representation(ends) if ends else None


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret (`whsec_...`). Shown only in this answer: keep it; reads never show it.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookRotateSecretSerializer(serializers.Serializer):
    previous_secret_valid_hours = serializers.IntegerField(
        required=False,
        default=0,
        min_value=0,
        max_value=MAX_PREVIOUS_SECRET_HOURS,
        help_text="Keep signing with the old secret too for this many hours (at most a week), so your receiver "
        "can switch without refusing a delivery. 0 (the default) stops the old secret at once, as after a leak.",
    )


class WebhookAttemptSerializer(serializers.Serializer):
    started_at = AwareDateTimeField()
    status_code = serializers.IntegerField(allow_null=True, help_text="The receiver's status; null when none came.")
    duration_ms = serializers.IntegerField()
    error = serializers.CharField(help_text="Why it failed (a status, a timeout, a refused address), or empty.")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    webhook_id = serializers.CharField(help_text="The `webhook-id` header: the same on every retry and replay.")
    event = serializers.CharField(source="event_id")
    event_type = serializers.CharField(source="event.type")
    event_created_at = AwareDateTimeField(source="event.created_at")
    payload = serializers.JSONField(source="event.payload", help_text="The body sent.")
    status = serializers.ChoiceField(choices=OutboxStatus.choices)
    next_attempt_at = AwareDateTimeField(help_text="When a pending delivery is (next) tried.")
    sent_at = AwareDateTimeField(allow_null=True)
    replayed_at = AwareDateTimeField(allow_null=True)
    created_at = AwareDateTimeField()
    attempt_log = serializers.SerializerMethodField(help_text="Every HTTP attempt, oldest first.")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "webhook_id", "event", "event_type", "event_created_at", "payload", "status", "attempts",
            "next_attempt_at", "sent_at", "last_error", "replayed_at", "created_at", "attempt_log",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(WebhookAttemptSerializer(many=True))
    def get_attempt_log(self, delivery: WebhookDelivery) -> list[dict]:
        return WebhookAttemptSerializer(delivery.attempt_log.all(), many=True).data


class WebhookDeliveryPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = WebhookDeliverySerializer(many=True)


class WebhookDeliveryFilterSerializer(QueryParamsSerializer):
    status = serializers.ChoiceField(choices=OutboxStatus.choices, required=False)
    event_type = serializers.ChoiceField(choices=EVENT_TYPES, required=False)
    page = serializers.IntegerField(min_value=1, required=False, help_text="Page number, from 1.")
    page_size = serializers.IntegerField(
        min_value=1, required=False, help_text="Deliveries a page: 50 by default, at most 200."
    )


class WebhookReplaySinceSerializer(serializers.Serializer):
    since = AwareDateTimeField(help_text="Replay every delivery (not pending) of an event from this time on.")


class WebhookReplayedSerializer(serializers.Serializer):
    replayed = serializers.IntegerField(help_text="How many deliveries were queued again.")
