"""What must hold in the database after any run, however requests interleaved or crashed."""

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from app.catalog.inventory import MovementReason
from app.platform.models import (
    Discount,
    DiscountRedemption,
    Order,
    OrderItem,
    OrderStatusChange,
    Product,
    StockMovement,
)

PLACED, CANCELLED = MovementReason.ORDER_PLACED, MovementReason.ORDER_CANCELLED


def inventory_violations(session) -> list[str]:
    """Every way the stock, the ledger and the orders disagree; empty when all is well."""
    problems: list[str] = []
    ledger = dict(
        session.execute(
            select(StockMovement.product_id, func.sum(StockMovement.delta)).group_by(
                StockMovement.product_id
            )
        ).all()
    )
    for product_id, stock in session.execute(select(Product.id, Product.stock)):
        if stock < 0:
            problems.append(f"product {product_id}: stock {stock} below zero")
        if stock != (ledger.get(product_id) or 0):
            problems.append(
                f"product {product_id}: stock {stock} != ledger {ledger.get(product_id)}"
            )

    items_by_order = defaultdict(list)
    for item in session.scalars(select(OrderItem)):
        items_by_order[item.order_id].append(item)
    orders = {order.id: order for order in session.scalars(select(Order))}
    for order_id in items_by_order.keys() - orders.keys():
        problems.append(f"order items without their order {order_id}")

    movements = defaultdict(int)
    for order_id, product_id, reason, delta in session.execute(
        select(
            StockMovement.order_id,
            StockMovement.product_id,
            StockMovement.reason,
            func.sum(StockMovement.delta),
        )
        .where(StockMovement.order_id.is_not(None))
        .group_by(StockMovement.order_id, StockMovement.product_id, StockMovement.reason)
    ):
        movements[order_id, product_id, reason] = delta
    history = defaultdict(list)
    for change in session.scalars(select(OrderStatusChange).order_by(OrderStatusChange.id)):
        history[change.order_id].append(change.status)

    for order_id, order in orders.items():
        items = items_by_order.get(order_id, [])
        if not items:
            problems.append(f"order {order_id} has no items")
        if order.subtotal != sum((i.unit_price * i.quantity for i in items), Decimal("0.00")):
            problems.append(f"order {order_id}: subtotal {order.subtotal} != sum of its lines")
        charged = order.subtotal - order.discount_total + order.shipping_total + order.tax_total
        if order.total != charged:
            problems.append(f"order {order_id}: total {order.total} != its breakdown {charged}")
        if not Decimal("0") <= order.discount_total <= order.subtotal:
            problems.append(f"order {order_id}: discount {order.discount_total} out of range")
        for item in items:
            taken = movements.pop((order_id, item.product_id, PLACED), 0)
            if taken != -item.quantity:
                problems.append(f"order {order_id}: took {taken} of {item.product_id}")
            returned = movements.pop((order_id, item.product_id, CANCELLED), 0)
            expected = item.quantity if order.status == "cancelled" else 0
            if returned != expected:
                problems.append(f"order {order_id}: returned {returned} of {item.product_id}")
        statuses = history.get(order_id, [])
        if not statuses or statuses[0] != "pending" or statuses[-1] != order.status:
            problems.append(f"order {order_id} is {order.status}; history {statuses}")
    problems.extend(f"stray order movement {key}: {delta}" for key, delta in movements.items())
    problems.extend(discount_violations(session, orders))
    return problems


def discount_violations(session, orders: dict) -> list[str]:
    """A code's `used` counts its redemptions, each by a live (not cancelled) order that
    carries the code, within the code's limits."""
    problems = []
    redemptions = defaultdict(list)
    for redemption in session.scalars(select(DiscountRedemption)):
        redemptions[redemption.discount_id].append(redemption)
    for discount in session.scalars(select(Discount)):
        held = redemptions.pop(discount.id, [])
        if discount.used != len(held):
            problems.append(f"code {discount.code}: used {discount.used} != {len(held)} redeemed")
        if discount.usage_limit is not None and len(held) > discount.usage_limit:
            problems.append(f"code {discount.code}: {len(held)} uses > {discount.usage_limit}")
        per_customer = defaultdict(int)
        for redemption in held:
            per_customer[redemption.user_id] += 1
            order = orders.get(redemption.order_id)
            if order is None or order.status == "cancelled" or order.discount_id != discount.id:
                problems.append(f"code {discount.code}: redeemed by order {redemption.order_id}")
        limit = discount.per_customer_limit
        if limit is not None and any(uses > limit for uses in per_customer.values()):
            problems.append(f"code {discount.code}: a customer used it more than {limit} times")
    problems.extend(f"redemptions of a missing code {key}" for key in redemptions)
    return problems
