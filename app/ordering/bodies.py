"""An order's JSON body, written out: GET /api/orders/<id> answers it (OrderSchema documents
it and uses it) and every order event carries it (`data.order`). tests/test_checkout.py checks
that it agrees field for field with OrderSchema's declared fields."""

from decimal import Decimal

from app.platform.models import Order
from app.platform.money import RATE_PLACES, money_text

# The snapshot's fields, in the order the document lists them.
ADDRESS_KEYS = ("name", "line1", "line2", "city", "region", "postal_code", "country", "phone")


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else money_text(amount)


def order_body(order: Order) -> dict:
    """The body of an order (its items and status history loaded)."""
    address = order.shipping_address
    if address is not None:
        address = {key: address[key] for key in ADDRESS_KEYS if key in address}
    return {
        "id": order.id,
        "status": str(order.status),
        "total": money_text(order.total),
        "totals": {name: money_text(amount) for name, amount in order.totals.items()},
        "tax_rate": format(Decimal(order.tax_rate).quantize(RATE_PLACES), "f"),
        "shipping_address": (
            None
            if address is None
            else {key: address[key] for key in ADDRESS_KEYS if key in address}
        ),
        "shipping_method": order.shipping_method,
        "discount_code": order.discount_code,
        "payment": {
            **order.payment,
            "provider": str(order.payment_provider),
            "status": str(order.payment_status),
            "amount": _money(order.total),
        },
        "created_at": order.created_at.isoformat(),
        "items": [
            {
                "product_id": item.product_id,
                "product_name": item.product_name,
                "quantity": item.quantity,
                "unit_price": money_text(item.unit_price),
                "line_total": money_text(item.line_total),
            }
            for item in order.items
        ],
        "status_history": [
            {"status": str(change.status), "at": change.at.isoformat()}
            for change in order.status_history
        ],
    }
