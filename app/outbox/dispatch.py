"""The worker's fan-out of the outbox: every event not yet dispatched becomes a webhook
delivery for each active subscription to its type, and the customer's email when it calls
for one, in one transaction with the event's dispatched_at.

Who writes that email is not the outbox's business: create_app names the writer
(`init_app(app, email_for=...)`, ordering's order_email), so the outbox imports only the
platform.
"""

from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import insert, select, update

from app.outbox.mail import queue_email
from app.platform.db import skip_locked, transaction, utcnow
from app.platform.models import Event, WebhookDelivery, WebhookSubscription

BATCH = 100

EmailFor = Callable[[Event], tuple[str, str, str] | None]
"""(recipient, subject, body) of the email an event calls for, or None."""


def init_app(app: Flask, *, email_for: EmailFor) -> None:
    app.extensions["outbox.email_for"] = email_for


def dispatch_events() -> int:
    """Dispatch a batch of events; returns how many."""
    now = utcnow()
    with transaction() as session:
        events = session.scalars(
            skip_locked(
                select(Event).where(Event.dispatched_at.is_(None)).order_by(Event.id).limit(BATCH)
            )
        ).all()
        if not events:
            return 0
        subscriptions = session.scalars(
            select(WebhookSubscription).where(WebhookSubscription.active)
        ).all()
        deliveries = [
            {"event_id": event.id, "subscription_id": subscription.id, "next_attempt_at": now}
            for event in events
            for subscription in subscriptions
            if event.type in subscription.events
        ]
        if deliveries:
            session.execute(insert(WebhookDelivery), deliveries)
        email_for: EmailFor = current_app.extensions["outbox.email_for"]
        for event in events:
            if email := email_for(event):
                queue_email(*email)
        session.execute(
            update(Event)
            .where(Event.id.in_([event.id for event in events]))
            .values(dispatched_at=now)
        )
    return len(events)
