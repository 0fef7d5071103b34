"""Checkout pricing, the same for POST /api/checkout/preview and POST /api/orders.

`resolve` reads what the body names (address, shipping method) before anything is written;
`price` turns lines, at a tax rate (`Plan.tax_rate_query`), into the breakdown:

    subtotal = sum(unit price x quantity)
    discount = percentage of the subtotal rounded half-up to the cent, or a fixed amount,
               never more than the subtotal
    shipping = the method's price, 0 once subtotal - discount reaches its free_over
    tax      = rate x (subtotal - discount + shipping), rounded half-up once per order
    total    = subtotal - discount + shipping + tax

The rate is the shipping region's, else its country's, else 0; a pickup order (no address,
no method) pays the rate of STORE_COUNTRY. Prices are tax-exclusive.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask import current_app

from app.accounts import addresses
from app.cart.services import get_cart, user_cart
from app.platform.db import db, utcnow
from app.platform.errors import EmptyCart, NotFound, PriceChanged, ValidationFailed
from app.platform.models import Discount, ShippingMethod
from app.platform.money import round_money
from app.settings import discounts
from app.settings.shipping import price_for, ships_to
from app.settings.taxes import rate_for, rate_query

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Plan:
    """Where and how an order goes, as the request asked (read before any write)."""

    address: dict | None
    method: ShippingMethod | None
    tax_country: str
    tax_region: str | None
    discount_code: str | None
    expected_total: Decimal | None

    def tax_rate_query(self):
        """The rate as a scalar subquery: placing an order reads it in the statement that
        empties the cart (one statement fewer)."""
        return rate_query(self.tax_country, self.tax_region)

    def tax_rate(self) -> Decimal:
        return rate_for(self.tax_country, self.tax_region)


@dataclass(frozen=True)
class Line:
    product_id: int
    name: str
    unit_price: Decimal
    quantity: int
    previous_price: Decimal | None = None  # the price when it was put in the cart

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount: Decimal
    shipping: Decimal
    tax: Decimal
    total: Decimal

    def as_json(self) -> dict:
        return {name: format(value, "f") for name, value in vars(self).items()}


def resolve(user_id: int, options: dict) -> Plan:
    """The address and method the body names; a 422 naming the field when one is unknown,
    not the user's, inactive, or the method does not ship there."""
    address = _address(user_id, options)
    method = _method(options.get("shipping_method_id"), address)
    if address is None:
        country, region = current_app.config["STORE_COUNTRY"], None
    else:
        country, region = address["country"], address["region"]
    return Plan(
        address=address,
        method=method,
        tax_country=country,
        tax_region=region,
        discount_code=options.get("discount_code"),
        expected_total=options.get("expected_total"),
    )


def _address(user_id: int, options: dict) -> dict | None:
    if "shipping_address" in options:
        return addresses.snapshot(options["shipping_address"])
    address_id = options.get("shipping_address_id")
    if address_id is None:
        return None
    try:
        address = addresses.get_address(address_id, user_id)
    except NotFound:
        raise ValidationFailed(
            {"shipping_address_id": [f"There is no address {address_id} in your address book."]}
        ) from None
    return addresses.snapshot(address)


def _method(method_id: int | None, address: dict | None) -> ShippingMethod | None:
    if method_id is None:
        if address is not None:
            raise ValidationFailed(
                {
                    "shipping_method_id": [
                        "Required with a shipping address: see GET /api/shipping-methods"
                        f"?country={address['country']}."
                    ]
                }
            )
        return None
    method = db.session.get(ShippingMethod, method_id)
    if method is None or not method.active:
        raise ValidationFailed(
            {"shipping_method_id": [f"There is no active shipping method {method_id}."]}
        )
    if address is None:
        raise ValidationFailed(
            {"shipping_address": ["Required with a shipping method: where does it go?"]}
        )
    if not ships_to(method, address["country"]):
        raise ValidationFailed(
            {"shipping_method_id": [f"'{method.name}' does not ship to {address['country']}."]}
        )
    return method


def price(
    plan: Plan, lines: Sequence[Line], tax_rate: Decimal, user_id: int, now: datetime
) -> tuple[Totals, Discount | None]:
    """The breakdown of `lines` (module docstring), and the discount it applied; a 422
    naming discount_code when the code cannot be used on this order."""
    subtotal = sum((line.line_total for line in lines), ZERO)
    discount = None
    off = ZERO
    if plan.discount_code is not None:
        discount = discounts.usable(plan.discount_code, user_id, subtotal, now)
        off = discounts.amount_off(discount, subtotal)
    shipping = ZERO if plan.method is None else price_for(plan.method, subtotal - off)
    taxable = subtotal - off + shipping
    tax = round_money(taxable * tax_rate)
    totals = Totals(subtotal, off, shipping, tax, taxable + tax)
    if plan.expected_total is not None and totals.total != plan.expected_total:
        raise PriceChanged(plan.expected_total, totals.as_json(), changed_lines(lines))
    return totals, discount


def changed_lines(lines: Sequence[Line]) -> list[dict]:
    return [
        {
            "product_id": line.product_id,
            "product_name": line.name,
            "previous_price": format(line.previous_price, "f"),
            "unit_price": format(line.unit_price, "f"),
        }
        for line in lines
        if line.previous_price is not None and line.previous_price != line.unit_price
    ]


def preview(user_id: int, options: dict) -> dict:
    """What POST /api/orders would charge for the cart now; writes nothing."""
    plan = resolve(user_id, options)
    cart = get_cart(user_cart(user_id))
    if not cart.items:
        raise EmptyCart("The cart is empty: add products before checking out.")
    lines = [
        Line(item.product_id, item.name, item.unit_price, item.quantity, item.price_when_added)
        for item in cart.items
    ]
    tax_rate = plan.tax_rate()
    totals, discount = price(plan, lines, tax_rate, user_id, utcnow())
    return {
        "items": [
            {
                "product_id": line.product_id,
                "product_name": line.name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.line_total,
            }
            for line in lines
        ],
        "totals": vars(totals),
        "tax_rate": tax_rate,
        "shipping_address": plan.address,
        "shipping_method": None
        if plan.method is None
        else {"id": plan.method.id, "name": plan.method.name},
        "discount_code": None if discount is None else discount.code,
    }
