"""The outbox engine: every retried job (a webhook delivery, an email, a payment action) is a
row of its own table with `status`, `attempts`, `next_attempt_at`, `lease_until` and
`finished_at`, and runs through the same three steps:

- `claim`: the due rows are leased for OUTBOX_LEASE_SECONDS (FOR UPDATE SKIP LOCKED on
  PostgreSQL, a guarded update on both), so two workers never run one at once and a row
  whose worker died is claimed again once its lease ends; `one_per` leases at most one row
  per value of a column, none while another of that value is leased (one attempt in flight
  per webhook subscription);
- the caller's attempt, with no transaction open;
- `settle`: in a transaction, the row is done, or waits for the next step of its schedule
  (stretched or shrunk by up to JITTER, never sooner than `at_least`), or has failed once the
  schedule has run out. Every schedule is a setting (`*_RETRY_SCHEDULE`).
"""

import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import aliased

from app.platform.db import skip_locked, transaction, utcnow
from app.platform.models import DeliveryStatus

BATCH = 100
JITTER = 0.1  # each wait is stretched or shrunk by up to 10 %


def claim(model: Any, *order_by: Any, limit: int = BATCH, one_per: str | None = None) -> list[int]:
    """Lease up to `limit` due rows of `model` (in `order_by` order); returns their ids."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    claimable = (
        model.status == DeliveryStatus.PENDING,
        or_(model.lease_until.is_(None), model.lease_until < now),
    )
    due = (*claimable, model.next_attempt_at <= now)
    with transaction() as session:
        if one_per is None:
            candidates = session.scalars(
                skip_locked(select(model.id).where(*due).order_by(*order_by).limit(limit))
            ).all()
        else:
            group = getattr(model, one_per)
            in_flight = aliased(model)
            busy = exists().where(
                getattr(in_flight, one_per) == group,
                in_flight.status == DeliveryStatus.PENDING,
                in_flight.lease_until >= now,
            )
            candidates = session.scalars(
                select(func.min(model.id))
                .where(*due, ~busy)
                .group_by(group)
                .order_by(func.min(model.id))
                .limit(limit)
            ).all()
        if not candidates:
            return []
        # Guarded: of two workers that chose the same row, one leases it (PostgreSQL checks
        # the WHERE again on the row the other committed).
        return list(
            session.scalars(
                update(model)
                .where(model.id.in_(candidates), *claimable)
                .values(lease_until=now + lease)
                .returning(model.id)
                .execution_options(synchronize_session=False)
            ).all()
        )


def next_wait(
    attempts: int, schedule: Sequence[float], at_least: timedelta | None = None
) -> timedelta | None:
    """The wait after the `attempts`-th failed attempt, or None once the schedule has run
    out."""
    if attempts > len(schedule):
        return None
    # Jitter spreads retries out; it guards no secret.
    jitter = random.uniform(1 - JITTER, 1 + JITTER)  # nosec B311
    wait = timedelta(seconds=schedule[attempts - 1] * jitter)
    return max(wait, at_least) if at_least is not None else wait


def settle(
    row: Any,
    *,
    succeeded: bool,
    schedule: Sequence[float],
    at_least: timedelta | None = None,
    give_up: bool = False,
) -> None:
    """After an attempt at a leased row (in the caller's transaction): done, or the next
    attempt scheduled, or failed (the schedule has run out, or `give_up`)."""
    now = utcnow()
    row.attempts += 1
    row.lease_until = None
    if succeeded:
        row.status, row.finished_at = DeliveryStatus.DELIVERED, now
        return
    wait = None if give_up else next_wait(row.attempts, schedule, at_least)
    if wait is None:
        row.status, row.finished_at = DeliveryStatus.FAILED, now
    else:
        row.next_attempt_at = now + wait
