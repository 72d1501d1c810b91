"""The waitlist in the console: the line of each service in order, its offers, and its outbox.

Nothing here edits a row: an entry changes only through waitlist.services ("Withdraw", "Offer the
next free time now"), so their locks and messages apply; the outbox is a read-only log like the
booking notifications'. Staff see the entries of their providers and of the services those offer
(waitlist.selectors_api); times are in the customer's zone, named.
"""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from scheduling.admin.display import local_span
from scheduling.admin.scoping import NotYoursIs404Mixin
from scheduling.errors import DomainError
from scheduling.formatting import local_time
from waitlist import services
from waitlist.models import EntryStatus, WaitlistEntry, WaitlistMessage
from waitlist.selectors_api import waitlist_entries_for_user, waitlist_messages_for_user, with_line_positions


class _ReadOnly(NotYoursIs404Mixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The list's actions need the change permission; a row's own page is view-only (no Save).
        return obj is None and super().has_change_permission(request)


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(_ReadOnly):
    list_display = [
        "customer_name", "customer_email", "service", "provider_shown", "window", "status", "position",
        "offer", "joined",
    ]  # fmt: skip
    list_filter = [
        "status",
        ("service", admin.RelatedOnlyFieldListFilter),
        ("provider", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["customer_name", "customer_email"]
    list_select_related = ["service", "provider", "offer_booking"]
    ordering = ["created_at", "id"]  # the line
    actions = ["withdraw_selected", "offer_next_free_time"]
    fields = [
        "customer_name", "customer_email", "customer_phone", "customer_timezone", "language", "service",
        "provider_shown", "window", "status", "position", "offer", "offers_made", "joined", "closed",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        entries = super().get_queryset(request) & waitlist_entries_for_user(user=request.user)
        return with_line_positions(entries).select_related(*self.list_select_related)

    @admin.display(description="Provider", ordering="provider__name")
    def provider_shown(self, obj: WaitlistEntry) -> str:
        return obj.provider.name if obj.provider_id else "Any"

    @admin.display(description="Window (customer's zone)", ordering="window_start")
    def window(self, obj: WaitlistEntry) -> str:
        span = local_span(obj.window_start, obj.window_end, obj.customer_timezone)
        if obj.day_start is None:
            return span
        return f"{span}, only {obj.day_start:%H:%M}–{obj.day_end:%H:%M} each day"

    @admin.display(description="Position")
    def position(self, obj: WaitlistEntry):
        return obj.line_position if obj.line_position is not None else "—"

    @admin.display(description="Offer")
    def offer(self, obj: WaitlistEntry):
        if obj.offer_booking_id is None:
            return "—"
        url = reverse("admin:scheduling_booking_change", args=[obj.offer_booking_id])
        if obj.status != EntryStatus.OFFERED:
            return format_html('<a href="{}">{}</a>', url, obj.offer_booking.reference)
        return format_html(
            '<a href="{}">{}</a>, held until {}',
            url,
            obj.offer_booking.reference,
            local_time(obj.offer_expires_at, obj.customer_timezone),
        )

    @admin.display(description="Joined", ordering="created_at")
    def joined(self, obj: WaitlistEntry) -> str:
        return local_time(obj.created_at, obj.customer_timezone)

    @admin.display(description="Closed")
    def closed(self, obj: WaitlistEntry) -> str:
        return local_time(obj.closed_at, obj.customer_timezone) if obj.closed_at else "—"

    @admin.action(description="Withdraw selected entries (a live offer is declined)", permissions=["change"])
    def withdraw_selected(self, request, queryset):
        done = []
        for entry in queryset:
            try:
                services.waitlist_withdraw(entry_id=entry.pk)
            except DomainError as exc:
                self.message_user(request, f"{entry.customer_name}: {exc.detail}", messages.ERROR)
            else:
                done.append(entry.customer_name)
        if done:
            self.message_user(
                request, f"Withdrew {len(done)} entr{'y' if len(done) == 1 else 'ies'}: {', '.join(done)}."
            )

    @admin.action(description="Offer the next free time now (the selected entries' services)", permissions=["change"])
    def offer_next_free_time(self, request, queryset):
        """First in line first, whichever entries were ticked: the service's whole line is offered."""
        service_ids = sorted(set(queryset.values_list("service_id", flat=True)))
        made = sum(services.offers_make(service_id=service_id) for service_id in service_ids)
        level = messages.SUCCESS if made else messages.WARNING
        self.message_user(request, f"{made} offer{'' if made == 1 else 's'} made.", level)


@admin.register(WaitlistMessage)
class WaitlistMessageAdmin(_ReadOnly):
    list_display = ["kind", "entry_link", "channel", "address", "status", "attempts", "created", "sent", "last_error"]
    list_filter = ["status", "kind", "channel"]
    search_fields = ["address", "entry__customer_name"]
    list_select_related = ["entry"]
    fields = [
        "kind", "entry_link", "booking_link", "channel", "address", "status", "attempts", "created", "sent",
        "last_error", "provider_message_id",
    ]  # fmt: skip
    readonly_fields = fields

    def has_change_permission(self, request, obj=None):
        return False  # a log: no actions either

    def get_queryset(self, request):
        return waitlist_messages_for_user(user=request.user).select_related(*self.list_select_related)

    @admin.display(description="Entry", ordering="entry__created_at")
    def entry_link(self, obj: WaitlistMessage):
        url = reverse("admin:waitlist_waitlistentry_change", args=[obj.entry_id])
        return format_html('<a href="{}">{}</a>', url, obj.entry.customer_name)

    @admin.display(description="Booking")
    def booking_link(self, obj: WaitlistMessage):
        if obj.booking_id is None:
            return "—"
        url = reverse("admin:scheduling_booking_change", args=[obj.booking_id])
        return format_html('<a href="{}">Booking {}</a>', url, obj.booking_id)

    @admin.display(description="Created", ordering="created_at")
    def created(self, obj: WaitlistMessage) -> str:
        return local_time(obj.created_at, obj.entry.customer_timezone)

    @admin.display(description="Sent", ordering="sent_at")
    def sent(self, obj: WaitlistMessage) -> str:
        return local_time(obj.sent_at, obj.entry.customer_timezone) if obj.sent_at else "—"
