"""The worker's heartbeat: how an operator (and /readyz, /metrics, `flask worker --check`)
tells a running worker from a dead one.

Each worker process keeps one row of worker_heartbeats (its host and pid) and renews its
`seen_at` every WORKER_HEARTBEAT_SECONDS while its pump polls (app.worker): one upsert, an
idle store's only extra statement. The age read back is that of the freshest row, in the
database every process shares (whatever holds the queue), so any process answers alike.
"""

import os
import platform
from datetime import timedelta

from sqlalchemy import delete, func, select

from app.platform.db import changed, insert_on_conflict, transaction, utcnow
from app.platform.models import WorkerHeartbeat

# A worker starting deletes the rows of workers gone this long (each restart is a new pid).
FORGOTTEN_AFTER = timedelta(days=1)


def worker_name() -> str:
    return f"{platform.node()}:{os.getpid()}"[:200]


def beat(worker: str) -> None:
    """Record that `worker` is alive now."""
    now = utcnow()
    statement = insert_on_conflict(WorkerHeartbeat).values(
        worker=worker, started_at=now, seen_at=now
    )
    with transaction() as session:
        session.execute(
            statement.on_conflict_do_update(index_elements=["worker"], set_={"seen_at": now})
        )


def prune() -> int:
    """Delete the rows of workers not seen for FORGOTTEN_AFTER; returns how many."""
    with transaction() as session:
        gone = delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_at < utcnow() - FORGOTTEN_AFTER)
        return changed(session.execute(gone))


def last_seen_seconds() -> float | None:
    """Seconds since any worker last beat; None when no worker has ever been seen."""
    with transaction() as session:
        seen = session.scalar(select(func.max(WorkerHeartbeat.seen_at)))
    if seen is None:
        return None
    return max(0.0, (utcnow() - seen).total_seconds())
