"""The Google and Microsoft fakes, for the calendar tests."""

from tests.calendar_fakes.google_api import google_api  # noqa: F401
from tests.calendar_fakes.microsoft_graph import microsoft_graph  # noqa: F401
