"""What a booking page books: a service, with one chosen provider or with "any available".

A provider's own page (`/p/<slug>/`, for a provider offering exactly one service), a service page
(`/s/<slug>/`) and the reschedule page share their week, booking form and "just taken" flow through
an `Offer`. With a provider chosen the reads are the provider selectors'; for "any available" they
are built on `selectors.service_slots` (the union over the service's providers), so what the page
offers is what `booking_create(service_id=...)` can assign.
"""

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.urls import reverse

from booking_site.db_router import replica_for_reads
from scheduling import selectors
from scheduling.availability import Slot, Verdict
from scheduling.formatting import is_own_service, service_with_provider
from scheduling.models import Booking, Provider, Service


def what_booked(service: Service, provider: Provider | None) -> str:
    """ "Check-up with Dr. Ada" as messages name it (`service_with_provider`), or the service's name
    when nobody is chosen yet."""
    return service.name if provider is None else service_with_provider(service.name, provider.name)


@dataclass(frozen=True)
class Offer:
    service: Service
    providers: tuple[Provider, ...]  # the active providers offering the service, by name
    provider: Provider | None  # the one chosen; None is "any available"
    on_provider_page: bool = False  # booked through /p/<slug>/, the provider's only service

    @classmethod
    def of_provider(cls, provider: Provider, service: Service) -> "Offer":
        return cls(service=service, providers=(provider,), provider=provider, on_provider_page=True)

    @classmethod
    def of_booking(cls, booking: Booking) -> "Offer":
        """Rescheduling: the booking's own service with its own provider (booking_reschedule keeps both)."""
        return cls(service=booking.service, providers=(booking.provider,), provider=booking.provider)

    # --- naming ---------------------------------------------------------------------------------

    @property
    def title(self) -> str:
        return self.provider.name if self.on_provider_page else what_booked(self.service, self.provider)

    @property
    def names_service(self) -> bool:
        """Whether the page names the service beside the provider: not for the provider's own one."""
        return self.provider is None or not is_own_service(self.service.name, self.provider.name)

    @property
    def who(self) -> str:
        """Who confirms or works: the provider's name, or "The provider" while none is chosen."""
        return self.provider.name if self.provider else "The provider"

    @property
    def zone(self) -> ZoneInfo:
        """The zone to show before the visitor's own is known: the provider's (the first one's for any)."""
        return (self.provider or self.providers[0]).timezone

    @property
    def place_zone(self) -> ZoneInfo | None:
        """The zone the appointment happens in, when it is known before booking: the chosen provider's,
        or the one every provider of the service shares."""
        if self.provider:
            return self.provider.timezone
        zones = {p.timezone.key for p in self.providers}
        return self.providers[0].timezone if len(zones) == 1 else None

    # --- links ----------------------------------------------------------------------------------

    def _query(self, **params) -> str:
        if self.provider and not self.on_provider_page:
            params["provider"] = self.provider.slug
        return f"?{urlencode(params)}" if params else ""

    def page_url(self, **params) -> str:
        if self.on_provider_page:
            return reverse("pages:provider", args=[self.provider.slug]) + self._query(**params)
        return reverse("pages:service", args=[self.service.slug]) + self._query(**params)

    def book_url(self, start_iso: str) -> str:
        if self.on_provider_page:
            return reverse("pages:book", args=[self.provider.slug]) + self._query(start=start_iso)
        return reverse("pages:service_book", args=[self.service.slug]) + self._query(start=start_iso)

    # --- free times -----------------------------------------------------------------------------

    def slots(
        self, *, first: date, last: date, tz: ZoneInfo, now: datetime, exclude_booking_id: int | None = None
    ) -> list[Slot]:
        """Free starts on local dates [first, last] in `tz`; `exclude_booking_id` ignores one booking, as
        rescheduling it would."""
        found = selectors.service_slots(
            service=self.service,
            first=first,
            last=last,
            viewer_tz=tz,
            providers=self.candidates,
            now=now,
            exclude_booking_id=exclude_booking_id,
            using=replica_for_reads(),
        )
        return [Slot(s.start, s.end) for s in found]

    @property
    def candidates(self) -> list[Provider]:
        """Who may take a time: the chosen provider, or every provider of the service (any available)."""
        return [self.provider] if self.provider else list(self.providers)

    def first_free(self, *, after: datetime, now: datetime, exclude_booking_id: int | None = None) -> Slot | None:
        """The earliest free start at or after `after`, within the service's horizon."""
        return selectors.first_free_slot(
            service=self.service,
            providers=self.candidates,
            after=after,
            now=now,
            exclude_booking_id=exclude_booking_id,
            using=replica_for_reads(),
        )

    def nearest(
        self, *, around: datetime, now: datetime, count: int = 3, exclude_booking_id: int | None = None
    ) -> list[Slot]:
        """Up to `count` free starts closest to `around` (either side), in time order: the "just taken" offers."""
        return selectors.nearest_free_slots(
            service=self.service,
            providers=self.candidates,
            around=around,
            count=count,
            now=now,
            exclude_booking_id=exclude_booking_id,
            using=replica_for_reads(),
        )

    def verdict(self, *, start: datetime, exclude_booking_id: int | None = None) -> Verdict:
        """Whether `start` can be booked now by the chosen provider, or by one of them for any available."""
        return selectors.slot_verdict(
            service=self.service, providers=self.candidates, start=start, exclude_booking_id=exclude_booking_id
        )


def service_offer(*, slug: str, provider_slug: str | None) -> Offer | None:
    """A service page's offer: the active service, with the named provider (which must offer it), or
    any available when none is named and several offer it. None when the service or provider is not
    bookable."""
    service = selectors.active_service_by_slug(slug=slug)
    if service is None:
        return None
    providers = tuple(selectors.service_providers(service=service))
    if not providers:
        return None
    if provider_slug:
        chosen = next((p for p in providers if p.slug == provider_slug), None)
        if chosen is None:
            return None
    else:
        chosen = providers[0] if len(providers) == 1 else None
    return Offer(service=service, providers=providers, provider=chosen)
