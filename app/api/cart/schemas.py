import marshmallow as ma
from marshmallow import validate

from app.api.fields import Money, Timestamp, id_field, no_control_characters
from app.api.schemas import ResponseSchema
from app.cart.services import MAX_LINE_QUANTITY


class CartLineSchema(ResponseSchema):
    product_id = ma.fields.Integer(metadata={"example": 1})
    name = ma.fields.String(metadata={"example": "Coffee mug"})
    unit_price = Money()
    quantity = ma.fields.Integer(metadata={"example": 3})
    line_total = Money(computed=True, metadata={"example": "59.97"})


class CartSchema(ResponseSchema):
    items = ma.fields.List(ma.fields.Nested(CartLineSchema))
    total = Money(computed=True, metadata={"example": "59.97"})
    item_count = ma.fields.Integer(metadata={"description": "Sum of quantities", "example": 3})


class CartAddSchema(ma.Schema):
    product_id = id_field(required=True, metadata={"example": 1})
    quantity = ma.fields.Integer(
        load_default=1,
        strict=True,
        validate=validate.Range(min=1, max=MAX_LINE_QUANTITY),
        metadata={"example": 2},
    )


class CartQuantitySchema(ma.Schema):
    quantity = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=MAX_LINE_QUANTITY),
        metadata={"description": "0 removes the line", "example": 3},
    )


# The token of the examples (the document's store has a guest cart with it).
CART_TOKEN_EXAMPLE = "q3T0o5l0bM3C4B6cV9gk1cI5x2Hq8oNn0fJrYw7VtQs"


class GuestCartSchema(ResponseSchema):
    cart_token = ma.fields.String(
        metadata={
            "description": "Send it as X-Cart-Token; shown only once",
            "example": CART_TOKEN_EXAMPLE,
        }
    )
    expires_at = Timestamp(metadata={"example": "2026-12-31T10:00:00+00:00"})


class CartMergeSchema(ma.Schema):
    cart_token = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), no_control_characters],
        metadata={"description": "The guest cart's token", "example": CART_TOKEN_EXAMPLE},
    )


class AdjustmentSchema(ResponseSchema):
    product_id = ma.fields.Integer(metadata={"example": 1})
    requested = ma.fields.Integer(metadata={"example": 5})
    added = ma.fields.Integer(metadata={"description": "0: none could be added", "example": 3})


class MergedCartSchema(CartSchema):
    adjustments = ma.fields.List(
        ma.fields.Nested(AdjustmentSchema),
        metadata={"description": "The guest lines that could not be added in full"},
    )
