"""Webhook subscriptions (admin): create, change, rotate the secret, read the delivery log,
send a delivery again. Deliveries themselves are the worker's (app.outbox.deliveries)."""

import base64
import secrets
from datetime import timedelta

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit import services as audit
from app.outbox.destinations import UnsafeDestination, check_destination, redacted_url
from app.platform.db import db, transaction, utcnow
from app.platform.errors import Conflict, NotFound, ValidationFailed
from app.platform.models import (
    AuditAction,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from app.platform.pages import paginate

EDITABLE_FIELDS = ("url", "events", "description", "active")
# After a rotation both secrets sign every delivery for this long.
ROTATION_OVERLAP = timedelta(hours=24)
DUPLICATE_URL = "A subscription to this URL already exists."
# The audit log keeps URLs without the credentials or tokens a receiver may put in them.
SHOWN = {"url": redacted_url}


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _check_url(url: str, own_id: int | None = None) -> None:
    try:
        check_destination(url, allow_private=current_app.config["WEBHOOKS_ALLOW_PRIVATE_NETWORKS"])
    except UnsafeDestination as refused:
        raise ValidationFailed({"url": [str(refused)]}) from None
    stmt = select(WebhookSubscription.id).where(WebhookSubscription.url == url)
    if own_id is not None:
        stmt = stmt.where(WebhookSubscription.id != own_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise ValidationFailed({"url": [DUPLICATE_URL]})


def create_subscription(data: dict) -> WebhookSubscription:
    _check_url(data["url"])
    subscription = WebhookSubscription(
        url=data["url"],
        events=data["events"],
        description=data["description"],
        active=data.get("active", True),
        secret=new_secret(),
    )
    try:
        with transaction() as session:
            session.add(subscription)
            audit.created(
                AuditAction.WEBHOOK_CREATE, subscription, secrets_changed=("secret",), shown=SHOWN
            )
    except IntegrityError:
        raise ValidationFailed({"url": [DUPLICATE_URL]}) from None
    return subscription


def get_subscription(subscription_id: int) -> WebhookSubscription:
    subscription = db.session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise NotFound(f"Webhook subscription {subscription_id} was not found.")
    return subscription


def list_subscriptions(page: int, per_page: int) -> Pagination:
    return paginate(select(WebhookSubscription).order_by(WebhookSubscription.id), page, per_page)


def update_subscription(subscription_id: int, changes: dict) -> WebhookSubscription:
    if "url" in changes:
        _check_url(changes["url"], subscription_id)
    try:
        with transaction():
            subscription = get_subscription(subscription_id)
            with audit.updating(AuditAction.WEBHOOK_UPDATE, subscription, shown=SHOWN):
                for field in EDITABLE_FIELDS:
                    if field in changes:
                        setattr(subscription, field, changes[field])
    except IntegrityError:
        raise ValidationFailed({"url": [DUPLICATE_URL]}) from None
    return subscription


def delete_subscription(subscription_id: int) -> None:
    with transaction() as session:
        subscription = get_subscription(subscription_id)
        audit.deleted(AuditAction.WEBHOOK_DELETE, subscription, shown=SHOWN)
        session.delete(subscription)


def rotate_secret(subscription_id: int) -> WebhookSubscription:
    """A new secret; the old one keeps signing (a second signature) for ROTATION_OVERLAP."""
    with transaction():
        subscription = get_subscription(subscription_id)
        with audit.updating(
            AuditAction.WEBHOOK_ROTATE_SECRET,
            subscription,
            secrets_changed=("secret", "previous_secret"),
        ):
            subscription.previous_secret = subscription.secret
            subscription.previous_secret_expires_at = utcnow() + ROTATION_OVERLAP
            subscription.secret = new_secret()
    return subscription


def list_attempts(subscription_id: int, page: int, per_page: int) -> Pagination:
    get_subscription(subscription_id)
    stmt = (
        select(WebhookAttempt)
        .where(WebhookAttempt.subscription_id == subscription_id)
        .order_by(WebhookAttempt.id.desc())
    )
    return paginate(stmt, page, per_page)


def redeliver(delivery_id: int) -> WebhookDelivery:
    """Send a delivery again, at once, whatever became of it (same event, same webhook-id)."""
    with transaction():
        delivery = db.session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            raise NotFound(f"Webhook delivery {delivery_id} was not found.")
        if not delivery.subscription.active:
            raise Conflict("The subscription is disabled: set active to true first.")
        with audit.updating(AuditAction.WEBHOOK_DELIVERY_REDELIVER, delivery):
            delivery.status = DeliveryStatus.PENDING
            delivery.next_attempt_at = utcnow()
            delivery.lease_until = None
            delivery.finished_at = None
    return delivery
