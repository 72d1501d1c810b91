"""Sending webhook deliveries (docs/decisions/0016-webhooks.md) with the outbox loop of
notifications/dispatch.py: claimed with SKIP LOCKED, sent outside the transaction, each result recorded
under the claim. What can repeat a send, and how rarely, is written there and holds here; every copy of
a delivery carries the same `webhook-id`, so a receiver can fold it.

A send is one signed POST (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`)
to the endpoint's URL behind the calendar fetch's SSRF guard (calendars/fetch.py), redirects not
followed. 2xx is delivered; anything else is retried on RETRY_SCHEDULE and then failed. Every attempt is
kept (`WebhookAttempt`). An endpoint failing without a success for WEBHOOK_DISABLE_AFTER_FAILING_DAYS
is disabled and its owner emailed; its pending deliveries are then closed instead of sent.
"""

import json
import logging
import time
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook
from urllib3.exceptions import HTTPError

from booking_site import http_deadline
from calendars.fetch import CalendarFetchError, check_url_shape, resolve_public_address
from notifications import dispatch, webhook_events
from notifications.channels import OutgoingMessage, PermanentSendError, TransientSendError
from notifications.dispatch import BatchResult
from notifications.models import OutboxStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
# After the 1st, 2nd, ... failed attempt: then the delivery is failed (8 attempts over about 28 hours).
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
USER_AGENT = "booking-webhooks/1"
MAX_ANSWER_BYTES = 1024


class WebhookURLRefused(PermanentSendError):
    """The URL is not one the server may call (shape, or a private address without the setting)."""


def retry_delay(attempts: int) -> timedelta | None:
    return RETRY_SCHEDULE[attempts - 1] if 1 <= attempts <= len(RETRY_SCHEDULE) else None


def _triage(delivery: WebhookDelivery, now: datetime) -> tuple[str, str] | None:
    if not delivery.endpoint.is_active:
        return OutboxStatus.SKIPPED, "The endpoint is disabled."
    if not webhook_events.owner_hears(endpoint_id=delivery.endpoint_id, provider_id=delivery.event.provider_id):
        return OutboxStatus.SKIPPED, "The endpoint's owner may no longer see this provider's bookings."
    return None


def _render(delivery: WebhookDelivery, now: datetime) -> OutgoingMessage:
    body = json.dumps(delivery.event.payload, separators=(",", ":"), ensure_ascii=False)
    return OutgoingMessage(
        channel="webhook", to=delivery.endpoint.url, subject=delivery.event.type, text=body, key=delivery.webhook_id
    )


def signed_headers(*, secrets: list[str], webhook_id: str, body: str, at: datetime | None = None) -> dict[str, str]:
    """The Standard Webhooks headers, one `v1,` signature per secret, space-separated (a rotation's grace
    signs with the old secret too; a receiver accepts any signature it can verify)."""
    at = at or datetime.now(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(Webhook(secret).sign(webhook_id, at, body) for secret in secrets),
    }


def post(*, url: str, body: str, headers: dict[str, str], session: requests.Session | None = None) -> requests.Response:
    """POST to `url` behind the SSRF guard; plain http connects to the checked address itself.

    With `session`, connections are kept and reused (a drain sends many deliveries to few endpoints).
    The guard still runs on every call: a plain-http URL is rewritten to the address just checked, and
    the session pools connections by that address, so a reused connection is always one to a checked
    address; https pools by host name, as a new connection would connect by name too."""
    try:
        check_url_shape(url)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = resolve_public_address(parts.hostname, port, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_URLS)
    except CalendarFetchError as exc:
        raise WebhookURLRefused(str(exc).replace("calendar ", "webhook ")) from exc
    headers = {**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT}
    if parts.scheme == "http":
        literal = f"[{address}]" if ":" in address else address
        url = urlunsplit(("http", f"{literal}:{port}", parts.path or "/", parts.query, ""))
        headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
    # https connects by name for the certificate check (see calendars/fetch.py on what that leaves).
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    deadline = time.monotonic() + timeout
    # The cut-off bounds the status line and headers too, which the read timeout alone does not.
    with nullcontext(session) if session else http_deadline.session() as kept, http_deadline.cut_off_at(deadline):
        response = kept.post(
            url, data=body.encode(), headers=headers, allow_redirects=False, timeout=(timeout, timeout), stream=True
        )
        _read_some(response, deadline=deadline)
    return response


def _read_some(response: requests.Response, *, deadline: float) -> None:
    """Read at most MAX_ANSWER_BYTES of the answer's body, only until `deadline`: the status decides, and
    a receiver that sends a large body or trickles it cannot hold the worker. An answer read to its end
    gives its connection back to the session's pool (kept for the next delivery); one cut short closes it."""
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    read, ended = 0, False
    try:
        while read < MAX_ANSWER_BYTES and (left := deadline - time.monotonic()) > 0:
            if sock is not None:
                sock.settimeout(left)
            chunk = response.raw.read1(MAX_ANSWER_BYTES - read)
            if not chunk:
                ended = True
                break
            read += len(chunk)
    except (OSError, HTTPError, requests.RequestException):  # a body cut short or too slow: the status is in
        pass
    if ended:
        response.raw.release_conn()
    else:
        response.close()


def _send(delivery: WebhookDelivery, now: datetime, *, session: requests.Session | None = None) -> str:
    """One attempt: sign, POST, keep the attempt, track the endpoint's failing state."""
    message = _render(delivery, now)
    endpoint = delivery.endpoint
    started_at, started = timezone.now(), time.monotonic()
    status_code, error, permanent = None, "", False
    try:
        headers = signed_headers(
            secrets=endpoint.signing_secrets(now=started_at), webhook_id=delivery.webhook_id, body=message.text
        )
        with post(url=message.to, body=message.text, headers=headers, session=session) as response:
            status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except WebhookURLRefused as exc:
        error, permanent = str(exc), True
    except requests.Timeout:
        error = f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS:g} s."
    except requests.RequestException as exc:
        error = f"Could not connect ({type(exc).__name__})."
    except Exception as exc:  # whatever else breaks a send is an attempt too, kept and retried
        logger.exception("Webhook delivery %s: the send failed", delivery.pk)
        error = f"The send failed ({type(exc).__name__}: {exc})."[:500]
    WebhookAttempt.objects.create(
        delivery=delivery,
        started_at=started_at,
        status_code=status_code,
        duration_ms=round((time.monotonic() - started) * 1000),
        error=error,
    )
    if not error:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        return str(status_code)
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=started_at)
    endpoint_disable_if_failing(endpoint_id=endpoint.pk)
    raise (PermanentSendError if permanent else TransientSendError)(error)


def endpoint_disable_if_failing(*, endpoint_id: int, now: datetime | None = None) -> bool:
    """Disable the endpoint if it has failed without a success for WEBHOOK_DISABLE_AFTER_FAILING_DAYS,
    and email its owner after the commit. Locks the endpoint row."""
    now = now or timezone.now()
    limit = timedelta(days=settings.WEBHOOK_DISABLE_AFTER_FAILING_DAYS)
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update()
            .select_related("owner")
            .filter(pk=endpoint_id, is_active=True, failing_since__lte=now - limit)
            .first()
        )
        if endpoint is None:
            return False
        endpoint.is_active = False
        endpoint.disabled_at = now
        endpoint.disabled_reason = (
            f"Every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC "
            f"({settings.WEBHOOK_DISABLE_AFTER_FAILING_DAYS} days or more)."
        )
        endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
        if endpoint.owner.email:
            transaction.on_commit(lambda: _tell_owner(endpoint), robust=True)
    logger.warning("Webhook endpoint %s disabled: %s", endpoint.pk, endpoint.disabled_reason)
    return True


def _tell_owner(endpoint: WebhookEndpoint) -> None:
    send_mail(
        subject="Webhook endpoint disabled",
        message=(
            f"Your webhook endpoint {endpoint.url} was disabled: {endpoint.disabled_reason}\n\n"
            "Nothing more is sent to it. Once it answers again, enable it and replay what it missed."
        ),
        from_email=None,
        recipient_list=[endpoint.owner.email],
    )


def webhooks_dispatch(
    *,
    pks: list[int] | None = None,
    limit: int = BATCH_SIZE,
    now: datetime | None = None,
    session: requests.Session | None = None,
) -> BatchResult:
    """Send one batch of due deliveries (or only those of `pks` that are due and unclaimed), over
    `session`'s kept connections (a session of its own if none)."""
    with http_deadline.session() if session is None else nullcontext(session) as kept:
        return dispatch.dispatch_batch(
            WebhookDelivery,
            limit=limit,
            pks=pks,
            now=now,
            triage=_triage,
            send=lambda delivery, at: _send(delivery, at, session=kept),
            retry_delay=retry_delay,
            select_related=("endpoint", "event"),
            # Endpoints in parallel, each one's deliveries in order: a slow receiver delays only itself.
            lane=lambda delivery: delivery.endpoint_id,
            concurrency=settings.WEBHOOK_SEND_CONCURRENCY,
        )


def webhooks_drain(*, batch_size: int = BATCH_SIZE, budget_seconds: float = 50) -> BatchResult:
    """Batches until none is left or the budget is spent, all over one session's connections."""
    with http_deadline.session() as session:
        return dispatch.drain(
            lambda: webhooks_dispatch(limit=batch_size, session=session),
            limit=batch_size,
            budget_seconds=budget_seconds,
        )
