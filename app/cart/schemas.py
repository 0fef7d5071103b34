import marshmallow as ma
from marshmallow import validate

from app.cart.services import MAX_LINE_QUANTITY
from app.fields import Money, id_field
from app.schemas import ResponseSchema


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
