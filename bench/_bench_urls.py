"""The app's URLs plus a minimal booking endpoint that exists only in the bench.

`POST /bench/locked-insert/` does what any booking has to do and nothing else: DRF token
authentication, parse the JSON body, lock the provider row, insert one booking under the same
exclusion constraint (`booking_no_overlap`) and its three reminder rows, answer 201 with its id. Its
rate next to the real booking POST shows what the booking path costs beyond that minimum.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.urls import path
from django.utils import timezone
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from booking_site.urls import urlpatterns as app_urlpatterns
from notifications.models import Channel, Reminder
from scheduling.models import Booking, BookingStatus, Customer, Provider

SLOT = timedelta(minutes=30)
REMINDER_LEADS = (1440, 120, 30)  # minutes


class LockedInsert(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request):
        """Locks the provider row (SELECT ... FOR UPDATE) inside the transaction, as the real path does."""
        start = datetime.fromisoformat(request.data["start"])
        with transaction.atomic():
            provider = Provider.objects.select_for_update().get(pk=request.data["provider"])
            customer = Customer.objects.get(pk=request.data["customer"])
            booking = Booking.objects.create(
                provider=provider,
                service_id=request.data["service"],
                customer=customer,
                start_at=start,
                end_at=start + SLOT,
                blocked_from=start,
                blocked_until=start + SLOT,
                status=BookingStatus.CONFIRMED,
                provider_timezone=provider.timezone,
                customer_name=customer.name,
                customer_email=customer.email,
                customer_timezone=customer.timezone,
                price=Decimal("40.00"),
                free_cancel_until=start,
                confirmed_at=timezone.now(),
            )
            Reminder.objects.bulk_create(
                Reminder(booking=booking, channel=Channel.EMAIL, lead_minutes=lead, fire_at=fire, next_attempt_at=fire)
                for lead in REMINDER_LEADS
                for fire in [start - timedelta(minutes=lead)]
            )
        return Response({"id": booking.pk}, status=201)


urlpatterns = [*app_urlpatterns, path("bench/locked-insert/", LockedInsert.as_view())]
