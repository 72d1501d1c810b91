"""Reads of the waitlist for staff: the API's lists and the console (docs/decisions/0014-waitlist.md).

Staff see an entry naming a provider when they manage that provider, and an entry for "any provider"
when they manage a provider offering its service: whoever could be asked to serve the customer sees
them in line, nobody else. Superusers see everything.
"""

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from scheduling.models import Provider, Service
from waitlist.models import EntryStatus, WaitlistEntry, WaitlistMessage


def waitlist_entries_for_user(*, user) -> QuerySet[WaitlistEntry]:
    """The entries a user may see and act on (none for an anonymous user)."""
    if not user or not user.is_authenticated:
        return WaitlistEntry.objects.none()
    if user.is_superuser:
        return WaitlistEntry.objects.all()
    # Exists, not joins: no duplicate rows to make distinct, and the line's own ordering stays cheap.
    theirs = Provider.objects.filter(pk=OuterRef("provider"), staff=user)
    offered = Service.providers.through.objects.filter(service=OuterRef("service"), provider__staff=user)
    return WaitlistEntry.objects.filter(
        (Q(provider__isnull=False) & Q(Exists(theirs))) | (Q(provider__isnull=True) & Q(Exists(offered)))
    )


def waitlist_messages_for_user(*, user) -> QuerySet[WaitlistMessage]:
    return WaitlistMessage.objects.filter(entry__in=waitlist_entries_for_user(user=user).values("pk"))


def with_line_positions(entries: QuerySet[WaitlistEntry]) -> QuerySet[WaitlistEntry]:
    """Annotate `line_position`: 1 + the waiting entries of the same service ahead in line (created
    earlier, the id breaking a tie); None for an entry not waiting. A correlated count in the list's
    own query, backed by the partial index waitlist_line_idx, so a page costs no query per row."""
    ahead = (
        WaitlistEntry.objects.filter(service=OuterRef("service"), status=EntryStatus.WAITING)
        .filter(Q(created_at__lt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk")))
        .order_by()
        .values("service")
        .annotate(n=Count("pk"))
        .values("n")
    )
    position = Coalesce(Subquery(ahead, output_field=IntegerField()), Value(0)) + Value(1)
    return entries.annotate(
        line_position=Case(When(status=EntryStatus.WAITING, then=position), default=None, output_field=IntegerField())
    )


def line_position(entry: WaitlistEntry) -> int | None:
    """The annotation when the entry came through `with_line_positions`, else one query."""
    if hasattr(entry, "line_position"):
        return entry.line_position
    return with_line_positions(WaitlistEntry.objects.filter(pk=entry.pk)).values_list("line_position", flat=True)[0]
