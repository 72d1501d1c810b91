"""The provider's calendar feed: anyone holding the secret URL may read it, as calendar apps do."""

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.views.decorators.http import require_GET

from calendars import feed as feeds


@require_GET
def feed(request: HttpRequest, secret: str) -> HttpResponse:
    found = feeds.feed_by_secret(secret)
    if found is None:
        raise Http404("No such calendar feed.")
    bookings = feeds.feed_bookings(found)
    etag = f'"{feeds.feed_etag(found, bookings)}"'
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(feeds.feed_calendar(found, bookings), content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=300"
    return response
