"""Push: an adapter interface with a webhook backend that POSTs JSON to PUSH_WEBHOOK_URL.

The receiving service (a push relay) maps the recipient (`user:<id>`) to devices. The body:

    {"to": "user:42", "title": "...", "body": "...", "data": {...}, "idempotency_key": "reminder:7:push:60"}

`idempotency_key` is the ledger's dedup key, so a relay can drop the rare duplicate. An optional
PUSH_WEBHOOK_TOKEN is sent as `Authorization: Bearer <token>`. A 2xx is success; a 4xx other than
408/429 is permanent; anything else is retried. PUSH_BACKEND=console prints instead.
"""

import json
import sys
import urllib.error
import urllib.request

from django.conf import settings

from notifications.channels.base import (
    ChannelNotConfigured,
    OutgoingMessage,
    PermanentSendError,
    TransientSendError,
)


def push_configured() -> bool:
    try:
        _backend_name()
    except ChannelNotConfigured:
        return False
    return True


def _backend_name() -> str:
    name = (settings.PUSH_BACKEND or "").strip().lower()
    if not name:
        raise ChannelNotConfigured("Push is not configured: set PUSH_WEBHOOK_URL (or PUSH_BACKEND=console).")
    if name == "webhook" and not settings.PUSH_WEBHOOK_URL:
        raise ChannelNotConfigured("PUSH_BACKEND is webhook but PUSH_WEBHOOK_URL is not set.")
    if name not in ("webhook", "console"):
        raise ChannelNotConfigured(f"Unknown PUSH_BACKEND {name!r}: use webhook or console.")
    return name


def payload(message: OutgoingMessage) -> dict:
    return {
        "to": message.to,
        "title": message.subject,
        "body": message.text,
        "data": message.data,
        "idempotency_key": message.key,
    }


class PushChannel:
    def send(self, message: OutgoingMessage) -> str:
        name = _backend_name()
        if not message.to:
            raise PermanentSendError("The customer has no user account to push to.")
        body = payload(message)
        if name == "console":
            sys.stdout.write(f"PUSH {json.dumps(body)}\n")
            sys.stdout.flush()
            return ""
        return _post(settings.PUSH_WEBHOOK_URL, body)

    def close(self) -> None:
        pass


def _post(url: str, body: dict) -> str:
    headers = {"Content-Type": "application/json", "Idempotency-Key": body["idempotency_key"]}
    if settings.PUSH_WEBHOOK_TOKEN:
        headers["Authorization"] = f"Bearer {settings.PUSH_WEBHOOK_TOKEN}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.NOTIFICATIONS_SEND_TIMEOUT_SECONDS) as response:
            answer = response.read(2048)
    except urllib.error.HTTPError as exc:
        detail = f"push webhook answered {exc.code} {exc.reason}"
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise PermanentSendError(detail) from exc
        raise TransientSendError(detail) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise TransientSendError(f"push webhook unreachable: {exc}") from exc
    try:
        return str(json.loads(answer).get("id", ""))[:128]
    except (ValueError, AttributeError):
        return ""
