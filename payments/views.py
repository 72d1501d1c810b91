"""The gateway's webhook endpoint: verify, record once, settle (payments.services.webhook_receive)."""

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments import services
from payments.gateways.base import InvalidWebhook

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        outcome = services.webhook_receive(
            gateway_name="stripe", body=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except InvalidWebhook as exc:
        logger.warning("Refused a Stripe webhook: %s", exc)
        return HttpResponseBadRequest("Invalid signature or payload.", content_type="text/plain")
    return HttpResponse(outcome, content_type="text/plain")
