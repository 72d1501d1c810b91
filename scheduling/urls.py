"""Customer pages, mounted at the site root."""

from django.urls import path

from scheduling.views import booking, catalogue, checkout, links, manage
from waitlist import views as waitlist

app_name = "pages"

urlpatterns = [
    path("", catalogue.home, name="home"),
    path("zone/", catalogue.zone_change, name="zone"),
    path("p/<slug:slug>/", catalogue.provider_page, name="provider"),
    path("p/<slug:slug>/book/", booking.book, name="book"),
    path("s/<slug:slug>/", catalogue.service_page, name="service"),
    path("s/<slug:slug>/book/", booking.service_book, name="service_book"),
    path("s/<slug:slug>/waitlist/", waitlist.join, name="waitlist_join"),
    path("booked/<str:reference>/", booking.confirmation, name="confirmation"),
    path("booked/<str:reference>/calendar.ics", booking.confirmation_ics, name="confirmation_ics"),
    # Under the confirmation's path, so the cookie that opens it opens these (booking.hand_over_token).
    path("booked/<str:reference>/checkout/", checkout.checkout, name="checkout"),
    path("booked/<str:reference>/pay/", checkout.pay, name="checkout_pay"),
    path("booked/<str:reference>/pay/return/", checkout.pay_return, name="checkout_pay_return"),
    path("booked/<str:reference>/cancel/", checkout.checkout_cancel, name="checkout_cancel"),
    path("links/", links.links_request, name="links_request"),
    # A waitlist entry's private pages (waitlist.links): the token is in the path, as a booking's.
    path("w/<int:entry_id>/<str:token>/", waitlist.entry_page, name="waitlist_entry"),
    path("w/<int:entry_id>/<str:token>/withdraw/", waitlist.withdraw, name="waitlist_withdraw"),
    path("w/<int:entry_id>/<str:token>/accept/", waitlist.accept, name="waitlist_accept"),
    path("w/<int:entry_id>/<str:token>/decline/", waitlist.decline, name="waitlist_decline"),
    # Actions carry the token in the POST body; these come before the token patterns below.
    path("b/<str:reference>/cancel/", manage.cancel, name="cancel"),
    path("b/<str:reference>/reschedule/", manage.reschedule_action, name="reschedule_action"),
    path("b/<str:reference>/revoke/", links.revoke, name="revoke_links"),
    path("b/<str:reference>/pay/", manage.pay_now, name="pay_now"),
    path("b/<str:reference>/<str:token>/", manage.manage, name="manage"),
    path("b/<str:reference>/<str:token>/calendar.ics", manage.manage_ics, name="manage_ics"),
    path("b/<str:reference>/<str:token>/cancel/", manage.cancel_confirm, name="cancel_confirm"),
    path("b/<str:reference>/<str:token>/reschedule/", manage.reschedule, name="reschedule"),
]
