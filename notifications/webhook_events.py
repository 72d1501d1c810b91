"""Integrator webhook events (docs/decisions/0016-webhooks.md), written inside the transaction of the
change they report: scheduling.booking_events for a booking's lifecycle, payments for a charge that
succeeded or a refund, the waitlist for an offer made and an offer booked.

Each event is rendered once (the resource as the staff API renders it) and queued as one
`WebhookDelivery` per active endpoint that hears it, in the same transaction, so a rolled-back change
tells nobody; the outbox is woken after the commit (notifications/wakeup.py) and the minute sweep covers a lost
wake-up.

Sequence: events of one booking are numbered 1, 2, 3... in the order of its changes, a reschedule
continuing its old booking's numbers. The number is taken while the caller holds the booking's row
lock (every booking service locks the row it changes; a new booking is not visible to anyone else yet),
so two changes of one booking never draw the same number; the unique (booking, sequence) constraint
would refuse it if they did.
"""

from django.db.models import Max, Q
from django.utils import timezone

from notifications import wakeup
from notifications.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from scheduling.models import Booking, Provider

BOOKING_EVENTS = tuple(
    f"booking.{name}"
    for name in ("created", "confirmed", "cancelled", "rescheduled", "completed", "no_show", "expired")
)
PAYMENT_SUCCEEDED, PAYMENT_REFUNDED = "payment.succeeded", "payment.refunded"
WAITLIST_OFFERED, WAITLIST_BOOKED = "waitlist.offered", "waitlist.booked"
PING = "ping"
EVENT_TYPES = (*BOOKING_EVENTS, PAYMENT_SUCCEEDED, PAYMENT_REFUNDED, WAITLIST_OFFERED, WAITLIST_BOOKED, PING)


def booking_event(*, booking: Booking, event: str, previous: Booking | None = None) -> None:
    """Queue `booking.<event>` to each endpoint that hears the booking's provider. A reschedule
    carries the old booking as `previous`."""
    type_ = f"booking.{event}"
    endpoints = endpoints_hearing(provider_id=booking.provider_id, type_=type_)
    if not endpoints:
        return
    data = render_booking(booking)
    if previous is not None:
        data["previous"] = render_booking(previous)
    _emit(type_=type_, data=data, provider_id=booking.provider_id, booking=booking, endpoints=endpoints)


def payment_event(*, payment, booking: Booking, type_: str) -> None:
    """`payment.succeeded` (a charge paid, online or marked paid) or `payment.refunded` (a refund
    decided, its gateway call owed: `status` pending until the gateway confirms). The caller holds
    the booking's row lock."""
    endpoints = endpoints_hearing(provider_id=booking.provider_id, type_=type_)
    if not endpoints:
        return
    data = {
        "id": payment.pk,
        "kind": payment.kind,
        "amount": f"{payment.amount:.2f}",
        "currency": payment.currency,
        "status": payment.status,
        "gateway": payment.gateway,
        "reason": payment.reason,
        "refund_of": payment.refund_of_id,
        "booking": render_booking(booking),
    }
    _emit(
        type_=type_,
        data=data,
        provider_id=booking.provider_id,
        booking=booking,
        endpoints=endpoints,
    )


def waitlist_event(*, entry, booking: Booking, type_: str) -> None:
    """`waitlist.offered` (a held booking offered to the entry) or `waitlist.booked` (the offer
    confirmed). Rendered as the staff API renders an entry, with the booking."""
    from scheduling.api.waitlist_serializers import WaitlistEntrySerializer

    endpoints = endpoints_hearing(provider_id=booking.provider_id, type_=type_)
    if not endpoints:
        return
    data = {**WaitlistEntrySerializer(entry).data, "booking": render_booking(booking)}
    _emit(
        type_=type_,
        data=data,
        provider_id=booking.provider_id,
        booking=booking,
        endpoints=endpoints,
    )


def ping(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `ping` to one endpoint, whatever its event types, to test it."""
    return _emit(type_=PING, data={"endpoint": endpoint.pk}, provider_id=None, booking=None, endpoints=[endpoint])[0]


def endpoints_hearing(*, provider_id: int, type_: str) -> list[WebhookEndpoint]:
    """Active endpoints that want `type_` and whose owner may see the provider: a superuser sees all,
    staff the providers they manage (scheduling.selectors.providers_for_user's rule, in one query)."""
    return list(
        WebhookEndpoint.objects.filter(_owner_sees(provider_id), is_active=True)
        .filter(Q(event_types=[]) | Q(event_types__contains=[type_]))
        .distinct()
    )


def hears_provider_sql(provider: str) -> str:
    """SQL saying whether any active endpoint's owner may see the provider (the column expression
    `provider`), whatever its event types: `endpoints_hearing`'s rule without the type filter, so never
    false where that would find an endpoint. The booking's lock read asks it in its own statement
    (scheduling.booking_events.presence_sql): a provider nobody listens to costs a booking no query
    here. tests/scheduling/test_booking_followers.py holds the two to the same answers."""
    endpoints, users = WebhookEndpoint._meta.db_table, WebhookEndpoint.owner.field.related_model._meta.db_table
    staff = Provider.staff.through._meta.db_table
    return (
        f"EXISTS (SELECT 1 FROM {endpoints} e JOIN {users} u ON u.id = e.owner_id"
        f" WHERE e.is_active AND u.is_active AND (u.is_superuser OR EXISTS"
        f" (SELECT 1 FROM {staff} s WHERE s.provider_id = {provider} AND s.user_id = u.id)))"
    )


def owner_hears(*, endpoint_id: int, provider_id: int | None) -> bool:
    """Whether the endpoint's owner may still hear of the provider (a `ping`, no provider: is still
    active). Checked again before each send and replay: an owner may lose access after an event is
    queued, and the queue must not keep telling them."""
    return WebhookEndpoint.objects.filter(_owner_sees(provider_id), pk=endpoint_id).exists()


def _owner_sees(provider_id: int | None) -> Q:
    seen = Q(owner__is_active=True)
    if provider_id is not None:
        seen &= Q(owner__is_superuser=True) | Q(owner__managed_providers=provider_id)
    return seen


def render_booking(booking: Booking) -> dict:
    from scheduling.api.serializers import BookingSerializer

    return BookingSerializer().to_representation(booking)


def _chain(booking: Booking) -> list[int]:
    """The booking and every booking it was rescheduled from: one sequence runs across them, whatever
    the event (a refund caused by a move is numbered after the move, on the new booking)."""
    chain, parent = [booking.pk], booking.rescheduled_from_id
    while parent is not None and parent not in chain:
        chain.append(parent)
        parent = Booking.objects.filter(pk=parent).values_list("rescheduled_from_id", flat=True).first()
    return chain


def _emit(*, type_, data, provider_id, booking, endpoints) -> list[WebhookDelivery]:
    now = timezone.now()
    sequence = None
    if booking is not None:
        chain = _chain(booking)
        last = WebhookEvent.objects.filter(booking_id__in=chain).aggregate(last=Max("sequence"))["last"]
        sequence = (last or 0) + 1
        data = {**data, "sequence": sequence}
    event = WebhookEvent(type=type_, created_at=now, provider_id=provider_id, booking=booking, sequence=sequence)
    event.payload = {"id": event.pk, "type": type_, "created_at": now.isoformat().replace("+00:00", "Z"), "data": data}
    event.save(force_insert=True)
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=endpoint,
                event=event,
                address=endpoint.url,
                next_attempt_at=now,
                dedup_key=f"webhook:{event.pk}:{endpoint.pk}",
            )
            for endpoint in endpoints
        ]
    )
    if deliveries:
        wakeup.wake_on_commit("webhooks")
    return deliveries
