from django.contrib import admin
from django.urls import include, path

from booking_site.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # Django's set_language view: the header's language picker posts here (templates/_language_picker.html).
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("scheduling.api.urls")),
    path("payments/", include("payments.urls")),
    path("calendars/", include("calendars.urls")),
    path("", include("scheduling.urls")),
]

# JSON under /api/, the site's own pages elsewhere (booking_site/error_views.py).
handler400 = "booking_site.error_views.bad_request"
handler403 = "booking_site.error_views.permission_denied"
handler404 = "booking_site.error_views.page_not_found"
handler500 = "booking_site.error_views.server_error"
