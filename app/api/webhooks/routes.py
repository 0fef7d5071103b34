from flask import url_for

from app.api.auth.decorators import permission_required
from app.api.limits import limit_writes
from app.api.pagination import PaginationArgsSchema
from app.api.routing import Blueprint
from app.api.webhooks.schemas import (
    WebhookAttemptPageSchema,
    WebhookDeliverySchema,
    WebhookInputSchema,
    WebhookPageSchema,
    WebhookSchema,
    WebhookUpdateSchema,
    WebhookWithSecretSchema,
)
from app.platform.models import Permission
from app.settings import webhooks as services

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/api/admin/webhooks",
    description="Outgoing webhooks, signed per Standard Webhooks",
)
limit_writes(blp)
WEBHOOK_ID = {"in": "path", "name": "subscription_id", "example": 1}
DELIVERY_ID = {"in": "path", "name": "delivery_id", "example": 1}


@blp.post("")
@permission_required(Permission.WEBHOOKS_WRITE)
@blp.arguments(WebhookInputSchema)
@blp.response(201, WebhookWithSecretSchema)
def create_webhook(data):
    """Subscribe a URL to events; the answer holds the signing secret, shown only here

    The URL must be http(s); a host that resolves to a private, loopback, link-local or
    reserved address is refused (422) unless the server allows private networks.
    """
    subscription = services.create_subscription(data)
    location = url_for("webhooks.get_webhook", subscription_id=subscription.id)
    return subscription, {"Location": location}


@blp.get("")
@permission_required(Permission.WEBHOOKS_WRITE)
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, WebhookPageSchema)
def list_webhooks(args):
    """List the webhook subscriptions"""
    return services.list_subscriptions(**args)


@blp.get("/<int:subscription_id>", parameters=[WEBHOOK_ID])
@permission_required(Permission.WEBHOOKS_WRITE)
@blp.response(200, WebhookSchema)
@blp.alt_response(404, description="No such subscription")
def get_webhook(subscription_id):
    """Get one webhook subscription"""
    return services.get_subscription(subscription_id)


@blp.patch("/<int:subscription_id>", parameters=[WEBHOOK_ID])
@permission_required(Permission.WEBHOOKS_WRITE)
@blp.arguments(WebhookUpdateSchema(partial=True))
@blp.response(200, WebhookSchema)
@blp.alt_response(404, description="No such subscription")
def update_webhook(changes, subscription_id):
    """Change a subscription: URL, events, description, active"""
    return services.update_subscription(subscription_id, changes)


@blp.delete("/<int:subscription_id>", parameters=[WEBHOOK_ID])
@permission_required(Permission.WEBHOOKS_WRITE)
@blp.response(204)
@blp.alt_response(404, description="No such subscription")
def delete_webhook(subscription_id):
    """Delete a subscription and its delivery log"""
    services.delete_subscription(subscription_id)


@blp.post("/<int:subscription_id>/rotate-secret", parameters=[WEBHOOK_ID])
@permission_required(Permission.WEBHOOKS_WRITE)
@blp.response(200, WebhookWithSecretSchema)
@blp.alt_response(404, description="No such subscription")
def rotate_webhook_secret(subscription_id):
    """Replace the signing secret; for 24 hours deliveries carry both signatures"""
    return services.rotate_secret(subscription_id)


@blp.get("/<int:subscription_id>/deliveries", parameters=[WEBHOOK_ID])
@permission_required(Permission.WEBHOOKS_WRITE)
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, WebhookAttemptPageSchema)
@blp.alt_response(404, description="No such subscription")
def list_webhook_deliveries(args, subscription_id):
    """The subscription's delivery log, newest attempt first"""
    return services.list_attempts(subscription_id, **args)


@blp.post("/deliveries/<int:delivery_id>/redeliver", parameters=[DELIVERY_ID])
@permission_required(Permission.WEBHOOKS_WRITE)
@blp.response(202, WebhookDeliverySchema)
@blp.alt_response(404, description="No such delivery")
@blp.alt_response(409, description="The subscription is disabled")
def redeliver_webhook(delivery_id):
    """Send a delivery again now, with the same event and webhook-id"""
    return services.redeliver(delivery_id)
