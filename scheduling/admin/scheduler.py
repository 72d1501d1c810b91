"""The periodic-task scheduler's own models (django_celery_beat) are superusers' business only.

Staff would otherwise see periodic tasks, intervals, crontabs, clocked and solar schedules in the
index as soon as any permission on them is granted, and could stop the reminders or the hold
expiry. Their model admins are re-registered with every permission limited to superusers, so a
non-superuser neither sees them in the index nor reaches their pages (403).
"""

import django_celery_beat.admin  # noqa: F401  (registers the models before they are re-registered here)
from django.contrib import admin
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule

SCHEDULER_MODELS = (PeriodicTask, IntervalSchedule, CrontabSchedule, ClockedSchedule, SolarSchedule)


class SuperuserOnlyMixin:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, *args):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


def superusers_only(site: admin.AdminSite = admin.site) -> None:
    for model in SCHEDULER_MODELS:
        model_admin = type(site.get_model_admin(model))
        site.unregister(model)
        site.register(model, type(model_admin.__name__, (SuperuserOnlyMixin, model_admin), {}))


superusers_only()
