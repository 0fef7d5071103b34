"""The worker's fan-out of the outbox: every event not yet dispatched becomes a webhook
delivery for each active subscription to its type, and the customer's email when it calls
for one (app.orders.emails), in one transaction with the event's dispatched_at."""

from sqlalchemy import insert, select, update

from app.mail import queue_email
from app.orders.emails import order_email
from app.platform.db import skip_locked, transaction, utcnow
from app.platform.models import Event, WebhookDelivery, WebhookSubscription

BATCH = 100


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
        for event in events:
            if email := order_email(event):
                queue_email(*email)
        session.execute(
            update(Event)
            .where(Event.id.in_([event.id for event in events]))
            .values(dispatched_at=now)
        )
    return len(events)
