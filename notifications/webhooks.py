"""Services of integrator webhooks (docs/decisions/0016-webhooks.md): endpoints made, changed, removed
and re-enabled, secrets rotated, a ping, deliveries replayed. The REST API and the admin call these;
who may act on which endpoint (its owner, or a superuser) is theirs to check.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calendars.fetch import CalendarFetchError, check_url_shape
from notifications import wakeup, webhook_events
from notifications.models import OutboxStatus, WebhookDelivery, WebhookEndpoint, new_secret
from scheduling.errors import InvalidInput, InvalidTransition
from scheduling.selectors import providers_for_user

OWNER_LOST_ACCESS = "The endpoint's owner may no longer see this provider's bookings."
SUBSCRIBABLE = tuple(t for t in webhook_events.EVENT_TYPES if t != webhook_events.PING)
MAX_PREVIOUS_SECRET_HOURS = 7 * 24


def _clean(*, url: str | None, event_types: list[str] | None) -> None:
    if url is not None:
        try:
            check_url_shape(url)
        except CalendarFetchError as exc:
            raise InvalidInput("The URL must start with http:// or https:// and name a host.", field="url") from exc
    if event_types is not None:
        unknown = sorted(set(event_types) - set(SUBSCRIBABLE))
        if unknown:
            raise InvalidInput(f"Unknown event types: {', '.join(unknown)}.", field="event_types")


def webhook_endpoint_create(
    *, owner, url: str, description: str = "", event_types: list[str] | None = None
) -> tuple[WebhookEndpoint, str]:
    """A new active endpoint and its signing secret, returned this once (reads never show it).
    `event_types` empty or None: every type."""
    _clean(url=url, event_types=event_types)
    endpoint = WebhookEndpoint.objects.create(
        owner=owner, url=url, description=description, event_types=sorted(set(event_types or []))
    )
    return endpoint, endpoint.secret


def webhook_endpoint_update(
    *, endpoint_id: int, url: str | None = None, description: str | None = None, event_types: list[str] | None = None
) -> WebhookEndpoint:
    """Change what is given. Pending deliveries go to the new URL. Locks the endpoint row."""
    _clean(url=url, event_types=event_types)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        if url is not None:
            endpoint.url = url
        if description is not None:
            endpoint.description = description
        if event_types is not None:
            endpoint.event_types = sorted(set(event_types))
        endpoint.save()
    return endpoint


def webhook_endpoint_delete(*, endpoint_id: int) -> None:
    """Remove the endpoint with its deliveries and their log."""
    WebhookEndpoint.objects.filter(pk=endpoint_id).delete()


def webhook_endpoint_rotate_secret(*, endpoint_id: int, previous_valid_hours: int = 0) -> str:
    """A new secret, returned this once; every send from now on (retries and replays too) is signed with it.

    `previous_valid_hours` (0 to MAX_PREVIOUS_SECRET_HOURS) keeps the old secret signing too for that
    long: each send then carries two signatures in its `webhook-signature` header (Standard Webhooks
    allows several), so a receiver can deploy the new secret without refusing a delivery meanwhile.
    0, the default, stops the old secret at once, as after a leak. A rotation during a grace replaces
    it: only the secret just replaced is kept. Locks the endpoint row.
    """
    if not 0 <= previous_valid_hours <= MAX_PREVIOUS_SECRET_HOURS:
        raise InvalidInput(
            f"Keep the previous secret for 0 to {MAX_PREVIOUS_SECRET_HOURS} hours.", field="previous_secret_valid_hours"
        )
    secret, now = new_secret(), timezone.now()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        keep = previous_valid_hours > 0
        endpoint.previous_secret = endpoint.secret if keep else ""
        endpoint.previous_secret_expires_at = now + timedelta(hours=previous_valid_hours) if keep else None
        endpoint.secret = secret
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return secret


def webhook_endpoint_enable(*, endpoint_id: int) -> WebhookEndpoint:
    """Active again, its failing state forgotten (the three days count from the next failure). What
    it missed is not resent: replay it (webhook_deliveries_replay_since). Locks the endpoint row."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        endpoint.is_active, endpoint.failing_since, endpoint.disabled_at, endpoint.disabled_reason = (
            True,
            None,
            None,
            "",
        )
        endpoint.save()
    return endpoint


def webhook_endpoint_disable(*, endpoint_id: int, reason: str = "Disabled by its owner.") -> WebhookEndpoint:
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = False, timezone.now(), reason
        endpoint.save()
    return endpoint


def webhook_ping(*, endpoint_id: int) -> WebhookDelivery:
    """Queue a `ping` event to this endpoint alone (whatever its event types), sent like any delivery."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        if not endpoint.is_active:
            raise InvalidTransition("The endpoint is disabled; enable it first.")
        return webhook_events.ping(endpoint=endpoint)


def webhook_delivery_replay(*, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again, with its own `webhook-id` and payload, on a fresh retry schedule.
    A delivery being sent right now is left to finish. Locks the delivery row."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().select_related("endpoint", "event").get(pk=delivery_id)
        if not delivery.endpoint.is_active:
            raise InvalidTransition("The endpoint is disabled; enable it first.")
        if not webhook_events.owner_hears(endpoint_id=delivery.endpoint_id, provider_id=delivery.event.provider_id):
            raise InvalidTransition(OWNER_LOST_ACCESS)
        if delivery.status == OutboxStatus.PENDING and delivery.claimed_at is not None:
            return delivery  # in flight: it is being sent
        _requeue(WebhookDelivery.objects.filter(pk=delivery.pk))
    wakeup.wake_on_commit("webhooks")
    delivery.refresh_from_db()
    return delivery


def webhook_deliveries_replay_since(*, endpoint_id: int, since: datetime) -> int:
    """Replay every delivery to the endpoint of an event since `since` that is not pending (sent,
    failed, or skipped while disabled), as webhook_delivery_replay does one. Returns how many."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        if not endpoint.is_active:
            raise InvalidTransition("The endpoint is disabled; enable it first.")
        if not webhook_events.owner_hears(endpoint_id=endpoint.pk, provider_id=None):
            raise InvalidTransition(OWNER_LOST_ACCESS)
        rows = WebhookDelivery.objects.filter(endpoint=endpoint, event__created_at__gte=since).exclude(
            status=OutboxStatus.PENDING
        )
        # Only events of providers the owner still sees (a superuser: all), and pings.
        seen = providers_for_user(user=endpoint.owner).values("pk")
        rows = rows.filter(Q(event__provider_id__isnull=True) | Q(event__provider_id__in=seen))
        pks = list(rows.select_for_update().values_list("pk", flat=True))
        _requeue(WebhookDelivery.objects.filter(pk__in=pks))
    if pks:
        wakeup.wake_on_commit("webhooks")
    return len(pks)


def _requeue(rows) -> int:
    now = timezone.now()
    return rows.update(
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        claimed_at=None,
        last_error="",
        replayed_at=now,
        updated_at=now,
    )
