"""Order placement, lifecycle and lookup.

Placement reads what the body names first (address, method, tax rate: ordering.checkout),
then runs one transaction: the cart is emptied, catalog.inventory takes the stock (guarded
UPDATEs, in product-id order), the lines are priced at the prices the stock was taken at
(checkout.price), a discount code's use is claimed (settings.discounts), the order is
written with its breakdown and snapshots, and the order.created event with it (the outbox).
Any failure rolls all of it back. Status changes go through ordering.status, each with its
event; a cancellation gives the stock and the code's use back.
"""

from datetime import timedelta

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import selectinload, undefer

from app.accounts.permissions import require
from app.audit import services as audit
from app.catalog import inventory
from app.ordering import checkout, payments, status
from app.ordering.counters import CHECKOUT_CONFLICTS, ORDERS_PLACED
from app.platform.db import after_commit, db, transaction, utcnow
from app.platform.errors import Conflict, EmptyCart, NotFound, OrderTooLarge
from app.platform.models import (
    AuditAction,
    CartItem,
    EventType,
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusChange,
    Permission,
    User,
)
from app.platform.money import MAX_MONEY, RATE_PLACES
from app.platform.pages import paginate
from app.settings import discounts

EXPIRY_BATCH = 100
# Staff who find any order (a customer finds only his own).
ORDER_STAFF = {Permission.ORDERS_READ, Permission.ORDERS_WRITE}


def place_order(user_id: int, options: dict) -> Order:
    try:
        return _place_order(user_id, checkout.resolve(user_id, options))
    except Conflict as refused:
        CHECKOUT_CONFLICTS.labels(reason=type(refused).__name__).inc()
        raise


def _place_order(user_id: int, plan: checkout.Plan) -> Order:
    """A fixed number of statements plus one UPDATE per line (and a few for a discount
    code): the cart is read as it is emptied (with the tax rate), lines, history and ledger
    rows go in one multi-row INSERT each, and the order returned is built from what was
    written."""
    now = utcnow()
    with transaction() as session:
        # Emptied first; any failure below rolls it back with the rest.
        rows = session.execute(
            delete(CartItem)
            .where(CartItem.user_id == user_id)
            .returning(
                CartItem.product_id,
                CartItem.quantity,
                CartItem.price_when_added,
                plan.tax_rate_query().label("tax_rate"),
            )
        ).all()
        if not rows:
            raise EmptyCart("The cart is empty: add products before placing an order.")
        previous_prices = {row.product_id: row.price_when_added for row in rows}
        tax_rate = rows[0].tax_rate.quantize(RATE_PLACES)

        taken = inventory.take([(row.product_id, row.quantity) for row in rows])
        lines = [
            checkout.Line(*line, previous_price=previous_prices[line.product_id]) for line in taken
        ]
        totals, discount = checkout.price(plan, lines, tax_rate, user_id, now)
        # Prices may have risen since the cart was filled; the column holds 12 digits.
        if totals.total > MAX_MONEY:
            raise OrderTooLarge(totals.total)
        order = Order(
            user_id=user_id,
            status=OrderStatus.PENDING,
            subtotal=totals.subtotal,
            discount_total=totals.discount,
            shipping_total=totals.shipping,
            tax_total=totals.tax,
            total=totals.total,
            tax_rate=tax_rate,
            shipping_address=plan.address,
            shipping_method_id=None if plan.method is None else plan.method.id,
            shipping_method_name=None if plan.method is None else plan.method.name,
            discount_id=None if discount is None else discount.id,
            discount_code=None if discount is None else discount.code,
            created_at=now,
            **status.opening_payment(totals.total),
        )
        columns = {column.key: getattr(order, column.key) for column in Order.__table__.c}
        del columns["id"]
        order.id = session.execute(insert(Order).values(columns).returning(Order.id)).scalar_one()
        if discount is not None:
            discounts.redeem(discount, user_id, order.id)
        order.items = [
            OrderItem(
                product_id=line.product_id,
                product_name=line.name,
                unit_price=line.unit_price,
                quantity=line.quantity,
            )
            for line in taken
        ]
        session.execute(insert(OrderItem), [_item_row(order.id, item) for item in order.items])
        # The first history row is the database's (a trigger on orders, see migrations).
        order.status_history = [
            OrderStatusChange(status=OrderStatus.PENDING, at=now, changed_by=user_id)
        ]
        status.emit_order(EventType.ORDER_CREATED, order)
        inventory.record_taken(taken, order.id)
        # Counted once committed: a caller's transaction (an Idempotency-Key) may still undo it.
        after_commit(ORDERS_PLACED.inc)
        # The provider's payment, once the order exists for good (no lock held meanwhile).
        after_commit(lambda: payments.start(order))
    return order


def _item_row(order_id: int, item: OrderItem) -> dict:
    return {
        "order_id": order_id,
        "product_id": item.product_id,
        "product_name": item.product_name,
        "unit_price": item.unit_price,
        "quantity": item.quantity,
    }


def get_order(order_id: int, user: User) -> Order:
    """The order, for its owner or staff who read or change orders; anyone else gets the
    same 404 as for a missing one."""
    order = db.session.get(
        Order, order_id, options=[selectinload(Order.items), selectinload(Order.status_history)]
    )
    if order is None or (order.user_id != user.id and not user.permissions & ORDER_STAFF):
        raise NotFound(f"Order {order_id} was not found.")
    return order


def change_status(
    order_id: int, new_status: OrderStatus, actor: User, *, by_staff: bool = True
) -> Order:
    """Move an order along the lifecycle. Its owner cancels it; anyone else needs
    orders:write, and payments:refund to cancel a paid order (its payment goes back). A
    staff move (`by_staff`, or on another user's order) is audited."""
    with transaction():
        order = get_order(order_id, actor)
        current = order.status
        if order.user_id != actor.id:
            by_staff = True
            require(actor, Permission.ORDERS_WRITE)
            if current == OrderStatus.PAID and new_status == OrderStatus.CANCELLED:
                require(actor, Permission.PAYMENTS_REFUND)
        if new_status not in status.TRANSITIONS[current]:
            raise Conflict(f"Order {order_id} is {current}: it cannot become {new_status}.")
        if new_status == OrderStatus.PAID and not status.staff_may_mark_paid(order):
            raise Conflict(
                f"Order {order_id} is paid through {order.payment_provider}: it becomes paid "
                "when the provider reports the payment, not by hand."
            )
        if not status.move(order, new_status, changed_by=actor.id):
            raise Conflict(f"Order {order_id} changed meanwhile; reload it and try again.")
        if by_staff:
            audit.record(
                AuditAction.ORDER_CHANGE_STATUS,
                order_id,
                {"status": current},
                {"status": new_status.value},
            )
    return order


def expire_unpaid() -> int:
    """Cancel the orders left unpaid past ORDER_PAYMENT_TIMEOUT_SECONDS (the worker's, every
    minute); their stock goes back. Returns how many were cancelled."""
    timeout = timedelta(seconds=current_app.config["ORDER_PAYMENT_TIMEOUT_SECONDS"])
    due = db.session.scalars(
        select(Order.id)
        .where(
            Order.status == OrderStatus.PENDING,
            Order.payment_status.in_(status.UNPAID),
            Order.created_at < utcnow() - timeout,
        )
        .order_by(Order.id)
        .limit(EXPIRY_BATCH)
    ).all()
    expired = 0
    for order_id in due:
        with transaction() as session:
            order = session.get_one(Order, order_id, populate_existing=True)
            # Read again inside the write transaction: paid meanwhile is not expired.
            if order.status == OrderStatus.PENDING:
                expired += status.move(order, OrderStatus.CANCELLED, changed_by=None)
    return expired


def cancel_order(order_id: int, actor: User) -> Order:
    return change_status(order_id, OrderStatus.CANCELLED, actor, by_staff=False)


def order_history(user_id: int, page: int, per_page: int) -> Pagination:
    return list_orders(page, per_page, user_id=user_id)


def list_orders(
    page: int,
    per_page: int,
    *,
    user_id: int | None = None,
    status: OrderStatus | None = None,
    flagged: bool | None = None,
) -> Pagination:
    stmt = select(Order).options(undefer(Order.item_count))
    if user_id is not None:
        stmt = stmt.where(Order.user_id == user_id)
    if flagged is not None:
        stmt = stmt.where(
            Order.payment_flagged.is_not(None) if flagged else Order.payment_flagged.is_(None)
        )
    if status is not None:
        stmt = stmt.where(Order.status == status)
    stmt = stmt.order_by(Order.created_at.desc(), Order.id.desc())
    return paginate(stmt, page, per_page)
