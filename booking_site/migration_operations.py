"""Migration steps the apps repeat: granting permissions to the "Provider staff" group, registering a
Beat task that runs every minute or every day, and dropping foreign keys' own indexes.

Migrations call these, so their behaviour is frozen: a change here changes what old migrations do on
a new database. Add a new function rather than changing one. They use only the historical models
they are given (`apps`), never the current ones.
"""

from django.contrib.auth.management import create_permissions

PROVIDER_STAFF = "Provider staff"


def grant_to_provider_staff(apps, *, app_label: str, codenames: list[str]) -> None:
    """Give the group these permissions of `app_label`, creating the permission rows first: in a fresh
    database they are otherwise made only after every migration has run."""
    app_config = apps.get_app_config(app_label)
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True  # historical app configs have none
    try:
        create_permissions(app_config, apps=apps, verbosity=0)
    finally:
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
    if len(permissions) != len(codenames):
        raise RuntimeError(f"Permissions of {app_label} not found: {codenames}.")
    group, _ = Group.objects.get_or_create(name=PROVIDER_STAFF)
    group.permissions.add(*permissions)


def revoke_from_provider_staff(apps, *, app_label: str, codenames: list[str]) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=PROVIDER_STAFF).first()
    if group:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))


def register_every_minute(apps, *, name: str, task: str, description: str) -> None:
    """A django-celery-beat PeriodicTask (DatabaseScheduler) running `task` every minute."""
    _register(apps, name=name, task=task, description=description, period="minutes")


def register_daily(apps, *, name: str, task: str, description: str) -> None:
    """A django-celery-beat PeriodicTask (DatabaseScheduler) running `task` once a day."""
    _register(apps, name=name, task=task, description=description, period="days")


def _register(apps, *, name: str, task: str, description: str, period: str) -> None:
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=1, period=period)
    PeriodicTask.objects.update_or_create(
        name=name, defaults={"task": task, "interval": interval, "enabled": True, "description": description}
    )


def unregister(apps, *, name: str) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()


def drop_foreign_key_indexes(*, altered_fields: list, indexes: list[tuple[str, str, str]]):
    """Turn foreign keys' own indexes off (`db_index=False`, `altered_fields` the AlterFields saying so)
    by dropping just those indexes: (index name, table, column) each; the reverse builds them again.

    Django's AlterField would also drop and re-add each foreign-key constraint, which checks every row
    again under a lock on both tables; the constraints do not change, so only the indexes go."""
    from django.db import migrations

    return migrations.SeparateDatabaseAndState(
        state_operations=altered_fields,
        database_operations=[
            migrations.RunSQL(
                sql=f'DROP INDEX IF EXISTS "{name}"',
                reverse_sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")',
            )
            for name, table, column in indexes
        ],
    )
