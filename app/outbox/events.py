"""Domain events through a transactional outbox.

`emit()` writes the event as a row of `events` in the caller's transaction(): it exists if,
and only if, the change it reports was committed. The worker (app.worker) turns each event
into webhook deliveries and emails, at least once; nothing here does network I/O.
"""

import uuid

from sqlalchemy import insert

from app.platform.db import db, utcnow
from app.platform.models import Event, EventType


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def emit(event_type: EventType, data: dict) -> None:
    """Record an event in the current transaction (one INSERT)."""
    db.session.execute(
        insert(Event).values(
            uid=new_event_id(), type=str(event_type), data=data, created_at=utcnow()
        )
    )
