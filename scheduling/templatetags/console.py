"""Template tags of the provider console (the Django admin)."""

from django import template
from django.urls import reverse

from scheduling import selectors
from scheduling.models import BookingStatus

register = template.Library()


@register.inclusion_tag("admin/scheduling/includes/pending_requests.html", takes_context=True)
def pending_requests(context) -> dict:
    """The admin index's "Pending requests: N" block, for the providers this user manages."""
    user = context["request"].user
    return {
        "count": selectors.pending_requests_count(user=user),
        "url": f"{reverse('admin:scheduling_booking_changelist')}?status__exact={BookingStatus.PENDING}",
    }
