"""The provider's calendar feed (anyone holding the secret URL may read it, as calendar apps do) and
the endpoints Google and Microsoft call when a linked calendar changes (calendars/push_services.py)."""

import json

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from calendars import feed as feeds
from calendars.push_services import PushOutcome, google_push_receive, microsoft_push_receive


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


# The vendors authenticate with the channel's secret, not a session: no CSRF token, no login.
@csrf_exempt
@require_POST
def push_google(request: HttpRequest) -> HttpResponse:
    outcome = google_push_receive(
        channel_id=request.headers.get("X-Goog-Channel-ID", ""),
        token=request.headers.get("X-Goog-Channel-Token", ""),
        resource_state=request.headers.get("X-Goog-Resource-State", ""),
    )
    status = {PushOutcome.REFUSED: 403, PushOutcome.INVALID: 400}.get(outcome, 200)
    return HttpResponse(status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def push_microsoft(request: HttpRequest) -> HttpResponse:
    # Graph checks a new subscription's URL by sending a token it expects back verbatim within 10s.
    token = request.GET.get("validationToken")
    if token is not None:
        return HttpResponse(token, content_type="text/plain; charset=utf-8")
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        notifications = json.loads(request.body).get("value")
    except (ValueError, AttributeError):
        notifications = None
    if not isinstance(notifications, list) or not notifications:
        return HttpResponse(status=400)
    outcomes = microsoft_push_receive(notifications=notifications)
    return HttpResponse(status=403 if all(o == PushOutcome.REFUSED for o in outcomes) else 202)
