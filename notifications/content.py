"""What a message says. Times are shown in the recipient's zone (the customer's or the provider's
snapshot on the booking), with the zone named; the .ics attachments carry UTC instants.

Templates, under templates/notifications/:
    email/<kind>_subject.txt, email/<kind>.txt, email/<kind>.html   (kind: confirmation, cancellation,
    sms/<kind>.txt                                                    reschedule, reminder)
A push message is the email subject as its title and the SMS text as its body.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.template.loader import render_to_string

from notifications.channels import Attachment, OutgoingMessage
from notifications.models import Channel, Notification, Reminder
from scheduling.formatting import local_time
from scheduling.ics import booking_calendar
from scheduling.models import Booking, CancelReason

CUSTOMER, PROVIDER = Notification.Recipient.CUSTOMER, Notification.Recipient.PROVIDER
REMINDER = "reminder"


def reminder_message(reminder: Reminder, *, now: datetime) -> OutgoingMessage:
    booking = reminder.booking
    return _message(
        kind=REMINDER,
        booking=booking,
        recipient=CUSTOMER,
        channel=reminder.channel,
        to=customer_address(booking, reminder.channel),
        key=reminder.dedup_key,
        now=now,
    )


def notification_message(notification: Notification, *, now: datetime) -> OutgoingMessage:
    return _message(
        kind=notification.kind,
        booking=notification.booking,
        recipient=notification.recipient,
        channel=notification.channel,
        to=notification.address,
        key=notification.dedup_key,
        now=now,
    )


def customer_address(booking: Booking, channel: str) -> str:
    """Where the customer hears about this booking: the email and phone given with it (ADR 0009);
    push goes to the user account of the customer identity, the one thing that is not typed."""
    if channel == Channel.EMAIL:
        return booking.customer_email
    if channel == Channel.SMS:
        return booking.customer_phone
    user_id = booking.customer.user_id
    return f"user:{user_id}" if user_id else ""


def context_for(*, kind: str, booking: Booking, recipient: str, now: datetime) -> dict:
    for_provider = recipient == PROVIDER
    zone = booking.provider_timezone if for_provider else booking.customer_timezone
    previous = booking.rescheduled_from if kind == Notification.Kind.RESCHEDULE else None
    return {
        "kind": kind,
        "booking": booking,
        "for_provider": for_provider,
        "provider_name": booking.provider.name,
        # The details given with this booking, never the shared customer record's (ADR 0009).
        "customer_name": booking.customer_name,
        "customer_email": booking.customer_email,
        "customer_phone": booking.customer_phone,
        "reference": booking.reference,
        "zone": str(zone),
        "when": local_time(booking.start_at, zone),
        "until": local_time(booking.end_at, zone, with_date=False),
        "previous_when": local_time(previous.start_at, zone) if previous else "",
        "starts_in": humanise(booking.start_at - now),
        "reason": CancelReason(booking.cancel_reason).label if booking.cancel_reason else "",
        "by_customer": booking.cancel_reason == CancelReason.CUSTOMER,
        "fee": booking.cancellation_fee,
        "refund": booking.refund_amount,
        "currency": booking.currency,
    }


def _message(*, kind, booking, recipient, channel, to, key, now) -> OutgoingMessage:
    context = context_for(kind=kind, booking=booking, recipient=recipient, now=now)
    subject = " ".join(render_to_string(f"notifications/email/{kind}_subject.txt", context).split())
    if channel == Channel.EMAIL:
        attachments = tuple(calendar_attachments(kind, booking))
        return OutgoingMessage(
            channel=channel,
            to=to,
            subject=subject,
            text=render_to_string(f"notifications/email/{kind}.txt", context).strip() + "\n",
            html=render_to_string(f"notifications/email/{kind}.html", context),
            attachments=attachments,
            key=key,
        )
    text = " ".join(render_to_string(f"notifications/sms/{kind}.txt", context).split())
    data = {"kind": kind, "booking": booking.reference, "start_at": booking.start_at.isoformat()}
    return OutgoingMessage(channel=channel, to=to, subject=subject, text=text, key=key, data=data)


def calendar_attachments(kind: str, booking: Booking) -> list[Attachment]:
    """The .ics files of an email (scheduling.ics, UTC instants, the same UID as the customer pages'
    download when the site is served on its first ALLOWED_HOSTS name). A reschedule carries the old
    booking as cancelled and the new one, so a calendar drops the old time and adds the new."""
    if kind == REMINDER:
        return []
    host = settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS else "booking"
    bookings = [booking]
    if kind == Notification.Kind.RESCHEDULE and booking.rescheduled_from_id:
        bookings.insert(0, booking.rescheduled_from)
    return [Attachment(f"booking-{b.reference}.ics", booking_calendar(b, host=host), "text/calendar") for b in bookings]


def humanise(delta: timedelta) -> str:
    """A whole-minute duration in words: "1 day", "1 hour", "2 hours 30 minutes", "15 minutes"."""
    minutes = max(0, round(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (mins, "minute")]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return " ".join(words[:2]) or "less than a minute"
