"""`Idempotency-Key` on POST: a retry replays the first response and creates nothing (docs/architecture.md §6).

The record row and the booking commit in one transaction. A concurrent request with the same key
blocks on the unique index until the first one commits, then replays its response; if the first
rolls back, the second proceeds as if it were first. Keys live for 24 hours per authenticated user;
the `scheduling.tasks.purge_idempotency_records` Beat task deletes older records every hour.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from booking_site.sql import insert_skipping_conflicts
from scheduling.errors import DomainError
from scheduling.models import IdempotencyRecord
from scheduling.services.idempotency import IDEMPOTENCY_TTL

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    http_status = 422


class IdempotencyKeyInvalid(DomainError):
    code = "invalid"
    http_status = 400


def fingerprint(request: Request) -> str:
    canonical = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class Unstored:
    """A response field too secret to keep in the record (a manage link): left out of the stored body
    and made again, from that body, on a replay. `remake` returns None when it no longer can."""

    field: str
    remake: Callable[[dict], str | None]


def idempotent(request: Request, handler: Callable[[], Response], *, unstored: Unstored | None = None) -> Response:
    """Run `handler` at most once per (user, Idempotency-Key); replay its response afterwards.

    Domain errors (a 409 conflict, a 400 slot refusal) are outcomes too and are replayed. Input
    that fails validation raises before anything is stored, so a corrected retry can reuse the key.
    """
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyInvalid(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.", field=HEADER)
    print_ = fingerprint(request)
    user = request.user
    with transaction.atomic():
        record = _claim(user=user, key=key, print_=print_)
        if record.status_code:
            if record.fingerprint != print_:
                raise IdempotencyKeyReused(
                    f"This {HEADER} was already used with a different request body; use a new key."
                )
            body = _remade(record.response_body, unstored)
            return Response(body, status=record.status_code, headers={"Idempotent-Replayed": "true"})
        try:
            with transaction.atomic():
                response = handler()
        except DomainError as exc:
            response = Response(exc.as_dict(), status=exc.http_status)
        record.status_code = response.status_code
        stored = response.data
        if unstored is not None and isinstance(stored, dict):
            stored = {name: value for name, value in stored.items() if name != unstored.field}
        record.response_body = json.loads(json.dumps(stored, default=str))
        record.save(update_fields=["status_code", "response_body"])
        return response


def _remade(body, unstored: Unstored | None):
    if unstored is None or not isinstance(body, dict) or "id" not in body:
        return body
    secret = unstored.remake(body)
    return {**body, unstored.field: secret} if secret is not None else body


def _claim(*, user, key: str, print_: str) -> IdempotencyRecord:
    """This request's fresh record (status_code 0), or the committed record of an earlier one.

    INSERT ... ON CONFLICT DO NOTHING: no savepoint. A concurrent request with the same key waits on
    the unique index until the other transaction ends; if it committed, the insert writes nothing and
    the committed record is read (a new statement, so READ COMMITTED sees it) and locked. A record
    older than IDEMPOTENCY_TTL is an unknown key: it is taken over. `idempotency_records_purge` removes the rest hourly.
    """
    now = timezone.now()
    record = IdempotencyRecord(user=user, key=key, fingerprint=print_, status_code=0, response_body={}, created_at=now)
    for _ in range(3):
        if insert_skipping_conflicts([record], key="key"):
            return record
        existing = IdempotencyRecord.objects.select_for_update().filter(user=user, key=key).first()
        if existing is None:  # an expired record the purge deleted between the two statements: insert again
            continue
        if existing.created_at < now - IDEMPOTENCY_TTL:
            existing.fingerprint, existing.status_code, existing.response_body = print_, 0, {}
            existing.created_at = now
            existing.save(update_fields=["fingerprint", "status_code", "response_body", "created_at"])
        return existing
    raise RuntimeError(f"Idempotency record ({user.pk}, {key!r}) neither inserts nor reads")
