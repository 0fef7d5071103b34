import marshmallow as ma
from marshmallow import validate

from app.api.addresses.schemas import ADDRESS_EXAMPLE, AddressFieldsSchema
from app.api.checkout.schemas import ShippingMethodRefSchema, TotalsSchema
from app.api.fields import MAX_ID, Money, QueryBoolean, QueryInteger, Rate, Timestamp
from app.api.pagination import PaginationArgsSchema, page_of
from app.api.payments.schemas import PaymentSchema
from app.api.schemas import ResponseSchema
from app.ordering.bodies import order_body
from app.platform.models import OrderStatus


class OrderItemSchema(ResponseSchema):
    product_id = ma.fields.Integer(allow_none=True, metadata={"example": 1})
    product_name = ma.fields.String(metadata={"example": "Coffee mug"})
    quantity = ma.fields.Integer(metadata={"example": 3})
    unit_price = Money()
    line_total = Money(metadata={"example": "59.97"})


STATUSES = [status.value for status in OrderStatus]
ORDER_STATUS_DOC = {"enum": STATUSES, "example": OrderStatus.PENDING.value}


class OrderStatusField(ma.fields.String):
    """An OrderStatus, given by its value (anything else: 422 from OneOf)."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.OneOf(STATUSES), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return OrderStatus(text) if text in STATUSES else text


class StatusChangeSchema(ResponseSchema):
    status = ma.fields.String(metadata=ORDER_STATUS_DOC)
    at = Timestamp()


class OrderSummarySchema(ResponseSchema):
    id = ma.fields.Integer(metadata={"example": 1})
    status = ma.fields.String(metadata=ORDER_STATUS_DOC)
    total = Money(metadata={"example": "59.97"})
    created_at = Timestamp()
    item_count = ma.fields.Integer(metadata={"example": 3})


class AdminOrderSummarySchema(OrderSummarySchema):
    user_id = ma.fields.Integer(metadata={"example": 7})


class OrderSchema(ResponseSchema):
    id = ma.fields.Integer(metadata={"example": 1})
    status = ma.fields.String(metadata=ORDER_STATUS_DOC)
    total = Money(metadata={"example": "63.73", "description": "totals.total"})
    totals = ma.fields.Nested(TotalsSchema)
    tax_rate = Rate()
    shipping_address = ma.fields.Nested(
        AddressFieldsSchema,
        allow_none=True,
        metadata={
            "description": "A copy: editing the address book does not change it",
            "example": ADDRESS_EXAMPLE,
        },
    )
    shipping_method = ma.fields.Nested(
        ShippingMethodRefSchema,
        allow_none=True,
        metadata={
            "description": "null: a pickup order; id null once the method is deleted",
            "example": {"id": 1, "name": "Standard (3-5 days)"},
        },
    )
    discount_code = ma.fields.String(allow_none=True, metadata={"example": "WELCOME10"})
    payment = ma.fields.Nested(PaymentSchema)
    created_at = Timestamp()
    items = ma.fields.List(ma.fields.Nested(OrderItemSchema))
    status_history = ma.fields.List(ma.fields.Nested(StatusChangeSchema))

    def dump(self, obj, *, many=None):
        """The fields above, written out by order_body, which the order events carry too:
        one writer of the body. tests/test_checkout.py checks both give the same body."""
        many = self.many if many is None else many
        if type(self) is not OrderSchema or self.only or self.exclude:
            return super().dump(obj, many=many)
        return [order_body(order) for order in obj] if many else order_body(obj)


class OrderStatusUpdateSchema(ma.Schema):
    status = OrderStatusField(required=True, metadata={"example": "paid"})


class AdminOrderQueryArgsSchema(PaginationArgsSchema):
    status = OrderStatusField(metadata={"example": "pending"})
    user_id = QueryInteger(validate=validate.Range(min=1, max=MAX_ID), metadata={"example": 1})
    flagged = QueryBoolean(
        metadata={
            "description": "true: only orders whose payment is flagged (`payment.flagged`); "
            "false: only the others",
            "example": True,
        }
    )


OrderSummaryPageSchema = page_of(OrderSummarySchema)
AdminOrderSummaryPageSchema = page_of(AdminOrderSummarySchema)
