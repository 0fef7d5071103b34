"""Liveness and readiness probes for load balancers and orchestrators."""

import marshmallow as ma
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.problems import problem
from app.api.routing import Blueprint
from app.api.schemas import ResponseSchema
from app.platform.db import db

blp = Blueprint("operations", __name__, description="Health probes")

# A probe that hangs is worse than one that fails: the orchestrator's own timeout is short.
# Connecting is bounded by DATABASE_CONNECT_TIMEOUT (create_app).
READINESS_STATEMENT_TIMEOUT_MS = 2000


class StatusSchema(ResponseSchema):
    status = ma.fields.String(metadata={"example": "ok"})


@blp.get("/healthz")
@blp.response(200, StatusSchema)
def healthz():
    """The process is up"""
    return {"status": "ok"}


@blp.get("/readyz")
@blp.response(200, StatusSchema)
@blp.alt_response(503, description="The database does not answer")
def readyz():
    """The database answers and is migrated"""
    if not _database_answers():
        return problem(503, "The database is not reachable.", headers={"Retry-After": "5"})
    return {"status": "ok"}


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
