"""Liveness and readiness probes for load balancers and orchestrators."""

import marshmallow as ma
from alembic.script import ScriptDirectory
from flask import current_app
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
@blp.alt_response(503, description="The database does not answer, or is not migrated to head")
def readyz():
    """The database answers and is migrated

    The body also says when a background worker was last seen: the web process is ready
    without one (requests are answered), but refunds, emails, webhooks and expiry wait.
    """
    if (unready := _database_unready()) is not None:
        return problem(503, unready, headers={"Retry-After": "5"})
    return {"status": "ok", "worker": {"last_seen_seconds": _worker_age()}}


def _database_unready() -> str | None:
    """Why the database cannot serve this code (logged), or None when it can."""
    session = db.session
    try:
        if db.engine.dialect.name == "postgresql":
            session.execute(text(f"SET LOCAL statement_timeout = {READINESS_STATEMENT_TIMEOUT_MS}"))
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        session.rollback()
        current_app.logger.warning("Not ready: the database is not reachable: %s", _reason(error))
        return "The database is not reachable."
    try:
        current = session.scalar(text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError as error:
        current = None
        current_app.logger.warning("Not ready: no migration applied: %s", _reason(error))
    finally:
        session.rollback()
    head = _migrations_head()
    if current != head:
        current_app.logger.warning(
            "Not ready: the schema is at %s, the code needs %s", current, head
        )
        return (
            f"The database is not migrated to this version ({current or 'no migration'}, not "
            f"{head}): run `flask --app app db upgrade`."
        )
    return None


def _migrations_head() -> str | None:
    """The newest migration this code ships, read once per app."""
    if "migrations_head" not in current_app.extensions:
        config = current_app.extensions["migrate"].migrate.get_config()
        head = ScriptDirectory.from_config(config).get_current_head()
        current_app.extensions["migrations_head"] = head
    return current_app.extensions["migrations_head"]


def _reason(error: SQLAlchemyError) -> str:
    """The driver's one-line message, without the statement or its parameters."""
    return str(getattr(error, "orig", error)).splitlines()[0][:300]


def _worker_age() -> float | None:
    try:
        age = last_seen_seconds()
    except SQLAlchemyError:  # a schema older than the heartbeats: as if none was seen
        db.session.rollback()
        return None
    return None if age is None else round(age, 1)
