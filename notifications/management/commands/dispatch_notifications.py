"""Send what is due now, without Celery: `manage.py dispatch_notifications [--what reminders|outbox|webhooks|all]`.

The same claim/send/record path as the Celery tasks, so it is safe next to running workers. Prints the
totals as one JSON line.
"""

import json
from dataclasses import asdict

from django.core.management.base import BaseCommand

from notifications import services, webhook_delivery


class Command(BaseCommand):
    help = "Send due reminders and outbox notifications until nothing more is due."

    def add_arguments(self, parser):
        parser.add_argument("--what", choices=["reminders", "outbox", "webhooks", "all"], default="all")
        parser.add_argument("--batch-size", type=int, default=services.BATCH_SIZE)
        parser.add_argument("--budget-seconds", type=float, default=300, help="stop after this long")

    def handle(self, *args, what: str, batch_size: int, budget_seconds: float, **options):
        totals = {}
        if what in ("reminders", "all"):
            totals["reminders"] = asdict(services.reminders_drain(batch_size=batch_size, budget_seconds=budget_seconds))
        if what in ("outbox", "all"):
            totals["outbox"] = asdict(
                services.notifications_drain(batch_size=batch_size, budget_seconds=budget_seconds)
            )
        if what in ("webhooks", "all"):
            totals["webhooks"] = asdict(
                webhook_delivery.webhooks_drain(batch_size=batch_size, budget_seconds=budget_seconds)
            )
        self.stdout.write(json.dumps(totals))
