import marshmallow as ma
from marshmallow import validate

from app.api.fields import Money, StrictBoolean, Timestamp
from app.api.pagination import page_of
from app.api.schemas import ResponseSchema, with_examples
from app.platform.models import DiscountKind

KINDS = [kind.value for kind in DiscountKind]
CODE_PATTERN = r"^[A-Za-z0-9_-]{1,50}$"
MAX_USES = 2**31 - 1


def _limit(description: str, example: int) -> ma.fields.Integer:
    return ma.fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=MAX_USES),
        metadata={"description": description, "example": example},
    )


class DiscountInputSchema(ma.Schema):
    code = ma.fields.String(
        required=True,
        validate=validate.Regexp(
            CODE_PATTERN, error="Must be 1 to 50 letters, digits, dashes or underscores."
        ),
        metadata={"description": "Compared case-insensitively", "example": "SPRING25"},
    )
    kind = ma.fields.String(
        required=True, validate=validate.OneOf(KINDS), metadata={"example": "percentage"}
    )
    value = Money(
        request=True,
        required=True,
        metadata={
            "description": "Percent off (up to 100), or an amount off; 0 makes a code that "
            "only marks the orders that use it",
            "example": "10",
        },
    )
    min_subtotal = Money(
        request=True,
        allow_none=True,
        load_default=None,
        metadata={"description": "The subtotal an order needs for the code", "example": "20"},
    )
    starts_at = Timestamp(allow_none=True, load_default=None)
    ends_at = Timestamp(
        allow_none=True, load_default=None, metadata={"example": "2036-12-31T23:59:59+00:00"}
    )
    usage_limit = _limit("Orders that may use it in all; null: no limit", 1000)
    per_customer_limit = _limit("Orders each customer may use it on; null: no limit", 1)
    active = StrictBoolean(load_default=True, metadata={"example": True})


DiscountUpdateSchema = with_examples(
    DiscountInputSchema, "DiscountUpdateSchema", code="WELCOME15", value="15"
)


class DiscountSchema(ResponseSchema):
    id = ma.fields.Integer(metadata={"example": 1})
    code = ma.fields.String(metadata={"example": "WELCOME10"})
    kind = ma.fields.String(metadata={"enum": KINDS, "example": "percentage"})
    value = Money(metadata={"example": "10.00"})
    min_subtotal = Money(allow_none=True, metadata={"example": "20.00"})
    starts_at = Timestamp(allow_none=True)
    ends_at = Timestamp(allow_none=True, metadata={"example": "2036-12-31T23:59:59+00:00"})
    usage_limit = ma.fields.Integer(allow_none=True, metadata={"example": 1000})
    per_customer_limit = ma.fields.Integer(allow_none=True, metadata={"example": 1})
    used = ma.fields.Integer(
        metadata={
            "description": "Orders holding it (a cancelled one gives its use back)",
            "example": 42,
        }
    )
    active = ma.fields.Boolean(metadata={"example": True})
    created_at = Timestamp()
    updated_at = Timestamp()


DiscountPageSchema = page_of(DiscountSchema)
