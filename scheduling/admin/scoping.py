"""What every scheduling admin shares: staff scoping, 404 for what is not yours, zone-aware labels.

A staff user who is not a superuser sees and edits only the providers whose `staff` lists them, and
those providers' bookings, rules and blocked times (`scheduling.selectors.providers_for_user`). An
object outside that scope answers 404, exactly like one that does not exist.
"""

import json
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.admin import helpers
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.http import Http404
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeData, mark_safe

from scheduling.selectors import providers_for_user


class NotYoursIs404Mixin:
    """`get_object` raises 404 instead of redirecting with a "does not exist" message."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with id {object_id!r} in your providers.")
        return obj


class ProviderScopedMixin(NotYoursIs404Mixin):
    """For models with a `provider` foreign key."""

    def get_queryset(self, request):
        return super().get_queryset(request).filter(provider__in=providers_for_user(user=request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "provider":
            kwargs["queryset"] = providers_for_user(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class Labelled:
    """Stands in for an object in the admin's history and delete pages: its pk, and a local label."""

    def __init__(self, obj, label: str) -> None:
        self.pk = obj.pk
        self.label = label

    def __str__(self) -> str:
        return self.label


class LocalLabelMixin:
    """Titles, messages and history name an object by `object_label()`, not by `str()`.

    `Booking.__str__` and `BlockedTime.__str__` carry a bare UTC time; the console shows a person
    their local time instead.
    """

    def object_label(self, obj) -> str:
        return str(obj)

    def _remember_label(self, request, obj) -> None:
        labels = getattr(request, "_local_labels", {})
        labels[str(obj)] = self.object_label(obj)
        request._local_labels = labels

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._remember_label(request, obj)

    def delete_model(self, request, obj):
        self._remember_label(request, obj)
        super().delete_model(request, obj)

    def message_user(self, request, message, *args, **kwargs):
        for raw, label in getattr(request, "_local_labels", {}).items():
            if isinstance(message, SafeData):
                message = mark_safe(message.replace(escape(raw), escape(label)))
            else:
                message = message.replace(raw, label)
        super().message_user(request, message, *args, **kwargs)

    def action_checkbox(self, obj):
        attrs = {"class": "action-select", "aria-label": f"Select this object for an action - {self.object_label(obj)}"}
        return forms.CheckboxInput(attrs, lambda value: False).render(helpers.ACTION_CHECKBOX_NAME, str(obj.pk))

    def _log(self, request, objs, flag: int, message="") -> None:
        if isinstance(message, list):
            message = json.dumps(message)
        LogEntry.objects.bulk_create(
            LogEntry(
                user_id=request.user.pk,
                content_type_id=ContentType.objects.get_for_model(obj, for_concrete_model=False).pk,
                object_id=str(obj.pk),
                object_repr=self.object_label(obj)[:200],
                action_flag=flag,
                change_message=message,
            )
            for obj in objs
        )

    def log_addition(self, request, obj, message):
        self._log(request, [obj], ADDITION, message)

    def log_change(self, request, obj, message):
        self._log(request, [obj], CHANGE, message)

    def log_deletions(self, request, queryset):
        self._log(request, list(queryset), DELETION)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        context = {"subtitle": self.object_label(obj), "object_label": self.object_label(obj)}
        return super().change_view(request, object_id, form_url, {**context, **(extra_context or {})})

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        label = self.object_label(obj)
        context = {"title": f"Change history: {label}", "object": Labelled(obj, label)}
        return super().history_view(request, object_id, {**context, **(extra_context or {})})

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        label = self.object_label(obj)
        context = {"object": Labelled(obj, label), "object_label": label}
        return super().delete_view(request, object_id, {**context, **(extra_context or {})})


class ProviderClockMixin:
    """Render add and change forms in the zone their wall-clock fields are typed in.

    The admin's "Now" buttons fill in the wall time of the active zone (`data-admin-utc-offset` on
    <body> comes from `{% now "Z" %}`), which is UTC unless something activates another. Blocked
    times are typed in the provider's zone, so the page is rendered in it. `page_zone` returns it:
    the object's provider's, or on an add page the only provider this user manages; None leaves the
    active zone alone (the field help says which zone the times are in).
    """

    def page_zone(self, request, obj) -> ZoneInfo | None:
        raise NotImplementedError

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        zone = self.page_zone(request, obj)
        context["page_zone"] = zone  # the template hides Today/Now while no zone is known
        response = super().render_change_form(request, context, add, change, form_url, obj)
        if zone is None:
            return response
        with timezone.override(zone):
            return response.render()  # a TemplateResponse renders lazily, after this block otherwise

    @staticmethod
    def chosen_provider_zone(request) -> ZoneInfo | None:
        """The zone of the provider an add page was opened for (`?provider=<id>`), if it is the user's."""
        chosen = request.GET.get("provider", "")
        if not chosen.isdigit():
            return None
        return providers_for_user(user=request.user).filter(pk=chosen).values_list("timezone", flat=True).first()

    @staticmethod
    def only_provider_zone(request) -> ZoneInfo | None:
        providers = list(providers_for_user(user=request.user).values_list("timezone", flat=True)[:2])
        return providers[0] if len(providers) == 1 else None
