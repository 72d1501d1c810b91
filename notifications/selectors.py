"""Reads of the notifications domain. Nothing here writes."""

from django.db.models import QuerySet

from notifications.channels import push_configured, sms_configured
from notifications.models import Channel, Notification, Reminder
from scheduling.models import Booking
from scheduling.selectors import bookings_for_user


def customer_channels(booking: Booking) -> list[str]:
    """The channels the customer can receive: email always; SMS with a phone number when SMS is
    configured; push with a user account when push is configured."""
    customer = booking.customer
    channels = [Channel.EMAIL]
    if customer.phone and sms_configured():
        channels.append(Channel.SMS)
    if customer.user_id and push_configured():
        channels.append(Channel.PUSH)
    return channels


def provider_addresses(booking: Booking) -> list[str]:
    """The provider's recipients: its active staff users' emails, lower-cased, without repeats."""
    emails = booking.provider.staff.filter(is_active=True).exclude(email="").values_list("email", flat=True)
    return sorted({email.strip().lower() for email in emails})


def notifications_for_user(*, user) -> QuerySet[Notification]:
    """The outbox rows of the bookings a user may manage (all for a superuser)."""
    return Notification.objects.filter(booking__in=bookings_for_user(user=user))


def reminders_for_user(*, user) -> QuerySet[Reminder]:
    return Reminder.objects.filter(booking__in=bookings_for_user(user=user))
