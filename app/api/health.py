"""Liveness and readiness probes for load balancers and orchestrators."""

import marshmallow as ma
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.problems import problem
from app.api.routing import Blueprint
from app.api.schemas import ResponseSchema
from app.outbox.heartbeat import last_seen_seconds
from app.platform.db import db

blp = Blueprint("operations", __name__, description="Health probes")

# A probe that hangs is worse than one that fails: the orchestrator's own timeout is short.
# Connecting is bounded by DATABASE_CONNECT_TIMEOUT (create_app).
READINESS_STATEMENT_TIMEOUT_MS = 2000


class StatusSchema(ResponseSchema):
    status = ma.fields.String(metadata={"example": "ok"})


class WorkerStatusSchema(ResponseSchema):
    last_seen_seconds = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "Seconds since a background worker last showed it is alive (its "
            "heartbeat, every few seconds); null: no worker has been seen",
            "example": 2.4,
        },
    )


class ReadinessSchema(StatusSchema):
    worker = ma.fields.Nested(WorkerStatusSchema)


@blp.get("/healthz")
@blp.response(200, StatusSchema)
def healthz():
    """The process is up"""
    return {"status": "ok"}


@blp.get("/readyz")
@blp.response(200, ReadinessSchema)
@blp.alt_response(503, description="The database does not answer")
def readyz():
    """The database answers and is migrated

    The body also says when a background worker was last seen: the web process is ready
    without one (requests are answered), but refunds, emails, webhooks and expiry wait.
    """
    if not _database_answers():
        return problem(503, "The database is not reachable.", headers={"Retry-After": "5"})
    return {"status": "ok", "worker": {"last_seen_seconds": _worker_age()}}


def _worker_age() -> float | None:
    try:
        age = last_seen_seconds()
    except SQLAlchemyError:  # a schema older than the heartbeats: as if none was seen
        db.session.rollback()
        return None
    return None if age is None else round(age, 1)


def _database_answers() -> bool:
    try:
        if db.engine.dialect.name == "postgresql":
            db.session.execute(
                text(f"SET LOCAL statement_timeout = {READINESS_STATEMENT_TIMEOUT_MS}")
            )
        # Reads the migrations table: SQLite answers `SELECT 1` without opening the file.
        db.session.execute(text("SELECT version_num FROM alembic_version"))
        return True
    except SQLAlchemyError:
        return False
    finally:
        db.session.rollback()
