"""The customer's emails about an order: confirmation (order.created) and cancellation
(order.cancelled), written from the event's copy of the order; the subject names the order."""

from sqlalchemy import select

from app.db import db
from app.models import Event, EventType, Order, User

SUBJECTS = {
    EventType.ORDER_CREATED: "Order {id} confirmed",
    EventType.ORDER_CANCELLED: "Order {id} cancelled",
}
OPENINGS = {
    EventType.ORDER_CREATED: "Thank you for your order {id}. We have received it:",
    EventType.ORDER_CANCELLED: "Your order {id} has been cancelled. It held:",
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
    body = "\n".join(
        [
            OPENINGS[event.type].format(id=order["id"]),
            "",
            *lines,
            "",
            f"Total: {order['total']}",
            f"Status: {order['status']}",
        ]
    )
    return recipient, SUBJECTS[event.type].format(id=order["id"]), body + "\n"
