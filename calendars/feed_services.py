"""Writes of the provider's calendar feed: made with the provider, rotated by staff."""

from django.db import transaction
from django.utils import timezone

from calendars.models import ProviderFeed, new_feed_secret
from scheduling.models import Provider


def provider_feed_get_or_create(*, provider: Provider) -> ProviderFeed:
    feed, _created = ProviderFeed.objects.get_or_create(provider=provider)
    return feed


def provider_feed_rotate(*, provider: Provider) -> ProviderFeed:
    """A new secret: every URL handed out before answers 404 from now on. Locks the feed row."""
    with transaction.atomic():
        feed = provider_feed_get_or_create(provider=provider)
        feed = ProviderFeed.objects.select_for_update().get(pk=feed.pk)
        feed.secret, feed.rotated_at = new_feed_secret(), timezone.now()
        feed.save(update_fields=["secret", "rotated_at"])
        return feed


def provider_feed_update(*, provider: Provider, hide_customer_details: bool) -> ProviderFeed:
    feed = provider_feed_get_or_create(provider=provider)
    feed.hide_customer_details = hide_customer_details
    feed.save(update_fields=["hide_customer_details"])
    return feed
