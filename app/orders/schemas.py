import marshmallow as ma

from app.fields import Money
from app.pagination import page_of


class OrderItemSchema(ma.Schema):
    product_id = ma.fields.Integer(allow_none=True, metadata={"example": 1})
    product_name = ma.fields.String(metadata={"example": "Coffee mug"})
    quantity = ma.fields.Integer(metadata={"example": 3})
    unit_price = Money()
    line_total = Money(metadata={"example": "59.97"})


class OrderSummarySchema(ma.Schema):
    id = ma.fields.Integer(metadata={"example": 1})
    status = ma.fields.String(metadata={"example": "pending"})
    total = Money(metadata={"example": "59.97"})
    created_at = ma.fields.AwareDateTime()
    item_count = ma.fields.Integer(metadata={"example": 3})


class OrderSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"example": 1})
    status = ma.fields.String(metadata={"example": "pending"})
    total = Money(metadata={"example": "59.97"})
    created_at = ma.fields.AwareDateTime()
    items = ma.fields.List(ma.fields.Nested(OrderItemSchema))


OrderSummaryPageSchema = page_of(OrderSummarySchema)
