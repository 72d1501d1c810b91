"""What a message says. Times are shown in the recipient's zone (the customer's or the provider's
snapshot on the booking), with the zone named; the .ics attachments carry UTC instants.

Templates, under templates/notifications/:
    email/<kind>_subject.txt, email/<kind>.txt, email/<kind>.html   (kind: confirmation, cancellation,
    sms/<kind>.txt                                                    reschedule, reminder,
                                                                      request_received, confirm_request, links,
                                                                      payment_refunded)
A push message is the email subject as its title and the SMS text as its body.

Customer messages carry the booking's private manage link, made here at render time
(scheduling.manage_links); staff messages never do, and a request to confirm links to the console.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext, npgettext

from notifications.channels import Attachment, OutgoingMessage
from notifications.models import Channel, Notification, Reminder
from payments import selectors as payment_selectors
from scheduling import manage_links, selectors
from scheduling.formatting import is_own_service, local_time, service_with_provider
from scheduling.ics import booking_calendar
from scheduling.models import Booking, BookingStatus, CancelReason

CUSTOMER, PROVIDER = Notification.Recipient.CUSTOMER, Notification.Recipient.PROVIDER
REMINDER = "reminder"
WITH_CALENDAR = {Notification.Kind.CONFIRMATION, Notification.Kind.CANCELLATION, Notification.Kind.RESCHEDULE}


def message_language(booking: Booking, recipient: str) -> str:
    """The customer reads about their booking in the language they booked in; staff in the site's."""
    return booking.language if recipient == CUSTOMER else settings.LANGUAGE_CODE


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
    if notification.kind == Notification.Kind.LINKS:
        with translation.override(message_language(notification.booking, CUSTOMER)):
            return links_message(notification, now=now)
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


def links_bookings(notification: Notification, *, now: datetime) -> list[Booking]:
    """The bookings a "links" email lists: the customer's upcoming live ones, as of sending."""
    return selectors.upcoming_live_bookings_for_email(email=notification.booking.customer.email, now=now)


def _explained(booking: Booking) -> str:
    """Why the customer's booking was cancelled, when it was not their own doing."""
    provider = booking.provider.name
    if booking.cancel_reason == CancelReason.EXPIRED:
        return gettext(
            "%(provider)s did not confirm your request before the time held for you ran out, "
            "so the time has been released. Nothing is charged."
        ) % {"provider": provider}
    if booking.cancel_reason == CancelReason.PROVIDER:
        return gettext(
            "%(provider)s cancelled this booking. Nothing is charged for a cancellation by the provider."
        ) % {"provider": provider}
    if booking.cancel_reason == CancelReason.PAYMENT_FAILED:
        return gettext("The payment for this booking did not go through, so the time has been released.")
    return ""


# Cancellations nobody chose (time ran out, a card was refused), and a late payment sent back: the
# customer is shown the way to choose another time.
_BOOK_AGAIN_REASONS = (CancelReason.EXPIRED, CancelReason.PAYMENT_FAILED)


def _links(booking: Booking, *, recipient: str, kind: str) -> dict:
    if recipient == PROVIDER:
        console = reverse("admin:scheduling_booking_change", args=[booking.pk])
        return {"console_url": settings.SITE_URL + console}
    links = {"manage_url": manage_links.manage_url(booking), "links_url": manage_links.links_request_url()}
    if booking.cancel_reason in _BOOK_AGAIN_REASONS or kind == Notification.Kind.PAYMENT_REFUNDED:
        links["book_again_url"] = settings.SITE_URL + reverse("pages:provider", args=[booking.provider.slug])
    return links


def context_for(*, kind: str, booking: Booking, recipient: str, now: datetime) -> dict:
    for_provider = recipient == PROVIDER
    zone = booking.provider_timezone if for_provider else booking.customer_timezone
    previous = booking.rescheduled_from if kind == Notification.Kind.RESCHEDULE else None
    return {
        **_links(booking, recipient=recipient, kind=kind),
        "reason_explained": "" if for_provider else _explained(booking),
        "hold_until": local_time(booking.hold_expires_at, zone) if booking.hold_expires_at else "",
        "kind": kind,
        "booking": booking,
        "for_provider": for_provider,
        "provider_name": booking.provider.name,
        "service_name": booking.service.name,
        "booked": service_with_provider(booking.service.name, booking.provider.name),
        # What staff read beside the customer's name: the service, unless it is the provider's own.
        "staff_service": "" if is_own_service(booking.service.name, booking.provider.name) else booking.service.name,
        # The details given with this booking, never the shared customer record's (ADR 0009).
        "customer_name": booking.customer_name,
        "customer_email": booking.customer_email,
        "customer_phone": booking.customer_phone,
        "reference": booking.reference,
        "zone": str(zone),
        "when": local_time(booking.start_at, zone),
        "until": local_time(booking.end_at, zone, with_date=False),
        "previous_when": local_time(previous.start_at, zone) if previous else "",
        "starts_in": humanise(booking.start_at - now, after_in=True),
        "reason": CancelReason(booking.cancel_reason).label if booking.cancel_reason else "",
        "by_customer": booking.cancel_reason == CancelReason.CUSTOMER,
        "fee": booking.cancellation_fee,
        "refund": booking.refund_amount,
        "currency": booking.currency,
        "late_refund": (
            payment_selectors.late_payment_refunded(booking=booking)
            if kind == Notification.Kind.PAYMENT_REFUNDED
            else None
        ),
    }


def _message(*, kind, booking, recipient, channel, to, key, now) -> OutgoingMessage:
    with translation.override(message_language(booking, recipient)):
        return _rendered(kind=kind, booking=booking, recipient=recipient, channel=channel, to=to, key=key, now=now)


def _rendered(*, kind, booking, recipient, channel, to, key, now) -> OutgoingMessage:
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


def links_message(notification: Notification, *, now: datetime) -> OutgoingMessage:
    """Every upcoming live booking of the address, each with a fresh manage link, in its own zone."""
    bookings = links_bookings(notification, now=now)
    context = {
        "customer_name": notification.booking.customer_name,
        "bookings": [
            {
                "reference": b.reference,
                "provider_name": b.provider.name,
                "booked": service_with_provider(b.service.name, b.provider.name),
                "when": local_time(b.start_at, b.customer_timezone),
                "pending": b.status == BookingStatus.PENDING,
                "manage_url": manage_links.manage_url(b),
            }
            for b in bookings
        ],
        "links_url": manage_links.links_request_url(),
    }
    subject = " ".join(render_to_string("notifications/email/links_subject.txt", context).split())
    return OutgoingMessage(
        channel=Channel.EMAIL,
        to=notification.address,
        subject=subject,
        text=render_to_string("notifications/email/links.txt", context).strip() + "\n",
        html=render_to_string("notifications/email/links.html", context),
        key=notification.dedup_key,
    )


def calendar_attachments(kind: str, booking: Booking) -> list[Attachment]:
    """The .ics files of an email (scheduling.ics, UTC instants, the same UID as the customer pages'
    download, the provider's feed and calendars). A reschedule carries the old
    booking as cancelled and the new one, so a calendar drops the old time and adds the new."""
    if kind not in WITH_CALENDAR:
        return []
    bookings = [booking]
    if kind == Notification.Kind.RESCHEDULE and booking.rescheduled_from_id:
        bookings.insert(0, booking.rescheduled_from)
    return [Attachment(f"booking-{b.reference}.ics", booking_calendar(b), "text/calendar") for b in bookings]


def humanise(delta: timedelta, *, after_in: bool = False) -> str:
    """A whole-minute duration in words: "1 day", "1 hour", "2 hours 30 minutes", "15 minutes".

    `after_in` gives the form that follows "in" ("starts in 2 days"), which some languages inflect:
    German says "in 2 Tagen", not "in 2 Tage" (the "starts in" context of the catalogue).
    """
    minutes = max(0, round(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if after_in:
        parts = [
            npgettext("starts in", "%(count)d day", "%(count)d days", days) % {"count": days},
            npgettext("starts in", "%(count)d hour", "%(count)d hours", hours) % {"count": hours},
            npgettext("starts in", "%(count)d minute", "%(count)d minutes", mins) % {"count": mins},
        ]
    else:
        parts = [
            ngettext("%(count)d day", "%(count)d days", days) % {"count": days},
            ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours},
            ngettext("%(count)d minute", "%(count)d minutes", mins) % {"count": mins},
        ]
    words = [part for n, part in zip((days, hours, mins), parts, strict=True) if n]
    return " ".join(words[:2]) or gettext("less than a minute")
