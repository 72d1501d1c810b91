"""Refusing requests that no view could answer sensibly, before any view runs."""

from urllib.parse import unquote_plus

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import Http404
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

from booking_site.outage import is_api


class RefuseNulMiddleware:
    """A NUL byte in the URL is a 404 (no URL names one); in the query string, a 400.

    PostgreSQL refuses NUL in text, so a lookup by a path part such as `/b/AB%00CD/x/` failed with a
    500. No reference, slug, token or query value ever contains one, so refusing them here keeps
    every view, form and admin page from having to check. JSON bodies are checked by the API's
    parser (scheduling/api/parsers.py); form fields by Django's own null-character validator.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            raise Http404("No such page.")
        if "\x00" in unquote_plus(request.META.get("QUERY_STRING", "")):
            raise BadRequest("A query parameter contains a NUL character.")
        return self.get_response(request)


class PagesLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware for the pages; the API always answers in the site's language.

    The API has no language contract: integrators read and match its error texts (and DRF's own
    field messages) in English, so an Accept-Language header sent by a browser-based client must
    not turn them German. /api/ requests are answered in settings.LANGUAGE_CODE; the language the
    client asked for stays on request.LANGUAGE_CODE, the default language of a booking it makes
    (the customer's, for the messages about it).
    """

    def process_request(self, request):
        if is_api(request):
            request.LANGUAGE_CODE = translation.get_language_from_request(request)
            translation.activate(settings.LANGUAGE_CODE)
            return
        super().process_request(request)

    def process_response(self, request, response):
        if is_api(request):
            response.headers.setdefault("Content-Language", translation.get_language())
            patch_vary_headers(response, ("Accept-Language",))  # it still chooses a booking's language
            return response
        return super().process_response(request, response)
