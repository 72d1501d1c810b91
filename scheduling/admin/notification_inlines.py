"""The spot for the notifications app's read-only inlines on the booking page.

`notifications/admin.py` is to define `ReminderInline` and `NotificationInline` (read-only). Once it
does, the booking page shows them; until then it has none. Nothing else needs to change here.
"""

import importlib
import importlib.util

INLINE_NAMES = ("ReminderInline", "NotificationInline")


def notification_inlines() -> list[type]:
    if importlib.util.find_spec("notifications.admin") is None:
        return []
    module = importlib.import_module("notifications.admin")
    return [getattr(module, name) for name in INLINE_NAMES if hasattr(module, name)]
