import marshmallow as ma
from marshmallow import validate

from app.api.addresses.schemas import ADDRESS_EXAMPLE, AddressFieldsSchema, AddressInputSchema
from app.api.fields import Money, Rate, WholeNested, id_field, no_control_characters
from app.api.problems import PROBLEM_MIMETYPE, ProblemSchema
from app.api.schemas import ResponseSchema


class CheckoutInputSchema(ma.Schema):
    """What POST /api/checkout/preview and POST /api/orders take; all optional. No address
    and no method: a pickup order (no shipping, the store country's tax)."""

    OPTIONAL_BODY = True

    shipping_address_id = id_field(
        metadata={"description": "An address of the user's book", "example": 1}
    )
    shipping_address = WholeNested(
        AddressInputSchema,
        metadata={
            "description": "An address given in full instead",
            "example": ADDRESS_EXAMPLE,
        },
    )
    shipping_method_id = id_field(
        metadata={
            "description": "Required with an address (GET /api/shipping-methods)",
            "example": 1,
        }
    )
    discount_code = ma.fields.String(
        validate=[validate.Length(min=1, max=50), no_control_characters],
        metadata={"example": "WELCOME10"},
    )
    expected_total = Money(
        request=True,
        metadata={
            "description": "The total the customer saw (the preview's): a different total is "
            "a 409 with the current totals instead of a charge",
            "example": "58.50",
        },
    )

    @ma.validates_schema
    def one_address(self, data, **_kwargs):
        if "shipping_address_id" in data and "shipping_address" in data:
            raise ma.ValidationError(
                "Give shipping_address_id or shipping_address, not both.", "shipping_address"
            )


# The body as a whole (the fields' examples together would name two addresses): address 1
# of the book, method 1 and the demo code of the seed data.
CHECKOUT_EXAMPLE = {"shipping_address_id": 1, "shipping_method_id": 1, "discount_code": "WELCOME10"}


class TotalsSchema(ResponseSchema):
    """total = subtotal - discount + shipping + tax; tax is rate x (subtotal - discount +
    shipping), rounded half-up to the cent once per order."""

    subtotal = Money(computed=True, metadata={"example": "59.97"})
    discount = Money(computed=True, metadata={"example": "6.00"})
    shipping = Money(computed=True, metadata={"example": "4.90"})
    tax = Money(computed=True, metadata={"example": "4.86"})
    total = Money(computed=True, metadata={"example": "63.73"})


class ShippingMethodRefSchema(ResponseSchema):
    id = ma.fields.Integer(allow_none=True, metadata={"example": 1})
    name = ma.fields.String(metadata={"example": "Standard (3-5 days)"})


class PreviewLineSchema(ResponseSchema):
    product_id = ma.fields.Integer(metadata={"example": 1})
    product_name = ma.fields.String(metadata={"example": "Coffee mug"})
    quantity = ma.fields.Integer(metadata={"example": 3})
    unit_price = Money()
    line_total = Money(computed=True, metadata={"example": "59.97"})


class CheckoutPreviewSchema(ResponseSchema):
    items = ma.fields.List(ma.fields.Nested(PreviewLineSchema))
    totals = ma.fields.Nested(TotalsSchema)
    tax_rate = Rate()
    shipping_address = ma.fields.Nested(
        AddressFieldsSchema, allow_none=True, metadata={"example": ADDRESS_EXAMPLE}
    )
    shipping_method = ma.fields.Nested(
        ShippingMethodRefSchema,
        allow_none=True,
        metadata={"example": {"id": 1, "name": "Standard (3-5 days)"}},
    )
    discount_code = ma.fields.String(allow_none=True, metadata={"example": "WELCOME10"})


class ChangedLineSchema(ResponseSchema):
    product_id = ma.fields.Integer(metadata={"example": 1})
    product_name = ma.fields.String(metadata={"example": "Coffee mug"})
    previous_price = Money(metadata={"example": "19.99"})
    unit_price = Money(metadata={"example": "21.00"})


class CheckoutConflictSchema(ProblemSchema):
    """An empty cart, a line out of stock, or a total other than `expected_total`: then
    `totals` and `changed_lines` say what changed."""

    OPTIONAL = ("errors", "totals", "changed_lines")

    totals = ma.fields.Nested(TotalsSchema)
    changed_lines = ma.fields.List(
        ma.fields.Nested(ChangedLineSchema),
        metadata={"description": "Lines whose price changed since they were put in the cart"},
    )


CHECKOUT_CONFLICT = {
    "schema": CheckoutConflictSchema,
    "content_type": PROBLEM_MIMETYPE,
    "description": "Empty cart, not enough stock for a line, or the total is not "
    "expected_total (the body then carries the current totals and the changed lines)",
    "example": {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "The total is now 65.83, not 63.73: review the new totals and place the "
        "order again.",
        "totals": {
            "subtotal": "61.98",
            "discount": "6.20",
            "shipping": "4.90",
            "tax": "5.15",
            "total": "65.83",
        },
        "changed_lines": [
            {
                "product_id": 1,
                "product_name": "Coffee mug",
                "previous_price": "19.99",
                "unit_price": "20.66",
            }
        ],
    },
}
