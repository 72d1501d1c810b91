from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from scheduling.api.views import (
    bookings,
    calendar_connections,
    providers,
    public,
    services,
    slots,
    waitlist,
    webhooks,
)
from scheduling.api.views.fallback import api_not_found

app_name = "api"

v1 = [
    path("providers/", providers.ProviderListApi.as_view(), name="providers"),
    path("providers/<int:pk>/", providers.ProviderDetailApi.as_view(), name="provider"),
    path("providers/<int:pk>/availability-rules/", providers.RuleListApi.as_view(), name="rules"),
    path("providers/<int:pk>/availability-rules/<int:rule_id>/", providers.RuleDetailApi.as_view(), name="rule"),
    path("providers/<int:pk>/blocked-times/", providers.BlockedTimeListApi.as_view(), name="blocked-times"),
    path(
        "providers/<int:pk>/calendar-connections/",
        calendar_connections.CalendarConnectionListApi.as_view(),
        name="calendar-connections",
    ),
    path(
        "providers/<int:pk>/calendar-connections/<int:connection_id>/",
        calendar_connections.CalendarConnectionDetailApi.as_view(),
        name="calendar-connection",
    ),
    path(
        "providers/<int:pk>/calendar-connections/<int:connection_id>/sync/",
        calendar_connections.CalendarConnectionSyncApi.as_view(),
        name="calendar-connection-sync",
    ),
    path(
        "providers/<int:pk>/blocked-times/<int:blocked_id>/",
        providers.BlockedTimeDetailApi.as_view(),
        name="blocked-time",
    ),
    path("providers/<int:pk>/slots/", slots.SlotsApi.as_view(), name="slots"),
    path("services/", services.ServiceListApi.as_view(), name="services"),
    path("services/<int:pk>/", services.ServiceDetailApi.as_view(), name="service"),
    path("services/<int:pk>/slots/", slots.ServiceSlotsApi.as_view(), name="service-slots"),
    path("bookings/", bookings.BookingListApi.as_view(), name="bookings"),
    path("bookings/<int:pk>/", bookings.BookingDetailApi.as_view(), name="booking"),
    path("bookings/<int:pk>/confirm/", bookings.BookingConfirmApi.as_view(), name="booking-confirm"),
    path("bookings/<int:pk>/cancel/", bookings.BookingCancelApi.as_view(), name="booking-cancel"),
    path("bookings/<int:pk>/complete/", bookings.BookingCompleteApi.as_view(), name="booking-complete"),
    path("bookings/<int:pk>/no-show/", bookings.BookingNoShowApi.as_view(), name="booking-no-show"),
    path("bookings/<int:pk>/refund/", bookings.BookingRefundApi.as_view(), name="booking-refund"),
    path("bookings/<int:pk>/reschedule/", bookings.BookingRescheduleApi.as_view(), name="booking-reschedule"),
    path("waitlist/", waitlist.WaitlistListApi.as_view(), name="waitlist"),
    path("waitlist/<int:pk>/", waitlist.WaitlistDetailApi.as_view(), name="waitlist-entry"),
    path("waitlist/<int:pk>/accept/", waitlist.WaitlistAcceptApi.as_view(), name="waitlist-accept"),
    path("waitlist/<int:pk>/decline/", waitlist.WaitlistDeclineApi.as_view(), name="waitlist-decline"),
    path("waitlist/<int:pk>/withdraw/", waitlist.WaitlistWithdrawApi.as_view(), name="waitlist-withdraw"),
    path("webhooks/", webhooks.WebhookListApi.as_view(), name="webhooks"),
    path("webhooks/<int:pk>/", webhooks.WebhookDetailApi.as_view(), name="webhook"),
    path("webhooks/<int:pk>/ping/", webhooks.WebhookPingApi.as_view(), name="webhook-ping"),
    path("webhooks/<int:pk>/rotate-secret/", webhooks.WebhookRotateSecretApi.as_view(), name="webhook-rotate-secret"),
    path("webhooks/<int:pk>/enable/", webhooks.WebhookEnableApi.as_view(), name="webhook-enable"),
    path("webhooks/<int:pk>/disable/", webhooks.WebhookDisableApi.as_view(), name="webhook-disable"),
    path("webhooks/<int:pk>/deliveries/", webhooks.WebhookDeliveryListApi.as_view(), name="webhook-deliveries"),
    path(
        "webhooks/<int:pk>/deliveries/replay/",
        webhooks.WebhookReplaySinceApi.as_view(),
        name="webhook-deliveries-replay",
    ),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_id>/replay/",
        webhooks.WebhookDeliveryReplayApi.as_view(),
        name="webhook-delivery-replay",
    ),
    # Anonymous, for a company's own booking widget (scheduling/api/views/public.py).
    path("public/services/", public.PublicServiceListApi.as_view(), name="public-services"),
    path("public/services/<int:pk>/slots/", public.PublicServiceSlotsApi.as_view(), name="public-service-slots"),
    path("public/bookings/", public.PublicBookingCreateApi.as_view(), name="public-bookings"),
    path("public/bookings/<str:token>/", public.PublicBookingDetailApi.as_view(), name="public-booking"),
    path("public/bookings/<str:token>/cancel/", public.PublicBookingCancelApi.as_view(), name="public-booking-cancel"),
    path(
        "public/bookings/<str:token>/reschedule/",
        public.PublicBookingRescheduleApi.as_view(),
        name="public-booking-reschedule",
    ),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    # Anything else under /api/ is a JSON 404, never Django's HTML page.
    re_path(r"^[\s\S]*$", api_not_found, name="not-found"),
]
