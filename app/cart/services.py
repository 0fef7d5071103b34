"""Cart rules: one line per product, quantities within stock, totals in Decimal."""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from app.db import db, transaction
from app.errors import Conflict, NotFound, OrderTooLarge, OutOfStock, ValidationFailed
from app.fields import MAX_MONEY
from app.models import CartItem
from app.products.services import get_product

MAX_CART_LINES = 100  # different products in one cart
MAX_LINE_QUANTITY = 10_000  # units of one product in one cart


@dataclass
class Cart:
    items: list[CartItem]

    @property
    def total(self) -> Decimal:
        return sum((line.line_total for line in self.items), Decimal("0.00"))

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.items)


def get_cart(user_id: int) -> Cart:
    stmt = (
        select(CartItem)
        .where(CartItem.user_id == user_id)
        .order_by(CartItem.added_at, CartItem.product_id)
    )
    return Cart(list(db.session.scalars(stmt)))


def _ensure_orderable(user_id: int) -> None:
    """A cart whose total no order could hold is refused when it is filled, not at checkout."""
    total = get_cart(user_id).total
    if total > MAX_MONEY:
        raise OrderTooLarge(total)


def _cart_line(user_id: int, product_id: int) -> CartItem:
    line = db.session.get(CartItem, (user_id, product_id))
    if line is None:
        raise NotFound(f"Product {product_id} is not in the cart.")
    return line


def _upsert():
    """INSERT ... ON CONFLICT for the engine in use (both dialects support it)."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(CartItem)


def _ensure_room_for(user_id: int, product_id: int) -> None:
    """A new product needs a free line; more of one already held does not."""
    others = db.session.scalar(
        select(func.count())
        .select_from(CartItem)
        .where(CartItem.user_id == user_id, CartItem.product_id != product_id)
    )
    if others >= MAX_CART_LINES:
        raise ValidationFailed(
            {"product_id": [f"A cart holds at most {MAX_CART_LINES} different products."]}
        )


def add_to_cart(user_id: int, product_id: int, quantity: int) -> Cart:
    """Add to the line's quantity atomically; the result must fit the stock."""
    product = get_product(product_id)
    _ensure_room_for(user_id, product_id)
    insert = _upsert().values(user_id=user_id, product_id=product_id, quantity=quantity)
    stmt = insert.on_conflict_do_update(
        index_elements=[CartItem.user_id, CartItem.product_id],
        set_={"quantity": CartItem.quantity + insert.excluded.quantity},
    ).returning(CartItem.quantity)
    with transaction() as session:
        new_quantity = session.execute(stmt).scalar_one()
        # Like a total above stock, a total above the cap is a conflict with the cart's state.
        if new_quantity > MAX_LINE_QUANTITY:
            raise Conflict(
                f"A cart line holds at most {MAX_LINE_QUANTITY} units; "
                f"this one would hold {new_quantity}."
            )
        if new_quantity > product.stock:
            raise OutOfStock(product.name, product.stock, new_quantity)
        _ensure_orderable(user_id)
    return get_cart(user_id)


def set_quantity(user_id: int, product_id: int, quantity: int) -> Cart:
    line = _cart_line(user_id, product_id)
    with transaction() as session:
        if quantity == 0:
            session.delete(line)
        elif quantity > line.product.stock:
            raise OutOfStock(line.product.name, line.product.stock, quantity)
        else:
            line.quantity = quantity
            _ensure_orderable(user_id)
    return get_cart(user_id)


def remove_from_cart(user_id: int, product_id: int) -> Cart:
    line = _cart_line(user_id, product_id)
    with transaction() as session:
        session.delete(line)
    return get_cart(user_id)


def clear_cart(user_id: int) -> Cart:
    with transaction() as session:
        session.execute(delete(CartItem).where(CartItem.user_id == user_id))
    return Cart([])
