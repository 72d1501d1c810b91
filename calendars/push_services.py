"""Push notifications from Google Calendar and Microsoft 365: a change in a provider's calendar queues
a sync of that connection at once instead of waiting for its interval (docs/decisions/0015-calendar-sync.md).

Channels (Google) and subscriptions (Microsoft) expire; a sweep every minute renews those about to,
and starts one for each healthy connection that has none. A notification carries no calendar data we
trust: it only says "sync this connection", and only when it names one of our channels with its secret.
"""

import hmac
import logging
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from calendars.adapters import AdapterError, adapter_for
from calendars.models import CalendarConnection, PushChannel, new_feed_secret, new_push_id
from calendars.services import store_refreshed_credentials

logger = logging.getLogger(__name__)

PUSH_KINDS = (CalendarConnection.Kind.GOOGLE, CalendarConnection.Kind.MICROSOFT)
# Google allows a week; Graph allows a little under three days for Outlook events.
TTL_SECONDS = {CalendarConnection.Kind.GOOGLE: 7 * 24 * 3600, CalendarConnection.Kind.MICROSOFT: 70 * 3600}
RENEW_WITHIN = timedelta(hours=1)
# Notifications for one connection within this many seconds share syncs: the first queues one at once,
# the rest one more at the end of the window (so a change made during the first sync's read is not lost).
PUSH_DEBOUNCE_SECONDS = 30
# A Graph POST carries at most this many notifications we look at (Graph batches up to 1000).
GRAPH_BATCH_MAX = 100


class PushOutcome(StrEnum):
    QUEUED = "queued"  # a sync of the connection runs after the commit
    IGNORED = "ignored"  # ours, but nothing to do (Google's "sync" handshake, an inactive connection)
    REFUSED = "refused"  # not one of our channels, or the wrong secret
    INVALID = "invalid"  # ours, but a state we do not know


def push_address(kind: str) -> str | None:
    """Where the vendor calls us, or None when push cannot work (the public base is not https)."""
    base = settings.CALENDAR_PUSH_BASE_URL
    if not base.startswith("https://"):
        return None
    return f"{base}{reverse(f'calendars:push_{kind}')}"


def calendar_push_subscribe(*, connection_id: int) -> PushChannel | None:
    """Ask the calendar service to notify us of changes to the connection's calendar; None when push
    is off or the kind has none. The call is made outside any transaction, then the channel stored.
    Raises AdapterError."""
    connection = CalendarConnection.objects.select_related("provider").get(pk=connection_id)
    address = push_address(connection.kind) if connection.kind in PUSH_KINDS else None
    if address is None or not connection.is_active:
        return None
    adapter = adapter_for(connection)
    channel_id, secret = new_push_id(), new_feed_secret()
    try:
        watch = adapter.watch(
            channel_id=channel_id, secret=secret, address=address, ttl_seconds=TTL_SECONDS[connection.kind]
        )
    finally:
        store_refreshed_credentials(adapter=adapter)
    return PushChannel.objects.create(
        connection_id=connection_id,
        channel_id=channel_id,
        secret=secret,
        resource_id=watch.resource_id,
        subscription_id=watch.subscription_id,
        expires_at=watch.expires_at,
    )


def calendar_push_renew(*, channel_pk: int) -> PushChannel | None:
    """Extend a channel before it expires. Google channels cannot be extended: a new one is watched,
    then the old one stopped (a notification in between arrives twice, which only syncs twice).
    Microsoft subscriptions get a later expirationDateTime; one Graph no longer knows is made anew.
    Raises AdapterError."""
    channel = PushChannel.objects.select_related("connection__provider").filter(pk=channel_pk).first()
    if channel is None:
        return None  # renewed or removed meanwhile
    connection = channel.connection
    if connection.kind == CalendarConnection.Kind.MICROSOFT:
        adapter = adapter_for(connection)
        try:
            expires_at = adapter.renew_watch(
                subscription_id=channel.subscription_id, ttl_seconds=TTL_SECONDS[connection.kind]
            )
        finally:
            store_refreshed_credentials(adapter=adapter)
        if expires_at is None:
            channel.delete()
            return calendar_push_subscribe(connection_id=connection.pk)
        PushChannel.objects.filter(pk=channel.pk).update(expires_at=expires_at)
        channel.expires_at = expires_at
        return channel
    fresh = calendar_push_subscribe(connection_id=connection.pk)
    calendar_push_stop(channel_pk=channel.pk)
    return fresh


def calendar_push_stop(*, channel_pk: int) -> None:
    """Tell the vendor to stop sending, then forget the channel. A vendor that cannot be reached
    still loses the row: its notifications are refused from then on, and it expires on its own."""
    channel = PushChannel.objects.select_related("connection__provider").filter(pk=channel_pk).first()
    if channel is None:
        return
    adapter = adapter_for(channel.connection)
    try:
        adapter.unwatch(
            channel_id=channel.channel_id, resource_id=channel.resource_id, subscription_id=channel.subscription_id
        )
    except AdapterError as exc:
        logger.warning("stopping push channel %s failed: %s", channel.pk, exc)
    finally:
        store_refreshed_credentials(adapter=adapter)
    channel.delete()


def push_channels_stop_after_delete(*, connection: CalendarConnection) -> None:
    """Inside the transaction deleting `connection` (before the delete): after the commit, tell the
    vendor to stop each of its channels, best effort. The rows go with the connection; a channel the
    vendor is not told about is refused when it calls and expires on its own."""
    channels = list(connection.push_channels.values_list("channel_id", "resource_id", "subscription_id"))
    if not channels:
        return
    adapter = adapter_for(connection)  # holds its own copy of the credentials: the row will be gone

    def stop_all():
        for channel_id, resource_id, subscription_id in channels:
            try:
                adapter.unwatch(channel_id=channel_id, resource_id=resource_id, subscription_id=subscription_id)
            except AdapterError as exc:  # best effort: the vendor may be down; the channel expires anyway
                logger.warning("stopping a push channel of a deleted connection failed: %s", exc)

    transaction.on_commit(stop_all)


def calendar_push_channels_maintain(*, now: datetime | None = None) -> int:
    """The sweep: renew every channel expiring within RENEW_WITHIN, drop expired channels of inactive
    connections, and subscribe healthy connections (synced, no error) that have no channel. One failing
    connection never stops the rest; a failed subscribe is recorded as the connection's error, so it
    is tried again only after its next good sync. Returns how many channels were renewed or made."""
    now = now or timezone.now()
    done = 0
    PushChannel.objects.filter(connection__is_active=False, expires_at__lte=now).delete()
    due = PushChannel.objects.filter(connection__is_active=True, expires_at__lte=now + RENEW_WITHIN)
    for channel_pk in list(due.values_list("pk", flat=True)):
        try:
            done += calendar_push_renew(channel_pk=channel_pk) is not None
        except AdapterError as exc:
            logger.warning("renewing push channel %s failed: %s", channel_pk, exc)
    if not any(push_address(kind) for kind in PUSH_KINDS):
        return done
    missing = CalendarConnection.objects.filter(
        kind__in=PUSH_KINDS, is_active=True, last_synced_at__isnull=False, last_error="", push_channels__isnull=True
    )
    for connection_id in list(missing.values_list("pk", flat=True)):
        try:
            done += calendar_push_subscribe(connection_id=connection_id) is not None
        except AdapterError as exc:
            CalendarConnection.objects.filter(pk=connection_id).update(
                last_error=f"Push notifications could not be started: {exc}"[:2000], last_error_at=timezone.now()
            )
    return done


# Notifications -----------------------------------------------------------------------------------


def google_push_receive(*, channel_id: str, token: str, resource_state: str) -> PushOutcome:
    """A Google notification (its X-Goog-Channel-ID, X-Goog-Channel-Token and X-Goog-Resource-State
    headers). Queues a sync of the channel's connection after the commit when the calendar changed."""
    channel = (
        PushChannel.objects.select_related("connection")
        .filter(channel_id=channel_id, connection__kind=CalendarConnection.Kind.GOOGLE)
        .first()
        if channel_id
        else None
    )
    if channel is None or not _same(channel.secret, token):
        return PushOutcome.REFUSED
    if resource_state == "sync":
        return PushOutcome.IGNORED  # sent once when a channel starts
    if resource_state not in ("exists", "not_exists"):
        return PushOutcome.INVALID
    return _queue_sync(channel.connection)


def microsoft_push_receive(*, notifications: list) -> list[PushOutcome]:
    """Graph change notifications (the body's `value`, its first GRAPH_BATCH_MAX items), one outcome
    each: an item is trusted only when its subscriptionId is one of ours and its clientState is that
    subscription's secret. One query for the whole batch."""
    items = [item if isinstance(item, dict) else {} for item in notifications[:GRAPH_BATCH_MAX]]
    wanted = {str(item.get("subscriptionId") or "") for item in items} - {""}
    channels = {
        channel.subscription_id: channel
        for channel in PushChannel.objects.select_related("connection").filter(
            subscription_id__in=wanted, connection__kind=CalendarConnection.Kind.MICROSOFT
        )
    }
    outcomes, queued = [], set()
    for item in items:
        subscription_id, client_state = str(item.get("subscriptionId") or ""), str(item.get("clientState") or "")
        channel = channels.get(subscription_id) if subscription_id else None
        if channel is None or not _same(channel.secret, client_state):
            outcomes.append(PushOutcome.REFUSED)
        elif channel.connection_id in queued:
            outcomes.append(PushOutcome.QUEUED)  # one sync covers every change in this batch
        else:
            outcome = _queue_sync(channel.connection)
            if outcome == PushOutcome.QUEUED:
                queued.add(channel.connection_id)
            outcomes.append(outcome)
    return outcomes


def _queue_sync(connection: CalendarConnection) -> PushOutcome:
    """Debounced per connection (PUSH_DEBOUNCE_SECONDS, in the cache): the first notification of a
    window queues a sync at once, the first one after it a sync at the window's end, the rest nothing
    more. A burst of changes, or a replayed notification, costs at most two reads per window."""
    if not connection.is_active:
        return PushOutcome.IGNORED
    from calendars.tasks import sync_calendar  # the tasks module imports this one

    connection_id = connection.pk
    if cache.add(f"calendar-push:{connection_id}", 1, PUSH_DEBOUNCE_SECONDS):
        transaction.on_commit(lambda: sync_calendar.delay(connection_id))
    elif cache.add(f"calendar-push-later:{connection_id}", 1, PUSH_DEBOUNCE_SECONDS):
        transaction.on_commit(lambda: sync_calendar.apply_async((connection_id,), countdown=PUSH_DEBOUNCE_SECONDS))
    return PushOutcome.QUEUED


def _same(secret: str, given: str) -> bool:
    return hmac.compare_digest(secret.encode(), (given or "").encode())
