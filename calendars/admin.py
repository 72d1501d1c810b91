"""Calendar connections in the console: staff link their providers' calendars (an iCal URL, a CalDAV
collection, a Google or Microsoft calendar), see when each last synced and why it failed, sync now, and
remove a connection with the busy times it imported. Creating, changing, syncing and removing go
through calendars.services; credentials are write-only (a blank field keeps what is stored).
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from calendars import services
from calendars.adapters import AdapterError, adapter_class
from calendars.models import CalendarConnection, CalendarExport
from calendars.selectors import shown_url
from scheduling.admin.scoping import ProviderScopedMixin


class ConnectionForm(forms.ModelForm):
    url = forms.URLField(
        max_length=2000,
        assume_scheme="https",
        required=False,
        label="Address",
        help_text="iCal URL: the calendar's secret address. CalDAV: the calendar collection's URL.",
    )
    account = forms.CharField(
        max_length=254,
        required=False,
        help_text="Google or Microsoft: the calendar's id (blank for the primary calendar).",
    )
    username = forms.CharField(max_length=254, required=False, help_text="CalDAV only.")
    # Write-only: never rendered back; left blank on a change, the stored value stays.
    password = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), help_text="CalDAV only (an app password)."
    )
    refresh_token = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Google or Microsoft only: the OAuth refresh token of the account (see the README).",
    )

    class Meta:
        model = CalendarConnection
        fields = ["provider", "kind", "name", "url", "account", "sync_every_minutes", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # An iCal URL is itself the secret that reads the calendar: never rendered back whole (saved
            # back unchanged, the service knows the masked form and keeps the stored URL).
            self.initial["url"] = shown_url(self.instance)

    def clean(self):
        cleaned = super().clean()
        kind = self.instance.kind if self.instance.pk else cleaned.get("kind")
        if not kind:
            return cleaned
        cleaned["credentials"] = self._credentials(kind, cleaned)
        if self.instance.pk is None and kind == CalendarConnection.Kind.GOOGLE and not cleaned.get("account"):
            cleaned["account"] = "primary"
        try:
            adapter_class(kind).check_settings(
                url=cleaned.get("url") or "", account=cleaned.get("account") or "", credentials=cleaned["credentials"]
            )
        except AdapterError as exc:
            raise ValidationError({"kind": str(exc)}) from exc
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(self._form_field(kind, field), errors)
        return cleaned

    def _credentials(self, kind: str, cleaned: dict) -> dict:
        stored = dict(self.instance.credentials or {}) if self.instance.pk else {}
        if kind == CalendarConnection.Kind.CALDAV:
            given = {"username": cleaned.get("username") or "", "password": cleaned.get("password") or ""}
            credentials = {key: value for key, value in stored.items() if key in ("username", "password")}
            credentials.update({key: value for key, value in given.items() if value})
            return credentials
        if kind in (CalendarConnection.Kind.GOOGLE, CalendarConnection.Kind.MICROSOFT):
            token = cleaned.get("refresh_token") or ""
            # A new refresh token starts afresh: the access token of the old one is not this one's.
            return {"refresh_token": token} if token else stored
        return {}

    @staticmethod
    def _form_field(kind: str, field: str) -> str | None:
        if field != "credentials":
            return field if field in ("url", "account", "kind") else None
        return "username" if kind == CalendarConnection.Kind.CALDAV else "refresh_token"


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

    @admin.display(description="Address")
    def address(self, obj):
        return shown_url(obj)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # Shown read only, the URL field would print the whole secret address.
            return ["address" if name == "url" else name for name in fields]
        return fields

    def get_readonly_fields(self, request, obj=None):
        # A connection belongs to the provider it was made for (its imported times are that provider's),
        # and is of the kind it was made as.
        fixed = [name for name in self.readonly_fields if name != "kind"]
        return [*fixed, "provider", "kind"] if obj is not None else fixed

    def save_model(self, request, obj, form, change):
        credentials = form.cleaned_data["credentials"]
        if change:
            # Through the service: a new URL forgets the old conditional-fetch validators and is due at once.
            fields = {name: form.cleaned_data[name] for name in form.changed_data if name in services.UPDATABLE}
            if credentials != (obj.credentials or {}):
                fields["credentials"] = credentials
            services.calendar_connection_update(connection=obj, **fields)
            return
        created = services.calendar_connection_create(
            provider=obj.provider,
            kind=obj.kind,
            url=obj.url,
            account=obj.account,
            credentials=credentials,
            name=obj.name,
            sync_every_minutes=obj.sync_every_minutes,
        )
        obj.pk = created.pk

    def delete_model(self, request, obj):
        services.calendar_connection_delete(connection_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for connection in queryset:
            services.calendar_connection_delete(connection_id=connection.pk)

    @admin.action(description="Sync now", permissions=["change"])
    def sync_now(self, request, queryset):
        for connection in queryset:
            result = services.calendar_connection_sync(connection_id=connection.pk)
            if result.superseded:
                self.message_user(
                    request, f"{connection}: changed or removed meanwhile; nothing synced.", messages.WARNING
                )
            elif result.error:
                self.message_user(request, f"{connection}: {result.error}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{connection}: {result.read} busy times read, {result.added} added, {result.removed} removed, "
                    f"{result.kept} kept.",
                    messages.SUCCESS,
                )
