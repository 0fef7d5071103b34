"""Order placement, lifecycle and lookup.

Placement is one transaction: the cart is emptied, app.inventory takes the stock (guarded
UPDATEs, in product-id order), the lines are snapshotted into the order with the prices the
stock was taken at, and the order.created event is written (app.events). Any failure rolls
all of it back. Every status change writes its event (order.paid, ...) the same way.
"""

from decimal import Decimal

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import selectinload, undefer

from app import events, inventory
from app.db import after_commit, db, transaction, utcnow
from app.errors import Conflict, EmptyCart, NotFound, OrderTooLarge
from app.fields import MAX_MONEY
from app.inventory import Taken
from app.metrics import CHECKOUT_CONFLICTS, ORDERS_PLACED
from app.models import (
    CartItem,
    EventType,
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusChange,
    User,
)
from app.orders.schemas import OrderSchema
from app.pagination import paginate

TRANSITIONS = {
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


def _emit(event_type: EventType, order: Order) -> None:
    """The event's `data.order` is the order exactly as GET /api/orders/<id> returns it."""
    events.emit(event_type, {"order": OrderSchema().dump(order)})


def place_order(user_id: int) -> Order:
    try:
        return _place_order(user_id)
    except Conflict as refused:
        CHECKOUT_CONFLICTS.labels(reason=type(refused).__name__).inc()
        raise


def _place_order(user_id: int) -> Order:
    """A fixed number of statements plus one UPDATE per line: the cart is read as it is
    emptied, lines, history and ledger rows go in one multi-row INSERT each, and the order
    returned is built from what was written (nothing is read back)."""
    now = utcnow()
    with transaction() as session:
        # Emptied first; any failure below rolls it back with the rest.
        lines = session.execute(
            delete(CartItem)
            .where(CartItem.user_id == user_id)
            .returning(CartItem.product_id, CartItem.quantity)
        ).all()
        if not lines:
            raise EmptyCart("The cart is empty: add products before placing an order.")

        def record_order(taken: list[Taken]) -> Order:
            items = [
                OrderItem(
                    product_id=line.product_id,
                    product_name=line.name,
                    unit_price=line.unit_price,
                    quantity=line.quantity,
                )
                for line in taken
            ]
            # Prices may have risen since the cart was filled; the column holds 12 digits.
            total = sum((item.line_total for item in items), Decimal("0.00"))
            if total > MAX_MONEY:
                raise OrderTooLarge(total)
            order_id = session.scalar(
                insert(Order)
                .values(user_id=user_id, status=OrderStatus.PENDING, total=total, created_at=now)
                .returning(Order.id)
            )
            session.execute(insert(OrderItem), [_item_row(order_id, item) for item in items])
            # The first history row is the database's (a trigger on orders, see migrations).
            opened = OrderStatusChange(status=OrderStatus.PENDING, at=now, changed_by=user_id)
            order = Order(
                id=order_id,
                user_id=user_id,
                status=OrderStatus.PENDING,
                total=total,
                created_at=now,
                items=items,
                status_history=[opened],
            )
            _emit(EventType.ORDER_CREATED, order)
            return order

        order = inventory.take(lines, record_order)
        # Counted once committed: a caller's transaction (an Idempotency-Key) may still undo it.
        after_commit(ORDERS_PLACED.inc)
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
    """The order, for its owner or an admin; anyone else gets the same 404 as a missing one."""
    order = db.session.get(
        Order, order_id, options=[selectinload(Order.items), selectinload(Order.status_history)]
    )
    if order is None or (order.user_id != user.id and not user.is_admin):
        raise NotFound(f"Order {order_id} was not found.")
    return order


def change_status(order_id: int, new_status: OrderStatus, actor: User) -> Order:
    """Move an order along the lifecycle; cancelling puts its stock back."""
    with transaction() as session:
        order = get_order(order_id, actor)
        current = order.status
        if new_status not in TRANSITIONS[current]:
            raise Conflict(f"Order {order_id} is {current}: it cannot become {new_status}.")
        # Guarded on the status we checked: of two concurrent changes, one wins.
        moved = session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == current)
            .values(status=new_status)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            raise Conflict(f"Order {order_id} changed meanwhile; reload it and try again.")
        if new_status == OrderStatus.CANCELLED:
            lines = [(item.product_id, item.quantity) for item in order.items]
            inventory.put_back(lines, order_id=order_id, user_id=actor.id)
        session.add(OrderStatusChange(order_id=order_id, status=new_status, changed_by=actor.id))
        session.flush()
        session.refresh(order)  # the status and history that GET will show
        _emit(STATUS_EVENTS[new_status], order)
    return order


def cancel_order(order_id: int, actor: User) -> Order:
    return change_status(order_id, OrderStatus.CANCELLED, actor)


def order_history(user_id: int, page: int, per_page: int) -> Pagination:
    return list_orders(page, per_page, user_id=user_id)


def list_orders(
    page: int, per_page: int, *, user_id: int | None = None, status: OrderStatus | None = None
) -> Pagination:
    stmt = select(Order).options(undefer(Order.item_count))
    if user_id is not None:
        stmt = stmt.where(Order.user_id == user_id)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    stmt = stmt.order_by(Order.created_at.desc(), Order.id.desc())
    return paginate(stmt, page, per_page)
