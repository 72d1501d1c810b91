"""Delete old sent, failed and cancelled messages and webhook events now: `manage.py purge_messages [--dry-run]`.

The same service as the daily Beat task (`notifications.services.messages_purge`); prints each batch
as it goes and the totals at the end.
"""

from django.core.management.base import BaseCommand

from notifications import selectors, services


class Command(BaseCommand):
    help = (
        "Delete notifications, reminders, waitlist messages, calendar exports and webhook events that are done with, "
        "MESSAGE_RETENTION_DAYS after their last change and their booking's (or waitlist entry's) end."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, dry_run: bool, batch_size: int, **options):
        cutoff = selectors.retention_cutoff()
        if cutoff is None:
            self.stdout.write("MESSAGE_RETENTION_DAYS is 0: messages are kept, nothing to delete.")
            return
        self.stdout.write(f"Messages done with before {cutoff:%Y-%m-%d %H:%M} UTC, of bookings ended by then:")
        if dry_run:
            for name, old in selectors.messages_past_retention(cutoff=cutoff).items():
                self.stdout.write(f"  {name}: {old.count()} would be deleted (dry run)")
            return

        def progress(name: str, rows: int) -> None:
            self.stdout.write(f"  {name}: deleted {rows}")

        totals = services.messages_purge(batch_size=batch_size, on_batch=progress)
        deleted = ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in totals.items())
        self.stdout.write(self.style.SUCCESS(f"Deleted: {deleted} (webhook events with their deliveries)."))
