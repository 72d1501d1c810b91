"""A provider's availability page: weekly hours, the common exceptions, and every rule in plain words.

Mixed into ProviderAdmin (its scoping, permissions and URLs). Each form posts on its own and writes
ordinary rules through `scheduling/services/hours.py`; raw RRULEs stay on the provider page.
"""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from scheduling.errors import InvalidInput
from scheduling.forms_hours import BreakForm, HolidayForm, VacationForm, WeeklyHoursForm
from scheduling.models import AvailabilityRule, Provider
from scheduling.rule_text import WEEKDAY_NAMES, rule_in_words
from scheduling.services.hours import holiday_create, recurring_break_create, vacation_create, weekly_hours_set
from scheduling.weekly_hours import split_rules

FORMS = {"weekly": WeeklyHoursForm, "holiday": HolidayForm, "vacation": VacationForm, "break": BreakForm}


def _add_errors(form, exc: InvalidInput) -> None:
    """A service's field errors on the form; `day_N` (weekly hours) names the weekday."""
    for field, problems in exc.fields.items():
        prefix = f"{WEEKDAY_NAMES[int(field[4:])]}: " if field.startswith("day_") else ""
        target = field if field in form.fields else None
        for problem in problems:
            form.add_error(target, f"{prefix}{problem}")


class AvailabilityEditorMixin:
    def get_urls(self):
        return [
            path(
                "<path:object_id>/availability/",
                self.admin_site.admin_view(self.availability_view),
                name="scheduling_provider_availability",
            ),
            *super().get_urls(),
        ]

    def availability_view(self, request, object_id):
        provider = self.get_object(request, unquote(object_id))  # 404 when not this user's
        if not self.has_view_permission(request, provider):
            raise PermissionDenied
        can_edit = self.has_change_permission(request, provider) and request.user.has_perms(
            [f"scheduling.{action}_availabilityrule" for action in ("add", "change", "delete")]
        )
        today = timezone.now().astimezone(provider.timezone).date()
        hours, _, others = split_rules(provider.rules.order_by("kind", "starts_on", "start_time", "pk"), today=today)
        bound = None
        if request.method == "POST":
            if not can_edit:
                raise PermissionDenied
            bound = next((name for name in FORMS if f"_{name}" in request.POST), None)
        forms = {
            name: (
                form_class(request.POST if name == bound else None, **({"hours": hours} if name == "weekly" else {}))
            )
            for name, form_class in FORMS.items()
        }
        if bound is not None and forms[bound].is_valid():
            try:
                message = self._save(bound, provider, forms[bound].cleaned_data, today)
            except InvalidInput as exc:
                _add_errors(forms[bound], exc)
            else:
                messages.success(request, message)
                url = reverse("admin:scheduling_provider_availability", args=[provider.pk])
                return HttpResponseRedirect(f"{url}#{bound}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{provider.name}: availability",
            "provider": provider,
            "zone": provider.timezone.key,
            "can_edit": can_edit,
            "forms": forms,
            "weekly_days": forms["weekly"].days(),
            "other_rules": [
                {"text": rule_in_words(rule, today=today), "label": rule.label, "url": self._rule_url(rule)}
                for rule in others
            ],
            # Open rules the grid does not show still open hours (a daily rule would keep weekends
            # open whatever the grid says): named above the grid, not only in the list below it.
            "other_open_rules": [rule_in_words(rule, today=today) for rule in others if rule.kind == rule.Kind.OPEN],
        }
        return TemplateResponse(request, "admin/scheduling/provider/availability.html", context)

    @staticmethod
    def _rule_url(rule: AvailabilityRule) -> str:
        return reverse("admin:scheduling_availabilityrule_change", args=[rule.pk])

    @staticmethod
    def _save(name: str, provider: Provider, data: dict, today) -> str:
        if name == "weekly":
            weekly_hours_set(provider=provider, hours=data["hours"], today=today)
            return "Weekly hours saved."
        if name == "holiday":
            rule = holiday_create(provider=provider, day=data["day"], label=data["label"])
        elif name == "vacation":
            rule = vacation_create(provider=provider, first=data["first"], last=data["last"], label=data["label"])
        else:
            rule = recurring_break_create(
                provider=provider, days=set(data["days"]), start=data["start"], end=data["end"],
                starts_on=today, label=data["label"],
            )  # fmt: skip
        return f"Added: {rule_in_words(rule, today=today)}."
