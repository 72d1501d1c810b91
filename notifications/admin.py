"""Admin: read-only reminder and notification inlines for the booking admin, and the delivery logs
(integrator webhooks: notifications/webhook_admin.py).

The booking admin (scheduling/admin.py) adds the inlines:

    from notifications.admin import NotificationInline, ReminderInline
    class BookingAdmin(admin.ModelAdmin):
        inlines = [ReminderInline, NotificationInline]

Nothing here edits a row by hand: a log entry is read-only (no Save, no add, no delete) and "retry
failed" calls a service. Staff see only the rows of the providers they manage. Every instant is in
the booking's provider zone with the zone named; a row's page shows the message as it was rendered
for sending (notifications.content), with the customer's private manage links left out.
"""

import re
from datetime import timedelta

from django.contrib import admin, messages
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT, BaseFormSet, ManagementForm
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from notifications import (
    content,
    selectors,
    services,
    webhook_admin,  # noqa: F401  (registers the webhook endpoints and their delivery log)
)
from notifications.models import Notification, Reminder
from scheduling.admin.scoping import LocalLabelMixin
from scheduling.formatting import local_time, service_with_provider

# A manage link works for whoever holds it (docs/decisions/0010-manage-links.md): the console shows
# that one was sent, not the link itself, so staff never act as the customer by accident.
MANAGE_LINK = re.compile(r"\S*/b/[A-Z0-9]+/[^\s/]+/")
HIDDEN_LINK = "[the customer's private manage link]"


def lead_time(minutes: int) -> str:
    """ "1 day before", "2 hours before", "1 day 6 hours before"."""
    return f"{content.humanise(timedelta(minutes=minutes))} before"


def _booked(booking) -> str:
    return f"{service_with_provider(booking.service.name, booking.provider.name)}, {booking.customer_name}"


def reminder_title(reminder: Reminder) -> str:
    """e.g. "Reminder 1 day before: Cleaning with Dr Ada, Bo Smith" (never ids and raw minutes)."""
    return f"Reminder {lead_time(reminder.lead_minutes)}: {_booked(reminder.booking)}"


def notification_title(notification: Notification) -> str:
    return f"{notification}: {_booked(notification.booking)}"


class _ViewOnlyFormSet(BaseInlineFormSet):
    """Nothing in these inlines is ever saved, so a POST of the booking page that leaves them out (a
    script, a test, a form of its own) is not refused for a missing management form."""

    @cached_property
    def management_form(self):
        if self.is_bound and f"{self.prefix}-{TOTAL_FORM_COUNT}" not in self.data:
            count = len(self.get_queryset())
            data = {f"{self.prefix}-{TOTAL_FORM_COUNT}": count, f"{self.prefix}-{INITIAL_FORM_COUNT}": count}
            form = ManagementForm(data, auto_id=self.auto_id, prefix=self.prefix, renderer=self.renderer)
            form.full_clean()
            return form
        return BaseFormSet.management_form.func(self)


class _ProviderTimes:
    """Reminder and notification instants in their booking's provider zone, named (never bare UTC).
    Lists and inlines span providers in several zones, so each row uses its own."""

    @admin.display(description="Fires at (provider time)", ordering="fire_at")
    def fire_at_local(self, obj: Reminder) -> str:
        return self._local(obj.fire_at, obj)

    @admin.display(description="Next attempt (provider time)", ordering="next_attempt_at")
    def next_attempt_local(self, obj) -> str:
        return self._local(obj.next_attempt_at, obj)

    @admin.display(description="Lead time", ordering="lead_minutes")
    def lead(self, obj: Reminder) -> str:
        return lead_time(obj.lead_minutes)

    @admin.display(description="Sent at (provider time)", ordering="sent_at")
    def sent_at_local(self, obj) -> str:
        return self._local(obj.sent_at, obj)

    @admin.display(description="Created (provider time)", ordering="created_at")
    def created_at_local(self, obj) -> str:
        return self._local(obj.created_at, obj)

    @staticmethod
    def _local(value, obj) -> str:
        return local_time(value, obj.booking.provider_timezone) if value else "–"


class _ReadOnlyInline(_ProviderTimes, admin.TabularInline):
    formset = _ViewOnlyFormSet
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReminderInline(_ReadOnlyInline):
    model = Reminder
    fields = readonly_fields = (
        "channel",
        "lead",
        "fire_at_local",
        "status",
        "attempts",
        "sent_at_local",
        "last_error",
    )
    ordering = ("fire_at", "channel")


class NotificationInline(_ReadOnlyInline):
    model = Notification
    fields = readonly_fields = (
        "kind",
        "recipient",
        "channel",
        "address",
        "status",
        "attempts",
        "sent_at_local",
        "last_error",
    )
    ordering = ("created_at", "id")


class LeadTimeFilter(admin.SimpleListFilter):
    title = "lead time"
    parameter_name = "lead_minutes"

    def lookups(self, request, model_admin):
        leads = model_admin.get_queryset(request).order_by().values_list("lead_minutes", flat=True).distinct()
        return [(str(m), lead_time(m)) for m in sorted(leads)]

    def queryset(self, request, queryset):
        return queryset.filter(lead_minutes=self.value()) if (self.value() or "").isdigit() else queryset


class _DeliveryLogAdmin(LocalLabelMixin, _ProviderTimes, admin.ModelAdmin):
    """A ledger: read-only pages, times in the provider's zone, the rendered message shown."""

    list_select_related = ("booking", "booking__provider", "booking__service")
    list_per_page = 100
    change_form_template = "admin/scheduling/labelled_change_form.html"

    def get_queryset(self, request):
        return self.selector(user=request.user).select_related(*self.list_select_related)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The list's "retry failed" action needs the change permission; a row itself is never edited,
        # so its page is the view-only one (no Save button, a POST is refused).
        return obj is None and super().has_change_permission(request)

    def get_fields(self, request, obj=None):
        fields = list(self.detail_fields)
        if obj is not None and obj.status != obj.WAITING:
            fields.remove("next_attempt_local")  # nothing more will be attempted: a time here misleads
        return [*fields, "message_withheld" if self.withholds_message(request, obj) else "message"]

    @staticmethod
    def withholds_message(request, obj) -> bool:
        """A "links" email lists every upcoming booking of the address, with any provider: only a
        superuser may read it; a provider's staff see that it was sent, not what it listed."""
        return getattr(obj, "kind", None) == Notification.Kind.LINKS and not request.user.is_superuser

    @admin.display(description="Message")
    def message_withheld(self, obj):
        return "Not shown: this email lists all of the customer's upcoming bookings, with other providers too."

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description="Booking", ordering="booking__start_at")
    def booking_link(self, obj):
        url = reverse("admin:scheduling_booking_change", args=[obj.booking_id])
        return format_html('<a href="{}">{} – {}</a>', url, obj.booking.reference, obj.booking.provider.name)

    @admin.display(description="Message")
    def message(self, obj):
        """Subject and text body, rendered as the dispatcher renders them (at the send time, for a sent one)."""
        rendered = self.render(obj, now=obj.sent_at or timezone.now())
        body = MANAGE_LINK.sub(HIDDEN_LINK, rendered.text)
        return format_html(
            '<div class="sent-message"><p><strong>{}</strong> {}</p><p><strong>Subject:</strong> {}</p>'
            '<pre style="white-space:pre-wrap;margin:0">{}</pre></div>',
            "To:",
            rendered.to or "–",
            MANAGE_LINK.sub(HIDDEN_LINK, rendered.subject) or "–",
            body,
        )


@admin.register(Notification)
class NotificationAdmin(_DeliveryLogAdmin):
    selector = staticmethod(selectors.notifications_for_user)
    render = staticmethod(content.notification_message)
    date_hierarchy = "created_at"
    list_display = (
        "title",
        "created_at_local",
        "recipient",
        "channel",
        "address",
        "status",
        "attempts",
        "sent_at_local",
        "booking_link",
        "last_error",
    )
    list_filter = ("status", "channel", "kind", "recipient")
    search_fields = ("address", "dedup_key", "booking__reference")
    actions = ["retry_failed"]
    detail_fields = (
        "booking_link",
        "kind",
        "recipient",
        "channel",
        "address",
        "status",
        "attempts",
        "created_at_local",
        "sent_at_local",
        "next_attempt_local",
        "last_error",
        "provider_message_id",
    )

    def object_label(self, obj: Notification) -> str:
        return notification_title(obj)

    @admin.display(description="Notification", ordering="kind")
    def title(self, obj: Notification) -> str:
        return notification_title(obj)

    @admin.action(description="Retry failed notifications", permissions=["change"])
    def retry_failed(self, request, queryset):
        count = services.notifications_retry_failed(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} failed notification(s) queued again.", messages.SUCCESS)


@admin.register(Reminder)
class ReminderAdmin(_DeliveryLogAdmin):
    selector = staticmethod(selectors.reminders_for_user)
    render = staticmethod(content.reminder_message)
    date_hierarchy = "fire_at"
    list_display = (
        "title",
        "fire_at_local",
        "channel",
        "status",
        "attempts",
        "sent_at_local",
        "booking_link",
        "last_error",
    )
    list_filter = ("status", "channel", LeadTimeFilter)
    search_fields = ("booking__reference", "booking__customer_email", "booking__customer_name")
    actions = ["retry_failed"]
    detail_fields = (
        "booking_link",
        "channel",
        "lead",
        "fire_at_local",
        "status",
        "attempts",
        "sent_at_local",
        "next_attempt_local",
        "last_error",
        "provider_message_id",
    )

    def object_label(self, obj: Reminder) -> str:
        return reminder_title(obj)

    @admin.display(description="Reminder", ordering="fire_at")
    def title(self, obj: Reminder) -> str:
        return reminder_title(obj)

    @admin.action(description="Retry failed reminders (appointment not started)", permissions=["change"])
    def retry_failed(self, request, queryset):
        count = services.reminders_retry_failed(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} failed reminder(s) queued again.", messages.SUCCESS)
