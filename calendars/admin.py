"""Calendar connections in the console: staff link their providers' calendars (an iCal URL), see
when each last synced and why it failed, sync now, and remove a connection with the busy times it
imported. Creating, syncing and removing go through calendars.services; credentials are never shown.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from calendars import services
from calendars.models import CalendarConnection, CalendarExport
from scheduling.admin.scoping import ProviderScopedMixin


class ConnectionForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https", label="iCal URL")

    class Meta:
        model = CalendarConnection
        fields = ["provider", "name", "url", "sync_every_minutes", "is_active"]


@admin.register(CalendarConnection)
class CalendarConnectionAdmin(ProviderScopedMixin, admin.ModelAdmin):
    form = ConnectionForm
    list_display = ["__str__", "provider", "kind", "is_active", "last_synced_at", "last_error", "next_sync_at"]
    list_filter = ["kind", "is_active", "provider"]
    readonly_fields = ["kind", "last_synced_at", "last_error", "last_error_at", "next_sync_at", "exports"]
    actions = ["sync_now"]

    @admin.display(description="Exports (waiting, or of the last 7 days)")
    def exports(self, obj):
        """What was written to (or removed from) a two-way calendar, and why any is waiting: read
        only, the dispatcher is the only writer."""
        if obj is None or obj.pk is None:
            return "-"
        recent = Q(status=CalendarExport.Status.PENDING) | Q(created_at__gte=timezone.now() - timedelta(days=7))
        rows = obj.exports.filter(recent).select_related("booking").order_by("-created_at", "-id")[:50]
        if not rows:
            return "-"
        return format_html(
            "<table><tr><th>Booking</th><th>Change</th><th>Status</th><th>Attempts</th><th>Next attempt</th>"
            "<th>Error</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        row.booking,
                        row.event,
                        row.get_status_display(),
                        row.attempts,
                        row.next_attempt_at,
                        row.last_error,
                    )
                    for row in rows
                ),
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        # A connection belongs to the provider it was made for: its imported times are that provider's.
        return [*self.readonly_fields, "provider"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            # Through the service: a new URL forgets the old conditional-fetch validators and is due at once.
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            services.calendar_connection_update(connection=obj, **fields)
            return
        created = services.calendar_connection_create(
            provider=obj.provider, url=obj.url, name=obj.name, sync_every_minutes=obj.sync_every_minutes
        )
        obj.pk = created.pk

    def delete_model(self, request, obj):
        services.calendar_connection_delete(connection_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for connection in queryset:
            services.calendar_connection_delete(connection_id=connection.pk)

    @admin.action(description="Sync now")
    def sync_now(self, request, queryset):
        for connection in queryset:
            result = services.calendar_connection_sync(connection_id=connection.pk)
            if result.error:
                self.message_user(request, f"{connection}: {result.error}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{connection}: {result.read} busy times read, {result.added} added, {result.removed} removed, "
                    f"{result.kept} kept.",
                    messages.SUCCESS,
                )
