"""The customer's emails about an order: confirmation (order.created), payment received
(order.paid), payment failed (payment.failed), cancellation (order.cancelled) and refund
(order.refunded), written from the event's copy of the order; the subject names the order."""

from sqlalchemy import select

from app.platform.db import db
from app.platform.models import Event, EventType, Order, User

SUBJECTS = {
    EventType.ORDER_CREATED: "Order {id} confirmed",
    EventType.ORDER_PAID: "Payment received for order {id}",
    EventType.PAYMENT_FAILED: "Payment failed for order {id}",
    EventType.ORDER_CANCELLED: "Order {id} cancelled",
    EventType.ORDER_REFUNDED: "Order {id} refunded",
}
OPENINGS = {
    EventType.ORDER_CREATED: "Thank you for your order {id}. We have received it:",
    EventType.ORDER_PAID: "We have received your payment for order {id}:",
    EventType.PAYMENT_FAILED: (
        "Your payment for order {id} did not go through. The order stays open: "
        "you may pay it again before it expires. It holds:"
    ),
    EventType.ORDER_CANCELLED: "Your order {id} has been cancelled. It held:",
    EventType.ORDER_REFUNDED: "Your payment for order {id} has been refunded. The order held:",
}


def order_email(event: Event) -> tuple[str, str, str] | None:
    """(recipient, subject, body) for an event the customer hears about, else None."""
    if event.type not in SUBJECTS:
        return None
    order = event.data["order"]
    recipient = db.session.scalar(
        select(User.email).join(Order, Order.user_id == User.id).where(Order.id == order["id"])
    )
    if recipient is None:
        return None
    lines = [
        f"  {item['quantity']} x {item['product_name']} at {item['unit_price']}"
        f" = {item['line_total']}"
        for item in order["items"]
    ]
    totals = order["totals"]
    breakdown = [f"Subtotal: {totals['subtotal']}"]
    if totals["discount"] != "0.00":
        breakdown.append(f"Discount ({order['discount_code']}): -{totals['discount']}")
    if order["shipping_method"] is not None:
        breakdown.append(f"Shipping ({order['shipping_method']['name']}): {totals['shipping']}")
    breakdown.append(f"Tax: {totals['tax']}")
    body = "\n".join(
        [
            OPENINGS[EventType(event.type)].format(id=order["id"]),
            "",
            *lines,
            "",
            *breakdown,
            f"Total: {order['total']}",
            f"Status: {order['status']}",
        ]
    )
    return recipient, SUBJECTS[EventType(event.type)].format(id=order["id"]), body + "\n"
