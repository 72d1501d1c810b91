"""What the waitlist says to a customer: its messages and the words its pages share. Times are in
the entry's `customer_timezone`, with the zone named; text is in the entry's `language`.

Templates: templates/waitlist/email/<kind>_subject.txt, <kind>.txt, <kind>.html, for the kinds of
`WaitlistMessage.Kind` (joined, offer, closed, booked, ended). Links are made at render time:
the entry's private links (waitlist.links) and, once booked, the booking's (scheduling.manage_links).
"""

from datetime import datetime, timedelta

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from notifications.channels import OutgoingMessage
from notifications.models import Channel
from scheduling import manage_links
from scheduling.formatting import local_date, local_time, service_with_provider
from scheduling.models import CancelReason
from waitlist import links
from waitlist.models import WaitlistEntry, WaitlistMessage

Kind = WaitlistMessage.Kind


def wanted(entry: WaitlistEntry) -> str:
    """ "Check-up with Dr Ada", or the service alone when any provider will do."""
    if entry.provider_id is None:
        return entry.service.name
    return service_with_provider(entry.service.name, entry.provider.name)


def window_text(entry: WaitlistEntry) -> str:
    """The wanted window in the customer's zone, in the active language: "Mon 15 Mar 2027" for one
    day, "Mon 15 Mar 2027 – Fri 19 Mar 2027" for several, then the time of day when one was given."""
    tz = entry.customer_timezone
    # The window ends at the local midnight after its last day: that day is the one before the end.
    first = local_date(entry.window_start, tz)
    last = local_date(entry.window_end - timedelta(microseconds=1), tz)
    days = first if first == last else f"{first} – {last}"
    if entry.day_start is None:
        return days
    return gettext("%(days)s, between %(start)s and %(end)s") % {
        "days": days,
        "start": entry.day_start.strftime("%H:%M"),
        "end": entry.day_end.strftime("%H:%M"),
    }


def context_for(message: WaitlistMessage) -> dict:
    entry, booking = message.entry, message.booking
    tz = entry.customer_timezone
    context = {
        "kind": message.kind,
        "customer_name": entry.customer_name,
        "wanted": wanted(entry),
        "window": window_text(entry),
        "zone": tz.key,
        "entry_url": links.entry_url(entry),
        "join_again_url": links.join_again_url(entry),
    }
    if booking is not None:
        context.update(
            {
                "booked": service_with_provider(booking.service.name, booking.provider.name),
                "when": local_time(booking.start_at, tz),
                "until": local_time(booking.end_at, tz, with_date=False),
                "reference": booking.reference,
                "declined": booking.cancel_reason in (CancelReason.DECLINED, CancelReason.CUSTOMER),
            }
        )
    if message.kind == Kind.OFFER:
        context.update(
            {
                "expires": local_time(booking.hold_expires_at, tz) if booking.hold_expires_at else "",
                "accept_url": links.accept_url(entry),
                "decline_url": links.decline_url(entry),
                "pays_online": booking.service.takes_online_payment,
            }
        )
    if message.kind == Kind.BOOKED:
        context.update({"manage_url": manage_links.manage_url(booking), "links_url": manage_links.links_request_url()})
    return context


def message_for(message: WaitlistMessage, *, now: datetime) -> OutgoingMessage:
    """The email of one outbox row, in the entry's language."""
    with translation.override(message.entry.language or None):
        context = context_for(message)
        kind = message.kind
        subject = " ".join(render_to_string(f"waitlist/email/{kind}_subject.txt", context).split())
        return OutgoingMessage(
            channel=Channel.EMAIL,
            to=message.address,
            subject=subject,
            text=render_to_string(f"waitlist/email/{kind}.txt", context).strip() + "\n",
            html=render_to_string(f"waitlist/email/{kind}.html", context),
            key=message.dedup_key,
        )
