"""Shared marshmallow fields."""

import re
from decimal import Decimal
from typing import Any

import marshmallow as ma
import pycountry
from marshmallow import validate
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from app.platform.models import Permission
from app.platform.money import CENT, MAX_MONEY, RATE_PLACES, money_text

FLOAT_TOLERANCE = Decimal("1e-9")
PLAIN_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
# What a request may send, what a stored amount looks like, and a computed one (a cart total
# is not stored, so it is not capped by Numeric(12, 2)).
REQUEST_MONEY_PATTERN = r"^\d{1,10}(\.\d{1,2})?$"
STORED_MONEY_PATTERN = r"^\d{1,10}\.\d{2}$"
COMPUTED_MONEY_PATTERN = r"^\d+\.\d{2}$"
MAX_ID = 2**63 - 1  # BIGINT range on every engine


class Money(ma.fields.Decimal):
    """Money: a decimal string with 2 places in JSON ("19.99"), never negative.

    Input may also be a JSON number. marshmallow's `places` would silently round "1.999";
    this rejects it. A float a hair off a cent (0.57 sent as 0.5700000000000001 by a
    JavaScript client) is taken as that cent.
    """

    def __init__(self, *, request: bool = False, computed: bool = False, **kwargs):
        """How it is documented: `request=True`, what a request may send (the string or a
        number); `computed=True`, a sum no column caps (cart totals)."""
        example = kwargs.get("metadata", {}).get("example", "19.99")
        if request:
            # Examples inside the branches too: converters pick a branch and use its example.
            # The number's is whole: validators test multipleOf in binary floating point,
            # where 19.99 is not a multiple of 0.01.
            number = {"type": "number", "minimum": 0, "maximum": float(MAX_MONEY)}
            string = {"type": "string", "pattern": REQUEST_MONEY_PATTERN, "example": example}
            number |= {"multipleOf": 0.01, "example": int(Decimal(example))}
            doc: dict[str, Any] = {"oneOf": [string, number]}
        else:
            pattern = COMPUTED_MONEY_PATTERN if computed else STORED_MONEY_PATTERN
            doc = {"type": "string", "pattern": pattern}
        metadata = {**doc, "example": example, **kwargs.pop("metadata", {})}
        super().__init__(as_string=True, allow_nan=False, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and not PLAIN_DECIMAL.fullmatch(value):
            raise ma.ValidationError('Must be a decimal amount such as "19.99".')
        amount = super()._deserialize(value, attr, data, **kwargs)
        if amount < 0:
            raise ma.ValidationError("Must not be negative.")
        # Size first: quantizing 1e30 to cents would overflow the decimal context.
        if amount > MAX_MONEY:
            raise ma.ValidationError(f"Must not exceed {MAX_MONEY}.")
        cents = amount.quantize(CENT)
        tolerance = FLOAT_TOLERANCE if isinstance(value, float) else 0
        if abs(amount - cents) > tolerance:
            raise ma.ValidationError("Must have at most 2 decimal places.")
        return cents

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return money_text(value)


def id_field(**kwargs) -> ma.fields.Integer:
    """A reference to another row in a JSON body: an integer (not "1") from 1 to MAX_ID."""
    return ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=MAX_ID), **kwargs)


class Timestamp(ma.fields.AwareDateTime):
    """An ISO 8601 time in UTC with its offset, e.g. 2026-11-25T10:00:00+00:00."""

    def __init__(self, **kwargs):
        metadata = {"example": "2026-11-25T10:00:00+00:00", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)


class Int64Converter(IntegerConverter):
    """`<int:...>` path segments limited to 64 bits: a larger id is a 404, not a DB error."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ID:
            # Not ValidationError: werkzeug would then answer 405 for the other methods.
            raise NotFound()
        return number


# C0 and C1 controls, DEL and NUL (PostgreSQL cannot store NUL); tabs and newlines are fine.
# Regexp validators, so the OpenAPI document carries the same rule as a `pattern`.
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Whitespace as both Python's and ECMAScript's \s see it.
_BLANKS = r"\s\ufeff"
no_control_characters = validate.Regexp(
    rf"^[^{_CONTROLS}]*$", error="Must not contain control characters."
)
visible_text = validate.Regexp(
    rf"^[^{_CONTROLS}]*[^{_BLANKS}{_CONTROLS}][^{_CONTROLS}]*$",
    error="Must not be blank or contain control characters.",
)


# Integers in JSON bodies: ma.fields.Integer(strict=True) (or id_field), which refuses 1.0,
# "1" and true.
QUERY_INTEGER = re.compile(r"-?[0-9]+")


class QueryInteger(ma.fields.Integer):
    """An integer in a query string: ASCII digits only. Python's int() would also take
    " 1", "1_000" and other scripts' digits, which the document's `integer` does not allow."""

    def _validated(self, value):
        if isinstance(value, str) and not QUERY_INTEGER.fullmatch(value):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class StrictBoolean(ma.fields.Boolean):
    """A boolean in a JSON body: true or false only (marshmallow also takes 0, 1, "yes"...)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is True or value is False:
            return value
        raise self.make_error("invalid", input=value)


class QueryBoolean(ma.fields.Boolean):
    """A boolean in a query string: "true" or "false", as the document says."""

    truthy = {"true"}
    falsy = {"false"}


class WholeNested(ma.fields.Nested):
    """A nested object is replaced whole, never merged, so a partial update of its parent
    (PATCH) must not make the object's own fields optional or skip their defaults: an image
    stored without `alt` or `url` broke every later read of the product."""

    def _load(self, value, partial=None):
        return super()._load(value, partial=False)


# For secrets, where any other character is the user's choice: only NUL is refused (the JSON
# parser refuses it in every string; this documents it where no other pattern does).
no_nul = validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters.")


COUNTRY_CODES = sorted(country.alpha_2 for country in pycountry.countries)
# One schema component for every country field: the 249 codes are listed once.
COUNTRY_CODE_SCHEMA = {
    "type": "string",
    "enum": COUNTRY_CODES,
    "description": "ISO 3166-1 alpha-2 country code, upper case",
    "example": "US",
}


class CountryCode(ma.fields.String):
    """An ISO 3166-1 alpha-2 country code, upper case ("US", "DE"); documented as a
    reference to the CountryCode component (app.api.openapi.register_country_code)."""

    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs)
        if code not in _COUNTRY_SET:
            raise ma.ValidationError(
                f"'{code[:10]}' is not an ISO 3166-1 alpha-2 country code (such as \"US\")."
            )
        return code


_COUNTRY_SET = frozenset(COUNTRY_CODES)


RATE_PATTERN = r"^0(\.[0-9]{1,4})?$"


class Rate(ma.fields.Decimal):
    """A rate as a decimal string from "0" to "0.9999", at most 4 places ("0.0825")."""

    def __init__(self, **kwargs):
        metadata = {"type": "string", "pattern": RATE_PATTERN, "example": "0.0825"}
        metadata |= kwargs.pop("metadata", {})
        super().__init__(as_string=True, allow_nan=False, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(RATE_PATTERN, value):
            raise ma.ValidationError(
                'Must be a decimal string from "0" to "0.9999" with at most 4 places, '
                'such as "0.0825".'
            )
        return Decimal(value).quantize(RATE_PLACES)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format(Decimal(value).quantize(RATE_PLACES), "f")


class PermissionList(ma.fields.List):
    """Permission names (models.Permission), sorted: the same set always reads the same."""

    def __init__(self, **kwargs):
        super().__init__(ma.fields.Enum(Permission, by_value=True), **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(sorted(map(Permission, value)), attr, obj, **kwargs)
