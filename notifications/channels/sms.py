"""SMS: an adapter over the official Twilio SDK, plus console and file backends for development.

SMS_BACKEND picks one: `twilio` (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER), `console`
(stdout, i.e. the worker's log) or `file` (one JSON line per message under SMS_FILE_PATH). Empty means
SMS is not configured: no SMS is scheduled, and a send still asked for records ChannelNotConfigured.
"""

import json
import os
import sys
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from notifications.channels.base import (
    ChannelNotConfigured,
    OutgoingMessage,
    PermanentSendError,
    TransientSendError,
)

BACKENDS = ("twilio", "console", "file")


def sms_configured() -> bool:
    """Whether SMS can be sent at all; decides whether SMS reminders are scheduled."""
    try:
        _backend_name()
    except ChannelNotConfigured:
        return False
    return True


def _backend_name() -> str:
    name = (settings.SMS_BACKEND or "").strip().lower()
    if not name:
        raise ChannelNotConfigured("SMS is not configured: set SMS_BACKEND to twilio, console or file.")
    if name not in BACKENDS:
        raise ChannelNotConfigured(f"Unknown SMS_BACKEND {name!r}: use twilio, console or file.")
    if name == "twilio":
        missing = [
            key
            for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
            if not getattr(settings, key, "")
        ]
        if missing:
            raise ChannelNotConfigured(f"SMS_BACKEND is twilio but {', '.join(missing)} not set.")
    return name


class SmsChannel:
    def __init__(self) -> None:
        self._name: str | None = None

    def send(self, message: OutgoingMessage) -> str:
        name = self._name or _backend_name()
        self._name = name
        if not message.to:
            raise PermanentSendError("The customer has no phone number.")
        if name == "twilio":
            return _send_twilio(message.to, message.text)
        if name == "console":
            sys.stdout.write(f"SMS to {message.to} [{message.key}]: {message.text}\n")
            sys.stdout.flush()
            return ""
        return _send_file(message)

    def close(self) -> None:
        pass


# --- Twilio -------------------------------------------------------------------------------------


def rebased_http_client(*, base_url: str, timeout: float):
    """The SDK's own HTTP client, sending to another base URL (TWILIO_API_BASE_URL) instead of
    https://api.twilio.com: a local fake in tests, Twilio's prism mock in development. Auth, form
    encoding, response parsing and errors all stay the SDK's. (The twilio package is imported lazily:
    it costs a quarter of a second, and every process that imports the booking services loads this.)
    """
    from twilio.http.http_client import TwilioHttpClient

    class RebasedTwilioHttpClient(TwilioHttpClient):
        def request(self, method, url, *args, **kwargs):
            parts = urlsplit(url)
            rebased = base_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
            return super().request(method, rebased, *args, **kwargs)

    return RebasedTwilioHttpClient(timeout=timeout)


@lru_cache(maxsize=4)
def _twilio_client(account_sid: str, auth_token: str, base_url: str, timeout: float):
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    if base_url:
        http_client = rebased_http_client(base_url=base_url, timeout=timeout)
    else:
        http_client = TwilioHttpClient(timeout=timeout)
    return Client(account_sid, auth_token, http_client=http_client)


def _send_twilio(to: str, body: str) -> str:
    import requests
    from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException

    client = _twilio_client(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        settings.TWILIO_API_BASE_URL or "",
        settings.NOTIFICATIONS_SEND_TIMEOUT_SECONDS,
    )
    try:
        message = client.messages.create(to=to, from_=settings.TWILIO_FROM_NUMBER, body=body)
    except (TwilioRestException, TwilioServiceException) as exc:
        text = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "")
        detail = f"Twilio {exc.status} error {exc.code}: {text}"
        if 400 <= exc.status < 500 and exc.status not in (408, 429):
            raise PermanentSendError(detail) from exc
        raise TransientSendError(detail) from exc
    except (TwilioException, requests.RequestException) as exc:
        raise TransientSendError(f"Twilio unreachable: {type(exc).__name__}: {exc}") from exc
    return message.sid or ""


# --- file ---------------------------------------------------------------------------------------


def _send_file(message: OutgoingMessage) -> str:
    directory = Path(settings.SMS_FILE_PATH)
    directory.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"at": datetime.now(UTC).isoformat(), "to": message.to, "key": message.key, "body": message.text})
    with open(directory / f"sms-{os.getpid()}.jsonl", "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return ""
