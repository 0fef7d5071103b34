"""The one error format (RFC 9457 problem+json) and the domain errors services raise.

Every error response, whatever raised it (a service, webargs validation, werkzeug routing,
the JWT layer, an unexpected exception), is built by `problem()` below.
"""

from http import HTTPStatus
from typing import ClassVar, cast

import marshmallow as ma
from flask import Flask, Response, current_app, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from app.platform.money import MAX_MONEY
from app.schemas import ResponseSchema

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


class ApiError(Exception):
    """Base of the errors services raise; mapped to problem+json by the handler below."""

    status = HTTPStatus.INTERNAL_SERVER_ERROR
    default_detail = "The server could not complete the request."

    def __init__(
        self, detail: str | None = None, *, errors: dict | None = None, extra: dict | None = None
    ):
        super().__init__(detail or self.default_detail)
        self.detail = detail or self.default_detail
        self.errors = errors
        self.extra = extra

    def to_response(self) -> Response:
        return problem(self.status, self.detail, errors=self.errors, extra=self.extra)


class BadRequest(ApiError):
    status = HTTPStatus.BAD_REQUEST
    default_detail = "The request cannot be processed."


class Unauthorized(ApiError):
    status = HTTPStatus.UNAUTHORIZED
    default_detail = "Authentication is required."


class CartTokenRefused(Unauthorized):
    """An unknown or expired guest cart token: sign in (Bearer) or create a new cart."""

    default_detail = "The cart token is unknown or has expired: create a new cart."

    def to_response(self) -> Response:
        return problem(self.status, self.detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    status = HTTPStatus.FORBIDDEN
    default_detail = "You do not have permission to do this."


class MissingPermission(Forbidden):
    """The caller's roles lack a permission; the problem names it (`missing_permission`)."""

    def __init__(self, permission: str, detail: str | None = None):
        super().__init__(
            detail or f"This needs the {permission} permission, which none of your roles grants.",
            extra={"missing_permission": str(permission)},
        )


class PermissionProblemSchema(ProblemSchema):
    """A 403: the permission the caller's roles lack."""

    missing_permission = ma.fields.String(metadata={"example": "catalog:write"})


class NotFound(ApiError):
    status = HTTPStatus.NOT_FOUND
    default_detail = "The resource was not found."


class Conflict(ApiError):
    status = HTTPStatus.CONFLICT
    default_detail = "The request conflicts with the current state of the resource."


class OutOfStock(Conflict):
    def __init__(self, product_name: str, available: int, requested: int):
        super().__init__(
            f"Not enough stock for '{product_name}': {available} available, {requested} requested."
        )


class NoLongerSold(Conflict):
    def __init__(self, product_name: str):
        super().__init__(
            f"'{product_name}' is no longer sold: remove it from the cart to place the order."
        )


class OrderTooLarge(Conflict):
    def __init__(self, total):
        super().__init__(
            f"The total {total:.2f} is more than one order can hold ({MAX_MONEY}): "
            "split it into several orders."
        )


class EmptyCart(Conflict):
    default_detail = "The cart is empty."


class PriceChanged(Conflict):
    """The total is not the one the customer expected: `extra` carries the current totals
    and the lines whose price changed since they were put in the cart."""

    def __init__(self, expected, totals: dict, changed_lines: list[dict]):
        super().__init__(
            f"The total is now {totals['total']}, not {expected:.2f}: review the new totals "
            "and place the order again.",
            extra={"totals": totals, "changed_lines": changed_lines},
        )


class ValidationFailed(ApiError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(_validation_detail(errors), errors=errors)


def _validation_detail(errors: dict) -> str:
    """One sentence per field with its first message, e.g.
    "name: Must not be blank. images[0].url: Missing data for required field." """
    parts = []
    for field in sorted(errors, key=str):
        path, message = _first_message(str(field), errors[field])
        if message and message[-1] not in ".!?":
            message += "."
        parts.append(f"{path}: {message}" if message else f"{path}: Invalid.")
    return " ".join(parts)


def _first_message(path: str, messages) -> tuple[str, str | None]:
    """The first message under a field, with the path to it (marshmallow nests the
    messages of lists and nested objects: {"images": {0: {"url": [...]}}})."""
    while isinstance(messages, dict) and messages:
        key = next(iter(messages))
        path += f"[{key}]" if isinstance(key, int) else f".{key}"
        messages = messages[key]
    if isinstance(messages, list) and messages and isinstance(messages[0], str):
        return path, messages[0]
    return path, messages if isinstance(messages, str) else None


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
        return problem(status, _validation_detail(errors), errors=errors, headers=headers)
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
    app.register_error_handler(ApiError, lambda error: error.to_response())
    app.register_error_handler(OperationalError, _handle_database_error)
    app.register_error_handler(Exception, _handle_unexpected)
