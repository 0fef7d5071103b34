"""The one error format (RFC 9457 problem+json).

Every error response, whatever raised it (a service's StoreError, webargs validation,
werkzeug routing, the JWT layer, an unexpected exception), is built by `problem()` below.
"""

from http import HTTPStatus
from typing import ClassVar, cast

import marshmallow as ma
from flask import Flask, Response, current_app, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from app.api.schemas import ResponseSchema
from app.platform.errors import StoreError, validation_detail

PROBLEM_MIMETYPE = "application/problem+json"


class ProblemSchema(ResponseSchema):
    """RFC 9457 problem details; `errors` maps field names to messages."""

    OPTIONAL: ClassVar[tuple[str, ...]] = ("errors",)

    type = ma.fields.String(metadata={"example": "about:blank"})
    title = ma.fields.String(metadata={"example": "Conflict"})
    status = ma.fields.Integer(metadata={"example": 409})
    detail = ma.fields.String(metadata={"example": "Not enough stock for 'Coffee mug'."})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={"example": {"price": ["Must have at most 2 decimal places."]}},
    )


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors: dict | None = None,
    headers: dict | None = None,
    extra: dict | None = None,
) -> Response:
    """`extra`: members of this kind of problem (RFC 9457 extensions), e.g. `totals`."""
    phrase = HTTPStatus(status).phrase
    body = {"type": "about:blank", "title": phrase, "status": status, "detail": detail or phrase}
    if errors:
        body["errors"] = errors
    body |= extra or {}
    # Through the app's JSON provider: same layout and trailing newline as success bodies.
    response = cast(Response, current_app.json.response(body))
    response.status_code = status
    response.mimetype = PROBLEM_MIMETYPE
    response.headers.update(headers or {})
    return response


class PermissionProblemSchema(ProblemSchema):
    """A 403: the permission the caller's roles lack."""

    missing_permission = ma.fields.String(metadata={"example": "catalog:write"})


def problem_from_error(error: StoreError) -> Response:
    """A service's error (app.platform.errors) as problem+json."""
    return problem(
        error.status, error.detail, errors=error.errors, extra=error.extra, headers=error.headers
    )


def _flatten_webargs_messages(messages: dict) -> dict:
    """webargs nests messages by location ({"json": {...}}); clients want field names."""
    errors: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            errors.update(fields)
        else:
            errors[location] = fields
    return errors


def problem_from_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    messages = data.get("messages")

    if status >= 500:
        return problem(status, headers=headers)
    if status == 422 and messages:
        errors = _flatten_webargs_messages(messages)
        return problem(status, validation_detail(errors), errors=errors, headers=headers)
    if status == 429:
        detail = f"Too many requests (limit: {error.description}); retry after Retry-After seconds."
        return problem(status, detail, headers=headers)
    if status == 413:
        return problem(status, _too_large_detail(), headers=headers)
    if status == 400 and messages:
        return problem(status, "The request body is not valid JSON.", headers=headers)
    return problem(status, data.get("message") or error.description, headers=headers)


def _too_large_detail() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit:
        return "The request body is too large."
    size = f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit / 2**10:g} KiB"
    return f"The request body is larger than the limit of {size} ({limit} bytes)."


def _handle_unexpected(error: Exception) -> Response:
    current_app.logger.exception("Unhandled exception on %s %s", request.method, request.path)
    return problem(500, "An unexpected error occurred.")


# PostgreSQL serialization failure, deadlock, lock not available: safe to retry.
RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


def _is_retryable(error: OperationalError) -> bool:
    if getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    message = str(error.orig).lower()
    return "database is locked" in message or "database is busy" in message


def _handle_database_error(error: OperationalError) -> Response:
    """A lock we could not get in time is the client's cue to retry, not a server bug."""
    if not _is_retryable(error):
        return _handle_unexpected(error)
    current_app.logger.warning("Database busy on %s %s: %s", request.method, request.path, error)
    return problem(
        503, "The database is busy; retry the request shortly.", headers={"Retry-After": "1"}
    )


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(StoreError, problem_from_error)
    app.register_error_handler(OperationalError, _handle_database_error)
    app.register_error_handler(Exception, _handle_unexpected)
