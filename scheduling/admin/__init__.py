"""The provider console: the Django admin as the staff's back office (issue 4).

Split along the domain: providers with their rules, blocked times, availability preview and agenda
(`providers`), the services they offer (`catalogue`), bookings with their transitions (`bookings`)
and the create-a-booking flow (`booking_create`), customers.
Shared pieces: staff scoping and zone-aware labels (`scoping`), how times and statuses are shown
(`display`). The periodic-task scheduler's models are superusers' only (`scheduler`); rescheduling
from the booking page is `booking_reschedule`.
"""

from django.contrib import admin

from scheduling.admin import bookings, catalogue, customers, providers, scheduler  # noqa: F401  (registers the model admins)

admin.site.site_header = "Booking platform · provider console"
admin.site.site_title = "Provider console"
# The app list is on the dashboard; without the nav sidebar the bookings list, agendas and the
# weekly-hours editor keep the width they need (the status and the customer stay in view at 1,400 px).
admin.site.enable_nav_sidebar = False
admin.site.index_title = "Back office"
# The staff dashboard (scheduling/templatetags/console.py) above the app list.
admin.site.index_template = "admin/console_index.html"
