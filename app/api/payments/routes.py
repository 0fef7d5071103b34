from flask import request

from app.api.openapi import error_responses
from app.api.payments.schemas import WebhookReceivedSchema
from app.api.routing import Blueprint
from app.ordering import payments
from app.platform.errors import ValidationFailed
from app.platform.models import ProviderName

blp = Blueprint(
    "payments", __name__, url_prefix="/api/payments", description="The payment providers' calls"
)
STRIPE_SIGNATURE = {
    "in": "header",
    "name": "Stripe-Signature",
    "required": True,
    "schema": {"type": "string", "maxLength": 2000},
    "description": "t=<timestamp>,v1=<HMAC-SHA256 of '<timestamp>.<body>'> (Stripe's)",
    "example": "t=1796100000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
}
STRIPE_EVENT = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"type": "object", "additionalProperties": True},
            "example": {
                "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
                "type": "payment_intent.succeeded",
                "data": {"object": {"id": "pi_3Nq0aB2eZvKYlo2C", "object": "payment_intent"}},
            },
        }
    },
}


@blp.post("/stripe/webhook", parameters=[STRIPE_SIGNATURE])
@blp.doc(requestBody=STRIPE_EVENT)
@blp.response(200, WebhookReceivedSchema)
@blp.alt_response(400, description="Bad or stale signature, or Stripe is not enabled")
@error_responses(413, 415, 422)
def stripe_webhook():
    """Stripe's events (its webhook endpoint): verified, applied once each

    The raw body is verified against `Stripe-Signature` with STRIPE_WEBHOOK_SECRET (5 minutes
    of tolerance). `payment_intent.succeeded` pays the order when amount and currency match;
    `payment_intent.payment_failed` is recorded. A redelivered event is answered 200 again
    and changes nothing.
    """
    if not isinstance(request.get_json(silent=True), dict):
        raise ValidationFailed({"body": ["Must be a JSON object: a Stripe event."]})
    payments.handle_webhook(ProviderName.STRIPE, request.get_data(), request.headers)
    return {"received": True}
