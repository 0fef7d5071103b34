import marshmallow as ma
from marshmallow import validate

from app.fields import Money, Timestamp, no_control_characters, visible_text
from app.pagination import PaginationArgsSchema, page_of
from app.products.services import MAX_STOCK


class ProductSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True, metadata={"example": 1})
    name = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), visible_text],
        metadata={"example": "Coffee mug"},
    )
    description = ma.fields.String(
        load_default="",
        validate=[validate.Length(max=10_000), no_control_characters],
        metadata={"example": "Stoneware, 350 ml."},
    )
    price = Money(required=True)
    stock = ma.fields.Integer(
        strict=True,
        load_default=0,
        validate=validate.Range(min=0, max=MAX_STOCK),
        metadata={"example": 25},
    )
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class ProductInputSchema(ProductSchema):
    """What a request sends: as ProductSchema, but the price may also be a JSON number."""

    price = Money(required=True, request=True)


ProductPageSchema = page_of(ProductSchema)


class StockAdjustmentSchema(ma.Schema):
    delta = ma.fields.Integer(
        required=True,
        strict=True,
        validate=[
            validate.Range(min=-MAX_STOCK, max=MAX_STOCK),
            validate.NoneOf([0], error="Must not be 0."),
        ],
        metadata={
            "description": "Units to add (negative to remove); never 0",
            "not": {"enum": [0]},
            "example": 10,
        },
    )
    reason = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), visible_text],
        metadata={"example": "restock from supplier"},
    )


class StockMovementSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"example": 12})
    product_id = ma.fields.Integer(metadata={"example": 1})
    delta = ma.fields.Integer(metadata={"example": -2})
    reason = ma.fields.String(metadata={"example": "order placed"})
    order_id = ma.fields.Integer(allow_none=True, metadata={"example": 5})
    user_id = ma.fields.Integer(allow_none=True, metadata={"example": None})
    created_at = Timestamp()


class LowStockArgsSchema(PaginationArgsSchema):
    threshold = ma.fields.Integer(
        load_default=5, validate=validate.Range(min=0, max=MAX_STOCK), metadata={"example": 5}
    )


StockMovementPageSchema = page_of(StockMovementSchema)
