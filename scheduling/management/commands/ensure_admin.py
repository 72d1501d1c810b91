"""Make sure an admin superuser exists and say how to log in (step 6 of `make run`)."""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

DEFAULT_PASSWORD = "admin"


class Command(BaseCommand):
    help = (
        "Ensure a superuser exists (default username 'admin'). Its password comes from ADMIN_PASSWORD "
        f"(default '{DEFAULT_PASSWORD}'); an existing user's password changes only when ADMIN_PASSWORD is set."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@localhost")

    @transaction.atomic
    def handle(self, *args, username: str, email: str, **options):
        user_model = get_user_model()
        env_password = os.environ.get("ADMIN_PASSWORD") or None
        user = user_model.objects.select_for_update().filter(username=username).first()

        if user is None:
            password = env_password or DEFAULT_PASSWORD
            user_model.objects.create_superuser(username=username, email=email, password=password)
            self.stdout.write(f"Created superuser {username!r}.")
            self._credentials(username, password)
            return

        changed = []
        for flag in ("is_staff", "is_superuser", "is_active"):
            if not getattr(user, flag):
                setattr(user, flag, True)
                changed.append(flag)
        if env_password:
            user.set_password(env_password)
            changed.append("password (from ADMIN_PASSWORD)")
        if changed:
            user.save()
            self.stdout.write(f"Updated superuser {username!r}: {', '.join(changed)}.")
        else:
            self.stdout.write(f"Superuser {username!r} already exists.")
        if env_password:
            self._credentials(username, env_password)
        elif user.check_password(DEFAULT_PASSWORD):
            self._credentials(username, DEFAULT_PASSWORD)
        else:
            self._credentials(username, None)

    def _credentials(self, username: str, password: str | None) -> None:
        shown = password if password is not None else "(unchanged; set ADMIN_PASSWORD to reset it)"
        self.stdout.write(self.style.SUCCESS(f"Admin login: username {username}  password {shown}"))
        if password == DEFAULT_PASSWORD and not settings.DEBUG:
            self.stderr.write(self.style.WARNING("The admin password is the default one: set ADMIN_PASSWORD."))
