"""Liveness and readiness probes for load balancers and orchestrators."""

import marshmallow as ma
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.errors import problem
from app.extensions import db
from app.openapi import Blueprint

blp = Blueprint("operations", __name__, description="Health probes")


class StatusSchema(ma.Schema):
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
    """The database answers"""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return problem(503, "The database is not reachable.", headers={"Retry-After": "5"})
    return {"status": "ok"}
