from django.contrib import admin
from django.urls import include, path

from booking_site.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("scheduling.api.urls")),
    path("", include("scheduling.urls")),
]
