"""Webhook delivery, run by the worker (app.worker); requests never come here.

- `claim_due`: due deliveries are leased by the outbox engine (app.outbox.engine), so two workers
  never send one at once, and at most one per subscription is in flight; a lease whose
  worker died runs out and the delivery is claimed again.
- `attempt`: one signed POST through the SSRF guard (app.outbox.destinations), bounded in
  total time by `attempt_deadline()` (well inside the lease), logged; 2xx delivers, 410
  disables the subscription, anything else (an error, a timeout, a redirect) waits for the
  next step of WEBHOOK_RETRY_SCHEDULE (app.outbox.engine.settle: with jitter, and never sooner than
  a 429/503's Retry-After) until the schedule runs out.

Bodies are signed per Standard Webhooks with the `standardwebhooks` package: `webhook-id` is
the event's id on every attempt; after a secret rotation both secrets sign.
"""

import json
import time
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, select
from standardwebhooks.webhooks import Webhook

from app.outbox.destinations import AttemptFailed, UnsafeDestination, post, vet
from app.outbox.engine import BATCH, claim, settle
from app.platform.db import db, transaction, utcnow
from app.platform.models import (
    DeliveryStatus,
    Event,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

MAX_RETRY_AFTER = timedelta(days=1)
USER_AGENT = "flask-store-webhooks/1"


def attempt_deadline() -> float:
    """Seconds an attempt may take in all: WEBHOOK_TIMEOUT_SECONDS, and never more than half
    the lease, so a delivery is never claimed again while its attempt still runs."""
    config = current_app.config
    return min(config["WEBHOOK_TIMEOUT_SECONDS"], config["OUTBOX_LEASE_SECONDS"] / 2)


def claim_due(limit: int = BATCH) -> list[int]:
    """Lease up to `limit` due deliveries, at most one per subscription and none of a
    subscription with an attempt in flight (app.outbox.engine): a slow receiver holds one sender,
    never all of them. Returns their ids."""
    return claim(WebhookDelivery, limit=limit, one_per="subscription_id")


def payload(event: Event) -> str:
    return json.dumps(
        {
            "id": event.uid,
            "type": event.type,
            "created_at": event.created_at.isoformat(),
            "data": event.data,
        },
        separators=(",", ":"),
    )


def signature(subscription: WebhookSubscription, msg_id: str, at: datetime, body: str) -> str:
    """`v1,<sig>`; during a rotation's overlap the old secret's signature follows."""
    secrets = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires and expires > utcnow():
        secrets.append(subscription.previous_secret)
    return " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets)


def attempt(delivery_id: int) -> None:
    """One attempt at a leased delivery, and what follows from its outcome."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return  # delivered, failed or deleted meanwhile
    subscription, event = delivery.subscription, delivery.event
    url, active, body = subscription.url, subscription.active, payload(event)
    sent_at = datetime.now(UTC)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": event.uid,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature(subscription, event.uid, sent_at, body),
    }
    db.session.rollback()  # no transaction stays open while the receiver takes its time
    if not active:  # disabled after the event was dispatched: nothing to retry
        _record(delivery_id, None, "The subscription is disabled.", 0, None, final=True)
        return
    config = current_app.config
    status_code, error, retry_after = None, None, None
    started = time.perf_counter()
    try:
        destination = vet(url, allow_private=config["WEBHOOKS_ALLOW_PRIVATE_NETWORKS"])
        answer = post(destination, body.encode(), headers, deadline_seconds=attempt_deadline())
        status_code, retry_after = answer.status, answer.retry_after
    except (UnsafeDestination, AttemptFailed) as failed:
        error = str(failed)[:500]
    duration_ms = round((time.perf_counter() - started) * 1000)
    _record(delivery_id, status_code, error, duration_ms, retry_after)


def _record(delivery_id, status_code, error, duration_ms, retry_after, *, final=False) -> None:
    now = utcnow()
    with transaction() as session:
        delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return
        session.add(
            WebhookAttempt(
                delivery_id=delivery.id,
                subscription_id=delivery.subscription_id,
                event_id=delivery.event_id,
                attempt=delivery.attempts + 1,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
                at=now,
            )
        )
        gone = status_code == 410  # the receiver is gone for good
        if gone:
            delivery.subscription.active = False
        settle(
            delivery,
            succeeded=status_code is not None and 200 <= status_code < 300,
            schedule=current_app.config["WEBHOOK_RETRY_SCHEDULE"],
            at_least=_retry_after(status_code, retry_after),
            give_up=final or gone,
        )


def _retry_after(status_code: int | None, retry_after: str | None) -> timedelta | None:
    """The wait a 429 or 503 asked for (in seconds; at most MAX_RETRY_AFTER)."""
    if status_code in (429, 503) and retry_after and retry_after.strip().isdigit():
        return min(timedelta(seconds=int(retry_after)), MAX_RETRY_AFTER)
    return None


def backlog() -> tuple[int, float]:
    """(events not dispatched + deliveries pending, seconds the oldest due one has waited)."""
    now = utcnow()
    events = db.session.execute(
        select(func.count(), func.min(Event.created_at)).where(Event.dispatched_at.is_(None))
    ).one()
    pending = WebhookDelivery.status == DeliveryStatus.PENDING
    deliveries = db.session.execute(
        select(
            func.count(),
            func.min(
                case((WebhookDelivery.next_attempt_at <= now, WebhookDelivery.next_attempt_at))
            ),
        ).where(pending)
    ).one()
    due = [at for at in (events[1], deliveries[1]) if at is not None]
    oldest = max((now - min(due)).total_seconds(), 0.0) if due else 0.0
    return events[0] + deliveries[0], oldest


def attempt_outcomes() -> dict[str, int]:
    """Attempts so far: delivered (2xx), refused (another status) or failed (no answer)."""
    outcome = case(
        (WebhookAttempt.status_code.between(200, 299), "delivered"),
        (WebhookAttempt.status_code.is_not(None), "refused"),
        else_="failed",
    )
    rows = db.session.execute(select(outcome, func.count()).group_by(outcome)).all()
    return {"delivered": 0, "refused": 0, "failed": 0} | {kind: count for kind, count in rows}
