import gc
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booking_site.settings")

app = Celery("booking_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(*, task=None, **kwargs) -> None:
    """What Django does around every request, around every task run by a worker: close a connection
    that has outlived CONN_MAX_AGE or broke, keep the rest (settings.CELERY_DB_REUSE_MAX says why).
    An eager task runs inside its caller's transaction, which this must not touch."""
    from django.db import close_old_connections

    if task is None or getattr(task.request, "is_eager", False):
        return
    close_old_connections()


@worker_process_init.connect
def freeze_loaded_objects(**kwargs) -> None:
    """A pool process keeps what loading the app made for its whole life: out of the garbage
    collector's reach, full collections stop walking it (gunicorn.conf.py does the same per web worker)."""
    gc.freeze()
