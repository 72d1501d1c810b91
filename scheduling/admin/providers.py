"""Providers, their availability rules and blocked times; the availability preview and the agenda."""

from datetime import date, timedelta

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import BadRequest, PermissionDenied
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from booking_site.db_router import replica_for_reads
from calendars.feed import feed_url
from calendars.feed_services import provider_feed_get_or_create, provider_feed_rotate
from calendars.models import ProviderFeed
from scheduling.admin.agenda import agenda_grid
from scheduling.admin.availability import AvailabilityEditorMixin
from scheduling.admin.display import clock, local_span, status_badge, zone_abbreviation
from scheduling.admin.scoping import LocalLabelMixin, NotYoursIs404Mixin, ProviderClockMixin, ProviderScopedMixin
from scheduling.availability import local_dates_window
from scheduling.formatting import duration, local_time
from scheduling.forms import AvailabilityRuleForm, BlockedTimeForm, ProviderForm
from scheduling.models import AvailabilityRule, BlockedTime, BookingStatus, Provider
from scheduling.rule_text import rule_in_words
from scheduling.selectors import (
    bookings_for_user,
    provider_open_hours,
    provider_slots,
    providers_for_user,
    services_offered_by,
)
from scheduling.services.catalogue import provider_own_service_create, provider_own_services_rename
from scheduling.services.inputs import OUT_OF_RANGE, in_supported_range

PREVIEW_DAYS = 14


class AvailabilityRuleInline(admin.TabularInline):
    """The raw rules, the advanced option; each saved row is titled by the rule in plain words."""

    model = AvailabilityRule
    form = AvailabilityRuleForm
    fields = ["kind", "rrule", "starts_on", "ends_on", "start_time", "end_time", "label"]
    extra = 0
    template = "admin/scheduling/local_tabular.html"
    verbose_name_plural = "Availability rules, advanced (RRULE; wall-clock times in the provider's zone)"


class BlockedTimeInline(admin.TabularInline):
    """Upcoming blocked times, typed and shown in the provider's zone. Past ones: the blocked-time list."""

    model = BlockedTime
    form = BlockedTimeForm
    fields = ["start_at", "end_at", "reason", "note"]
    extra = 0
    show_change_link = True
    template = "admin/scheduling/local_tabular.html"
    verbose_name_plural = "Upcoming blocked times"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(end_at__gt=timezone.now())

    def get_formset(self, request, obj=None, **kwargs):
        zone = obj.timezone if obj is not None else None
        kwargs["form"] = type("BlockedTimeInlineForm", (self.form,), {"default_zone": zone})
        return super().get_formset(request, obj, **kwargs)


class ZoneListFilter(admin.AllValuesFieldListFilter):
    """Only the zones the user's providers are in, not all of tzdata."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "zone"


@admin.register(Provider)
class ProviderAdmin(AvailabilityEditorMixin, ProviderClockMixin, NotYoursIs404Mixin, admin.ModelAdmin):
    form = ProviderForm
    list_display = ["name", "kind", "timezone", "is_active", "agenda_links"]
    list_filter = ["kind", ("timezone", ZoneListFilter), "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ["staff"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "timezone", "is_active", "staff"]}),
        ("Services", {"fields": ["services_offered"]}),
        ("Availability preview", {"fields": ["availability_preview"]}),
        ("Calendar", {"fields": ["calendar_feed_link"]}),
    ]
    actions = ["rotate_calendar_feed"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=providers_for_user(user=request.user))

    def get_readonly_fields(self, request, obj=None):
        readonly = ["services_offered", "availability_preview", "calendar_feed_link"]
        if not request.user.is_superuser:
            readonly.append("staff")  # staff cannot hand a provider to others, or drop themselves
        return readonly

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else self.prepopulated_fields

    def page_zone(self, request, obj):
        return obj.timezone if obj is not None else None  # a new provider has no blocked times yet

    def get_inlines(self, request, obj):
        # Blocked times are typed in the provider's zone, which a provider not yet saved lacks.
        return [AvailabilityRuleInline, BlockedTimeInline] if obj is not None else [AvailabilityRuleInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "name" in form.changed_data:
            provider_own_services_rename(provider=obj, old_name=form.initial["name"])
        if not change:
            # Bookable at once: a service of its own with the default settings, named after it (as
            # `provider_create(own_service={})` makes one). Its length, price and rules are changed on
            # the service's page, and the provider can be added to other services there.
            provider_own_service_create(provider=obj)
            provider_feed_get_or_create(provider=obj)

    # --- calendar feed ---------------------------------------------------------------------------

    @admin.display(description="Calendar subscription URL")
    def calendar_feed_link(self, obj: Provider | None):
        if obj is None or obj.pk is None:
            return "Saving the provider gives it a secret calendar subscription URL."
        feed = ProviderFeed.objects.filter(provider=obj).first()
        if feed is None:
            return "None yet: use the “Rotate calendar feed URL” action on the providers list to make one."
        return format_html(
            '<code class="calendar-feed-url">{}</code><br>Subscribe to it in a calendar app to see this '
            "provider's bookings. Whoever holds it can read them: if it leaks, use the "
            "“Rotate calendar feed URL” action on the providers list, and the old URL stops working.",
            feed_url(feed),
        )

    @admin.action(description="Rotate calendar feed URL (the old URL stops working)")
    def rotate_calendar_feed(self, request, queryset):
        for provider in queryset:
            provider_feed_rotate(provider=provider)
        self.message_user(request, f"New calendar feed URLs for {queryset.count()} provider(s).", messages.SUCCESS)

    # --- services -------------------------------------------------------------------------------

    @admin.display(description="Services it offers")
    def services_offered(self, obj: Provider | None):
        if obj is None or obj.pk is None:
            return "Saving the provider gives it a service of its own (30 minutes, free); change it afterwards."
        services = list(obj.services.order_by("name", "pk"))
        if not services:
            return format_html(
                'None: <a href="{}">add it to a service</a>.', reverse("admin:scheduling_service_changelist")
            )
        return format_html(
            '<ul class="services-offered">{}</ul>',
            format_html_join(
                "",
                '<li><a href="{}">{}</a> · {} · {} {}{}</li>',
                (
                    (
                        reverse("admin:scheduling_service_change", args=[s.pk]),
                        s.name,
                        duration(s.duration_minutes),
                        s.price,
                        s.currency,
                        "" if s.is_active else " · inactive",
                    )
                    for s in services
                ),
            ),
        )

    # --- list -----------------------------------------------------------------------------------

    @admin.display(description="Agenda")
    def agenda_links(self, obj: Provider):
        return format_html(
            '<a href="{}">Day</a> · <a href="{}">Week</a>',
            reverse("admin:scheduling_provider_agenda_day", args=[obj.pk]),
            reverse("admin:scheduling_provider_agenda_week", args=[obj.pk]),
        )

    # --- availability preview -----------------------------------------------------------------

    @admin.display(description=f"Free slots, next {PREVIEW_DAYS} days")
    def availability_preview(self, obj: Provider | None):
        if obj is None or obj.pk is None:
            return "Save the provider and add availability rules to see its free slots."
        services = services_offered_by(provider=obj)
        if not services:
            return "It offers no active service: nothing can be booked with it."
        # One preview per service: their lengths, steps, buffers and notice give different slots.
        return format_html_join("", "{}", ((self._preview(obj, service, len(services) > 1),) for service in services))

    @staticmethod
    def _preview(provider: Provider, service, named: bool) -> str:
        zone = provider.timezone
        first = timezone.now().astimezone(zone).date()
        last = first + timedelta(days=PREVIEW_DAYS - 1)
        by_day: dict[date, list[str]] = {first + timedelta(days=n): [] for n in range(PREVIEW_DAYS)}
        for slot in provider_slots(
            provider=provider, service=service, first=first, last=last, using=replica_for_reads()
        ):
            by_day.setdefault(slot.start.astimezone(zone).date(), []).append(clock(slot.start, zone))
        days = [{"date": day, "times": times} for day, times in sorted(by_day.items())]
        return render_to_string(
            "admin/scheduling/provider/availability_preview.html",
            {
                "provider": provider,
                "service": service,
                "service_length": duration(service.duration_minutes),
                "named": named,
                "zone": zone.key,
                "days": days,
                "total": sum(len(d["times"]) for d in days),
                "add_url": reverse("admin:scheduling_booking_add"),
            },
        )

    # --- agenda -------------------------------------------------------------------------------

    def get_urls(self):
        agenda = self.admin_site.admin_view(self.agenda_view)
        return [
            path("<path:object_id>/agenda/day/", agenda, {"span": "day"}, name="scheduling_provider_agenda_day"),
            path("<path:object_id>/agenda/week/", agenda, {"span": "week"}, name="scheduling_provider_agenda_week"),
            *super().get_urls(),
        ]

    def agenda_view(self, request, object_id, span):
        provider = self.get_object(request, unquote(object_id))
        if not self.has_view_permission(request, provider):
            raise PermissionDenied
        zone = provider.timezone
        today = timezone.now().astimezone(zone).date()
        try:
            day = date.fromisoformat(request.GET.get("date", ""))
        except ValueError:
            day = today
        if not in_supported_range(day):
            raise BadRequest(OUT_OF_RANGE)  # near years 1 and 9999 the date arithmetic below overflows
        if span == "week":
            first = day - timedelta(days=day.weekday())  # weeks start on Monday
            last, step = first + timedelta(days=6), 7
        else:
            first, last, step = day, day, 1
        name = f"admin:scheduling_provider_agenda_{span}"
        days = self._agenda_days(request, provider, first, last)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{provider.name}: {'week of ' if span == 'week' else ''}{first:%a %d %b %Y}",
            "provider": provider,
            "span": span,
            "day": day,
            "zone": zone.key,
            "zone_abbreviation": zone_abbreviation(first, zone),
            "days": days,
            "grid": agenda_grid(
                days=days, open_hours=provider_open_hours(provider=provider, first=first, last=last), zone=zone
            ),
            "previous_url": f"{reverse(name, args=[provider.pk])}?date={day - timedelta(days=step)}",
            "next_url": f"{reverse(name, args=[provider.pk])}?date={day + timedelta(days=step)}",
            "today_url": reverse(name, args=[provider.pk]),
            "day_url": f"{reverse('admin:scheduling_provider_agenda_day', args=[provider.pk])}?date={day}",
            "week_url": f"{reverse('admin:scheduling_provider_agenda_week', args=[provider.pk])}?date={day}",
            "add_url": f"{reverse('admin:scheduling_booking_add')}?provider={provider.pk}&date={day}",
        }
        return TemplateResponse(request, "admin/scheduling/provider/agenda.html", context)

    def _agenda_days(self, request, provider: Provider, first: date, last: date) -> list[dict]:
        zone = provider.timezone
        start, end = local_dates_window(first, last, zone)
        bookings = list(
            bookings_for_user(user=request.user)
            .filter(provider=provider, start_at__lt=end, end_at__gt=start)
            .select_related("service")
            .order_by("start_at")
        )
        blocked = list(provider.blocked_times.filter(start_at__lt=end, end_at__gt=start).order_by("start_at"))
        days = []
        for n in range((last - first).days + 1):
            day = first + timedelta(days=n)
            lo, hi = local_dates_window(day, day, zone)
            items = [
                {
                    "kind": "booking",
                    "start": b.start_at,
                    "end": b.end_at,
                    "time": self._agenda_time(b.start_at, b.end_at, zone, day),
                    "title": f"{b.customer_name} · {b.service.name} · {b.reference}",
                    "badge": status_badge(b),
                    "url": reverse("admin:scheduling_booking_change", args=[b.pk]),
                    "dimmed": b.status == BookingStatus.CANCELLED,
                }
                for b in bookings
                if b.start_at < hi and b.end_at > lo
            ]
            items += [
                {
                    "kind": "blocked",
                    "start": bt.start_at,
                    "end": bt.end_at,
                    "time": self._agenda_time(bt.start_at, bt.end_at, zone, day),
                    "title": f"Blocked: {bt.get_reason_display()}{f' · {bt.note}' if bt.note else ''}",
                    "url": reverse("admin:scheduling_blockedtime_change", args=[bt.pk]),
                    "dimmed": False,
                }
                for bt in blocked
                if bt.start_at < hi and bt.end_at > lo
            ]
            days.append(
                {
                    "date": day,
                    "items": sorted(items, key=lambda item: item["start"]),
                    "url": f"{reverse('admin:scheduling_provider_agenda_day', args=[provider.pk])}?date={day}",
                }
            )
        return days

    @staticmethod
    def _agenda_time(start, end, zone, day: date) -> str:
        def show(value):
            local = value.astimezone(zone)
            return clock(value, zone) if local.date() == day else f"{local:%a %d %b} {clock(value, zone)}"

        return f"{show(start)} – {show(end)}"


@admin.register(AvailabilityRule)
class AvailabilityRuleAdmin(ProviderScopedMixin, admin.ModelAdmin):
    form = AvailabilityRuleForm
    fields = ["provider", "kind", "rrule", "starts_on", "ends_on", "start_time", "end_time", "label"]
    list_display = ["in_words", "provider", "kind", "rrule", "starts_on", "ends_on", "window", "label"]
    list_filter = ["kind", ("provider", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["provider__name", "label", "rrule"]
    list_select_related = ["provider"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # The rule form is shared with the inline, which has no provider field.
        form.base_fields["provider"].help_text = "The rule's times are wall-clock times in this provider's zone."
        return form

    @admin.display(description="Rule", ordering="starts_on")
    def in_words(self, obj: AvailabilityRule) -> str:
        return rule_in_words(obj, today=timezone.now().astimezone(obj.provider.timezone).date())

    @admin.display(description="Window (provider's wall clock)")
    def window(self, obj: AvailabilityRule) -> str:
        overnight = " (next day)" if obj.end_time <= obj.start_time else ""
        return f"{obj.start_time:%H:%M}–{obj.end_time:%H:%M}{overnight} {obj.provider.timezone.key}"


@admin.register(BlockedTime)
class BlockedTimeAdmin(ProviderClockMixin, LocalLabelMixin, ProviderScopedMixin, admin.ModelAdmin):
    form = BlockedTimeForm
    list_display = ["reason", "provider", "starts", "ends", "note"]
    list_filter = ["reason", ("provider", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["provider__name", "note"]
    list_select_related = ["provider"]
    ordering = ["-start_at"]

    def object_label(self, obj: BlockedTime) -> str:
        return f"{obj.get_reason_display()}: {local_span(obj.start_at, obj.end_at, obj.provider.timezone)}"

    def page_zone(self, request, obj):
        if obj is not None:
            return obj.provider.timezone
        return self.chosen_provider_zone(request) or self.only_provider_zone(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None:  # the times are labelled with, and read in, the zone the page is drawn in
            form = type(form.__name__, (form,), {"default_zone": self.page_zone(request, None)})
        return form

    def get_deleted_objects(self, objs, request):
        # A blocked time has nothing depending on it; list it by its local span.
        _, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        return [self.object_label(obj) for obj in objs], model_count, perms_needed, protected

    @admin.display(description="Start (provider's zone)", ordering="start_at")
    def starts(self, obj: BlockedTime) -> str:
        return local_time(obj.start_at, obj.provider.timezone)

    @admin.display(description="End", ordering="end_at")
    def ends(self, obj: BlockedTime) -> str:
        return local_time(obj.end_at, obj.provider.timezone)
