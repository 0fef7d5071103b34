"""The one writer of an order's status and payment status.

Every change to `orders.status` and `orders.payment_status` is made here, in the caller's
transaction, each with its event (order_body's copy of the order): a move along the
lifecycle (`move`, guarded on the status read, so of two concurrent moves exactly one
happens), a payment failed, refunded, or received too late. Cancelling puts the stock and
the discount code's use back and queues the provider's refund or void (payment_actions, made
by the worker after the commit, app.ordering.payments).
"""

from decimal import Decimal

from flask import current_app
from sqlalchemy import insert, update

from app.catalog import inventory
from app.ordering.bodies import order_body
from app.outbox import events
from app.platform.db import changed, db
from app.platform.models import (
    EventType,
    Order,
    OrderStatus,
    OrderStatusChange,
    PaymentAction,
    PaymentActionKind,
    PaymentStatus,
    ProviderName,
)
from app.settings import discounts

TRANSITIONS: dict[str, set[OrderStatus]] = {
    OrderStatus.PENDING: {OrderStatus.PAID, OrderStatus.CANCELLED},
    OrderStatus.PAID: {OrderStatus.SHIPPED, OrderStatus.CANCELLED},
    OrderStatus.SHIPPED: {OrderStatus.DELIVERED},
    OrderStatus.DELIVERED: set(),
    OrderStatus.CANCELLED: set(),
}
STATUS_EVENTS = {
    OrderStatus.PAID: EventType.ORDER_PAID,
    OrderStatus.SHIPPED: EventType.ORDER_SHIPPED,
    OrderStatus.DELIVERED: EventType.ORDER_DELIVERED,
    OrderStatus.CANCELLED: EventType.ORDER_CANCELLED,
}
UNPAID = (PaymentStatus.REQUIRES_PAYMENT, PaymentStatus.FAILED)


def emit_order(event_type: EventType, order: Order) -> None:
    """The event's `data.order` is the order as GET /api/orders/<id> returns it, less the
    payment's client secret (only the customer's client needs it)."""
    data = order_body(order)
    data["payment"]["client_secret"] = None
    events.emit(event_type, {"order": data})


def opening_payment(total: Decimal) -> dict:
    """The payment columns an order is written with, by the configured provider."""
    config = current_app.config
    return {
        "payment_provider": config["PAYMENT_PROVIDER"],
        "payment_status": PaymentStatus.NOT_REQUIRED
        if total == 0
        else PaymentStatus.REQUIRES_PAYMENT,
        "payment_currency": config["STORE_CURRENCY"],
    }


def starts_after_commit(order: Order) -> bool:
    """Whether the order's payment is made at its provider once the order has committed:
    its reference and client secret come then."""
    return (
        order.payment_status == PaymentStatus.REQUIRES_PAYMENT
        and order.payment_provider != ProviderName.MANUAL
    )


def staff_may_mark_paid(order: Order) -> bool:
    """Staff say an order is paid only where the store has no provider to hear it from: a
    manual payment, or nothing to pay. A provider's payment is paid by its verified word."""
    return (
        order.payment_provider == ProviderName.MANUAL
        or order.payment_status == PaymentStatus.NOT_REQUIRED
    )


def move(order: Order, new_status: OrderStatus, *, changed_by: int | None) -> bool:
    """The move itself, in the caller's transaction: one UPDATE guarded on the status read,
    so of two concurrent moves (a payment and an expiry, say) exactly one happens; False
    for the loser. Every move writes its history row and event."""
    current = order.status
    if new_status not in TRANSITIONS[current]:
        return False
    session = db.session
    moved = changed(
        session.execute(
            update(Order)
            .where(Order.id == order.id, Order.status == current)
            .values(status=new_status)
            .execution_options(synchronize_session=False)
        )
    )
    if moved != 1:
        return False
    if new_status == OrderStatus.CANCELLED:
        lines = [(item.product_id, item.quantity) for item in order.items]
        inventory.put_back(lines, order_id=order.id, user_id=changed_by)
        if order.discount_id is not None:
            discounts.release(order.id)
    _payment_follows(order, new_status)
    session.add(OrderStatusChange(order_id=order.id, status=new_status, changed_by=changed_by))
    session.flush()
    session.refresh(order)  # the status and history that GET will show
    emit_order(STATUS_EVENTS[new_status], order)
    return True


def _payment_follows(order: Order, new_status: OrderStatus) -> None:
    """The payment side of a move: paid is paid; a cancelled payment goes back (refunded
    when it was taken, voided when it was only opened at the provider)."""
    if new_status == OrderStatus.PAID and order.payment_status != PaymentStatus.NOT_REQUIRED:
        order.payment_status = PaymentStatus.SUCCEEDED
    elif new_status == OrderStatus.CANCELLED:
        if order.payment_status == PaymentStatus.SUCCEEDED:
            queue_action(order.id, PaymentActionKind.REFUND)
        elif order.payment_reference is not None:
            queue_action(order.id, PaymentActionKind.CANCEL)


def payment_failed(order: Order) -> None:
    """The provider says an attempt to pay failed: a pending order stays payable."""
    if order.status != OrderStatus.PENDING:
        return
    order.payment_status = PaymentStatus.FAILED
    db.session.flush()
    emit_order(EventType.PAYMENT_FAILED, order)


def paid_too_late(order: Order) -> bool:
    """Money arrived for an order cancelled meanwhile (expired, say): it is taken as received
    and a refund queued, once however many events report it (guarded: of several at once on
    several workers, one wins). True for the one that queued it."""
    refundable = changed(
        db.session.execute(
            update(Order)
            .where(
                Order.id == order.id,
                Order.status == OrderStatus.CANCELLED,
                Order.payment_status.in_(UNPAID),
            )
            .values(payment_status=PaymentStatus.SUCCEEDED)
            .execution_options(synchronize_session=False)
        )
    )
    if refundable == 1:
        queue_action(order.id, PaymentActionKind.REFUND)
    return refundable == 1


def payment_refunded(order: Order, refund_reference: str) -> None:
    """The provider refunded the order's payment."""
    order.payment_status = PaymentStatus.REFUNDED
    order.refund_reference = refund_reference
    db.session.flush()
    emit_order(EventType.ORDER_REFUNDED, order)


def queue_action(order_id: int, kind: PaymentActionKind) -> None:
    """A provider call the worker makes after the commit (app.ordering.payments.perform)."""
    db.session.execute(insert(PaymentAction).values(order_id=order_id, kind=kind))
