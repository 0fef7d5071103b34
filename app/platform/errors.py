"""The errors services raise, each with the HTTP status it stands for.

The edge renders every one of them as problem+json (app.api.problems); nothing here knows a
request or a response. `status` is a plain HTTPStatus: a service says "not found", the edge
says how.
"""

from decimal import Decimal
from http import HTTPStatus

from app.platform.money import MAX_MONEY


class StoreError(Exception):
    """Base of the errors services raise. `errors`: messages by field; `extra`: members of
    this kind of problem (RFC 9457 extensions), e.g. `totals`; `headers`: what the answer
    must carry (a 401's WWW-Authenticate)."""

    status = HTTPStatus.INTERNAL_SERVER_ERROR
    default_detail = "The server could not complete the request."
    headers: dict[str, str] = {}

    def __init__(
        self, detail: str | None = None, *, errors: dict | None = None, extra: dict | None = None
    ):
        super().__init__(detail or self.default_detail)
        self.detail = detail or self.default_detail
        self.errors = errors
        self.extra = extra


class BadRequest(StoreError):
    status = HTTPStatus.BAD_REQUEST
    default_detail = "The request cannot be processed."


class Unauthorized(StoreError):
    status = HTTPStatus.UNAUTHORIZED
    default_detail = "Authentication is required."


class CartTokenRefused(Unauthorized):
    """An unknown or expired guest cart token: sign in (Bearer) or create a new cart."""

    default_detail = "The cart token is unknown or has expired: create a new cart."
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(StoreError):
    status = HTTPStatus.FORBIDDEN
    default_detail = "You do not have permission to do this."


class MissingPermission(Forbidden):
    """The caller's roles lack a permission; the problem names it (`missing_permission`)."""

    def __init__(self, permission: str, detail: str | None = None):
        super().__init__(
            detail or f"This needs the {permission} permission, which none of your roles grants.",
            extra={"missing_permission": str(permission)},
        )


class NotFound(StoreError):
    status = HTTPStatus.NOT_FOUND
    default_detail = "The resource was not found."


class Conflict(StoreError):
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
    def __init__(self, total: Decimal):
        super().__init__(
            f"The total {total:.2f} is more than one order can hold ({MAX_MONEY}): "
            "split it into several orders."
        )


class EmptyCart(Conflict):
    default_detail = "The cart is empty."


class PriceChanged(Conflict):
    """The total is not the one the customer expected: `extra` carries the current totals
    and the lines whose price changed since they were put in the cart."""

    def __init__(self, expected: Decimal, totals: dict, changed_lines: list[dict]):
        super().__init__(
            f"The total is now {totals['total']}, not {expected:.2f}: review the new totals "
            "and place the order again.",
            extra={"totals": totals, "changed_lines": changed_lines},
        )


class ValidationFailed(StoreError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(validation_detail(errors), errors=errors)


def validation_detail(errors: dict) -> str:
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


def bad_text(text: str) -> str | None:
    """Why a string cannot be stored, or None: a lone UTF-16 surrogate (JSON "\\udbe2")
    fails every UTF-8 encoder (the driver's UnicodeEncodeError, a 500), and PostgreSQL
    text cannot hold NUL."""
    if "\x00" in text:
        return "Must not contain NUL characters (\\u0000)."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text: it contains an unpaired surrogate."
    return None
