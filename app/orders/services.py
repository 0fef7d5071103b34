"""Order placement and lookup.

Placement is one transaction: stock is taken with guarded UPDATEs (never below zero, in
product-id order so concurrent checkouts lock rows consistently), the lines are snapshotted
into the order and the cart is emptied. Any failure rolls all of it back.
"""

from decimal import Decimal

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload, undefer

from app.errors import EmptyCart, NotFound, OutOfStock
from app.extensions import db, transaction, utcnow
from app.models import CartItem, Order, OrderItem, Product, User
from app.pagination import paginate


def _take_stock(line: CartItem) -> OrderItem:
    """Decrement stock if enough is left; snapshot name and price as they are now."""
    taken = db.session.execute(
        update(Product)
        .where(
            Product.id == line.product_id,
            Product.deleted_at.is_(None),
            Product.stock >= line.quantity,
        )
        .values(stock=Product.stock - line.quantity, updated_at=utcnow())
        .returning(Product.name, Product.price)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if taken is None:
        available = db.session.scalar(select(Product.stock).where(Product.id == line.product_id))
        raise OutOfStock(line.product.name, available or 0, line.quantity)
    return OrderItem(
        product_id=line.product_id,
        product_name=taken.name,
        unit_price=taken.price,
        quantity=line.quantity,
    )


def place_order(user_id: int) -> Order:
    with transaction() as session:
        lines = session.scalars(
            select(CartItem).where(CartItem.user_id == user_id).order_by(CartItem.product_id)
        ).all()
        if not lines:
            raise EmptyCart("The cart is empty: add products before placing an order.")
        items = [_take_stock(line) for line in lines]
        order = Order(
            user_id=user_id,
            status="pending",
            total=sum((item.line_total for item in items), Decimal("0.00")),
            items=items,
        )
        session.add(order)
        session.execute(delete(CartItem).where(CartItem.user_id == user_id))
    return order


def get_order(order_id: int, user: User) -> Order:
    """The order, for its owner or an admin; anyone else gets the same 404 as a missing one."""
    order = db.session.get(Order, order_id, options=[selectinload(Order.items)])
    if order is None or (order.user_id != user.id and not user.is_admin):
        raise NotFound(f"Order {order_id} was not found.")
    return order


def order_history(user_id: int, page: int, per_page: int) -> Pagination:
    stmt = (
        select(Order)
        .options(undefer(Order.item_count))
        .where(Order.user_id == user_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
    )
    return paginate(stmt, page, per_page)
