from django.urls import path

from calendars import views

app_name = "calendars"

urlpatterns = [
    path("feed/<str:secret>.ics", views.feed, name="feed"),
    path("push/google/", views.push_google, name="push_google"),
    path("push/microsoft/", views.push_microsoft, name="push_microsoft"),
]
