"""The header's language picker, LocaleMiddleware, and the language a booking made on the pages keeps."""

import pytest
from django.test import Client
from django.urls import reverse

from scheduling.models import Booking
from tests.pages.conftest import free_start
from tests.pages.test_booking import post_booking

pytestmark = pytest.mark.django_db


def test_every_page_has_a_language_picker_posting_to_set_language(client, provider):
    html = client.get(reverse("pages:home")).content.decode()
    assert f'action="{reverse("set_language")}"' in html
    assert '<label for="language-select">' in html and 'type="submit"' in html


def test_choosing_german_keeps_it_for_the_next_pages(client, provider):
    response = client.post(reverse("set_language"), {"language": "de", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="de"' in client.get(reverse("pages:home")).content.decode()


def test_the_browser_s_language_is_the_default(provider):
    html = Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").get(reverse("pages:home")).content.decode()
    assert '<html lang="de"' in html and 'lang="de" selected' in html


def test_a_us_browser_gets_us_english(provider):
    assert '<html lang="en-us"' in Client(HTTP_ACCEPT_LANGUAGE="en-US").get(reverse("pages:home")).content.decode()


def test_a_booking_made_on_the_pages_in_german_keeps_german(provider):
    german = Client(HTTP_ACCEPT_LANGUAGE="de")
    response = post_booking(german, provider, free_start(provider))
    assert response.status_code in (302, 303), response.status_code
    assert Booking.objects.get().language == "de"
