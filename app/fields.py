"""Shared marshmallow fields."""

import unicodedata
from decimal import Decimal

import marshmallow as ma
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

CENT = Decimal("0.01")
MAX_MONEY = Decimal("9999999999.99")  # Numeric(12, 2)
MAX_ID = 2**63 - 1  # BIGINT range on every engine


class Money(ma.fields.Decimal):
    """Money: a decimal string with 2 places in JSON; input may be a number or a string.

    marshmallow's `places` would silently round "1.999"; this rejects it instead.
    """

    def __init__(self, **kwargs):
        metadata = {"type": "string", "format": "decimal", "example": "19.99"}
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(as_string=True, allow_nan=False, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        amount = super()._deserialize(value, attr, data, **kwargs)
        # Size first: quantizing 1e30 to cents would overflow the decimal context.
        if abs(amount) > MAX_MONEY:
            raise ma.ValidationError(f"Must not exceed {MAX_MONEY}.")
        if amount != amount.quantize(CENT):
            raise ma.ValidationError("Must have at most 2 decimal places.")
        return amount.quantize(CENT)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return format(Decimal(value).quantize(CENT), "f")


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


def no_control_characters(value: str) -> None:
    """No C0/C1 controls, DEL or NUL (PostgreSQL cannot store NUL); tabs and newlines are fine."""
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in value):
        raise ma.ValidationError("Must not contain control characters.")


def not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")
