"""Business operations of the scheduling domain. Views, admin actions and tasks call these only."""

from scheduling.services.bookings import (
    CustomerData,
    booking_cancel,
    booking_complete,
    booking_confirm,
    booking_create,
    booking_expire_holds,
    booking_mark_no_show,
    booking_reschedule,
    booking_update_notes,
    customer_get_or_create,
)
from scheduling.services.catalogue import service_create, service_delete, service_update
from scheduling.services.idempotency import idempotency_records_purge
from scheduling.services.links import booking_manage_links_revoke, manage_links_send
from scheduling.services.providers import (
    availability_rule_create,
    availability_rule_delete,
    availability_rule_update,
    blocked_time_create,
    blocked_time_delete,
    provider_create,
    provider_delete,
    provider_update,
)

__all__ = [
    "CustomerData",
    "availability_rule_create",
    "availability_rule_delete",
    "availability_rule_update",
    "blocked_time_create",
    "blocked_time_delete",
    "booking_cancel",
    "booking_complete",
    "booking_confirm",
    "booking_create",
    "booking_expire_holds",
    "booking_manage_links_revoke",
    "booking_mark_no_show",
    "booking_reschedule",
    "booking_update_notes",
    "customer_get_or_create",
    "idempotency_records_purge",
    "manage_links_send",
    "provider_create",
    "provider_delete",
    "provider_update",
    "service_create",
    "service_delete",
    "service_update",
]
