"""Refusing requests that no view could answer sensibly, before any view runs."""

from urllib.parse import unquote_plus

from django.core.exceptions import BadRequest
from django.http import Http404


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
