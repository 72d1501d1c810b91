from django.urls import path

from calendars import views

app_name = "calendars"

urlpatterns = [
    path("feed/<str:secret>.ics", views.feed, name="feed"),
]
