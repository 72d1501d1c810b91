"""Services in the console: what customers book, and which providers offer it.

Scoped like providers: staff see the services one of their providers offers or was booked with (or
that nobody offers or has booked yet) and change or delete only those whose every provider is
theirs (`selectors.service_managed_by`),
offering them only through providers they manage. Saving and deleting go through
`scheduling.services.catalogue`, never the ModelAdmin's own writes.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html_join

from scheduling.admin.scoping import NotYoursIs404Mixin
from scheduling.formatting import duration
from scheduling.forms import ServiceForm
from scheduling.models import Booking, Service
from scheduling.selectors import providers_for_user, service_managed_by, services_for_user
from scheduling.services import service_create, service_delete, service_update
from scheduling.services.catalogue import SERVICE_FIELDS


@admin.register(Service)
class ServiceAdmin(NotYoursIs404Mixin, admin.ModelAdmin):
    form = ServiceForm
    list_display = ["name", "length", "price_shown", "offered_by", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ["providers"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "is_active", "providers"]}),
        ("Length and slots", {"fields": ["duration_minutes", "slot_step_minutes", "buffer_before_minutes",
                                         "buffer_after_minutes", "min_notice_minutes", "max_advance_days"]}),
        ("Confirmation and reminders", {"fields": ["requires_confirmation", "hold_minutes", "reminder_lead_minutes"]}),
        ("Price and payment", {"fields": ["price", "currency", "payment_mode"]}),
        ("Cancellation", {"fields": ["free_cancel_hours", "late_cancel_fee"]}),
    ]  # fmt: skip

    def get_queryset(self, request):
        return services_for_user(user=request.user).prefetch_related("providers")

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or service_managed_by(service=obj, user=request.user))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or service_managed_by(service=obj, user=request.user))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "providers":
            # A staff user offers a service only through providers they manage.
            kwargs["queryset"] = providers_for_user(user=request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # --- list -----------------------------------------------------------------------------------

    @admin.display(description="Length", ordering="duration_minutes")
    def length(self, obj: Service) -> str:
        return duration(obj.duration_minutes)

    @admin.display(description="Price", ordering="price")
    def price_shown(self, obj: Service) -> str:
        return f"{obj.price} {obj.currency}"

    @admin.display(description="Providers")
    def offered_by(self, obj: Service):
        providers = obj.providers.all()  # prefetched
        if not providers:
            return "—"
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("admin:scheduling_provider_change", args=[p.pk]), p.name) for p in providers),
        )

    # --- writes through the services ------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in SERVICE_FIELDS if name in form.cleaned_data}
        providers = list(form.cleaned_data.get("providers", []))
        if change:
            service_update(service=obj, providers=providers, **fields)
        else:
            created = service_create(providers=providers, **fields)
            obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at

    def save_related(self, request, form, formsets, change):
        # The providers were set by the service above; `form.save_m2m()` would write them again.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def get_deleted_objects(self, objs, request):
        # Bookings protect their service: `service_delete` deactivates one that has any, so the
        # confirmation lists the services alone and says what will happen to each. A service the
        # user may not change (shared with a provider they do not manage) is named as a missing
        # permission, which makes Django refuse the whole deletion, the bulk action's included.
        objs = list(objs)
        booked = set(Booking.objects.filter(service__in=objs).values_list("service_id", flat=True).distinct())
        labels = [
            f"{obj.name} (has bookings: it will be deactivated, not deleted)" if obj.pk in booked else obj.name
            for obj in objs
        ]
        refused = {f"service {obj.name}" for obj in objs if not service_managed_by(service=obj, user=request.user)}
        return labels, {"services": len(labels)}, refused, []

    def delete_model(self, request, obj):
        if not service_delete(service=obj):
            request._services_deactivated = [*getattr(request, "_services_deactivated", []), obj.name]

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            if not service_managed_by(service=obj, user=request.user):
                raise PermissionDenied  # get_deleted_objects refused it already; never reached by the form
            self.delete_model(request, obj)
        if deactivated := getattr(request, "_services_deactivated", []):
            self.message_user(request, self._deactivated_message(deactivated), messages.WARNING)

    def response_delete(self, request, obj_display, obj_id):
        deactivated = getattr(request, "_services_deactivated", [])
        if not deactivated:
            return super().response_delete(request, obj_display, obj_id)
        self.message_user(request, self._deactivated_message(deactivated), messages.WARNING)
        return HttpResponseRedirect(reverse("admin:scheduling_service_changelist"))

    @staticmethod
    def _deactivated_message(names: list[str]) -> str:
        return f"Deactivated, not deleted (bookings keep their service): {', '.join(names)}."
