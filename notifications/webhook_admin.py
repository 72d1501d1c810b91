"""Integrator webhooks in the console (docs/decisions/0016-webhooks.md): a user's own endpoints (a
superuser's: everyone's), made, changed and removed through notifications.webhooks, with the actions
send a ping, rotate the secret, enable, and replay the last 24 hours; and a read-only delivery log with
every attempt and a "replay" action.

The signing secret is never on a page: it is told once, in a message, after the endpoint is made or
its secret rotated. Registered from notifications/admin.py.
"""

import json
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.validators import URLValidator
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from notifications import selectors, webhooks
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from scheduling.admin.scoping import NotYoursIs404Mixin
from scheduling.errors import DomainError

REPLAY_WINDOW = timedelta(hours=24)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        max_length=2000,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        label="URL",
        help_text="Where deliveries are POSTed. A private address is refused at each send unless the server "
        "allows private URLs.",
    )
    event_types = forms.MultipleChoiceField(
        choices=[(t, t) for t in webhooks.SUBSCRIBABLE],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: every type.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types"]


def _tell_secret(modeladmin, request, endpoint: WebhookEndpoint, secret: str, what: str) -> None:
    modeladmin.message_user(
        request,
        f"{what} {endpoint.url}. Its signing secret, shown this once (copy it now): {secret}",
        messages.WARNING,
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(NotYoursIs404Mixin, admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "description", "owner", "is_active", "failing_since", "disabled_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = [
        "owner", "is_active", "failing_since", "disabled_at", "disabled_reason", "rotation_grace_ends_at",
        "created_at", "delivery_log",
    ]  # fmt: skip
    actions = ["send_ping", "rotate_secret", "rotate_secret_keeping_the_old_one", "enable", "replay_last_24_hours"]

    def get_queryset(self, request):
        return selectors.webhook_endpoints_for_user(user=request.user)

    @admin.display(description="Old secret signs too until")
    def rotation_grace_ends_at(self, endpoint: WebhookEndpoint):
        return endpoint.grace_ends_at(now=timezone.now()) or "-"

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    @admin.display(description="Delivery log")
    def delivery_log(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        url = reverse("admin:notifications_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">{} deliveries</a>', url, obj.deliveries.count())

    def save_model(self, request, obj, form, change):
        given = form.cleaned_data
        if change:
            webhooks.webhook_endpoint_update(
                endpoint_id=obj.pk, url=given["url"], description=given["description"], event_types=given["event_types"]
            )
            return
        created, secret = webhooks.webhook_endpoint_create(
            owner=request.user, url=given["url"], description=given["description"], event_types=given["event_types"]
        )
        obj.pk, obj.owner = created.pk, request.user
        _tell_secret(self, request, created, secret, "Made")

    def delete_model(self, request, obj):
        webhooks.webhook_endpoint_delete(endpoint_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            webhooks.webhook_endpoint_delete(endpoint_id=endpoint.pk)

    def _each(self, request, queryset, act, done: str) -> None:
        for endpoint in queryset:
            try:
                act(endpoint)
            except DomainError as exc:
                self.message_user(request, f"{endpoint.url}: {exc}", messages.ERROR)
            else:
                if done:
                    self.message_user(request, f"{endpoint.url}: {done}", messages.SUCCESS)

    @admin.action(description="Send a ping", permissions=["change"])
    def send_ping(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda e: webhooks.webhook_ping(endpoint_id=e.pk),
            "ping queued; see its delivery log.",
        )

    @admin.action(description="Rotate the signing secret", permissions=["change"])
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            secret = webhooks.webhook_endpoint_rotate_secret(endpoint_id=endpoint.pk)
            _tell_secret(self, request, endpoint, secret, "New secret for")

    @admin.action(description="Rotate the signing secret, the old one signing too for 24 hours", permissions=["change"])
    def rotate_secret_keeping_the_old_one(self, request, queryset):
        for endpoint in queryset:
            secret = webhooks.webhook_endpoint_rotate_secret(endpoint_id=endpoint.pk, previous_valid_hours=24)
            _tell_secret(self, request, endpoint, secret, "New secret (the old one signs too for 24 hours) for")

    @admin.action(description="Enable (after being disabled)", permissions=["change"])
    def enable(self, request, queryset):
        self._each(request, queryset, lambda e: webhooks.webhook_endpoint_enable(endpoint_id=e.pk), "enabled.")

    @admin.action(description="Replay the deliveries of the last 24 hours", permissions=["change"])
    def replay_last_24_hours(self, request, queryset):
        since = timezone.now() - REPLAY_WINDOW

        def replay(endpoint):
            count = webhooks.webhook_deliveries_replay_since(endpoint_id=endpoint.pk, since=since)
            self.message_user(request, f"{endpoint.url}: {count} deliveries queued again.", messages.SUCCESS)

        self._each(request, queryset, replay, "")


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = readonly_fields = ["started_at", "status_code", "duration_ms", "error"]
    extra = 0
    can_delete = False
    ordering = ["started_at", "id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(NotYoursIs404Mixin, admin.ModelAdmin):
    """A ledger: nothing is edited or removed by hand; "replay" goes through the service."""

    list_display = [
        "event_type", "endpoint", "status", "attempts", "created_at", "sent_at", "last_error", "webhook_id",
    ]  # fmt: skip
    list_filter = ["status", "event__type", ("endpoint", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["webhook_id", "event__id"]
    list_per_page = 100
    fields = readonly_fields = [
        "endpoint", "webhook_id", "event_type", "status", "attempts", "created_at", "next_attempt_at", "sent_at",
        "replayed_at", "last_error", "body",
    ]  # fmt: skip
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    def get_queryset(self, request):
        return selectors.webhook_deliveries_for_user(user=request.user)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The list's "replay" action needs the change permission; a row's own page is view-only.
        return obj is None and super().has_change_permission(request)

    @admin.display(description="Event", ordering="event__type")
    def event_type(self, obj):
        return obj.event.type

    @admin.display(description="Body sent")
    def body(self, obj):
        return format_html(
            '<pre style="white-space:pre-wrap;margin:0">{}</pre>', json.dumps(obj.event.payload, indent=2)
        )

    @admin.action(description="Replay (same webhook-id)", permissions=["change"])
    def replay(self, request, queryset):
        done = 0
        for delivery in queryset:
            try:
                webhooks.webhook_delivery_replay(delivery_id=delivery.pk)
            except DomainError as exc:
                self.message_user(request, f"{delivery}: {exc}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, f"{done} deliveries queued again.", messages.SUCCESS)
