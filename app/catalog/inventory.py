"""The one home of stock: the only code that changes `products.stock` or writes the ledger.

Every change is a guarded UPDATE (the stock never leaves 0..MAX_STOCK, whatever runs
concurrently) plus its ledger rows, in the caller's transaction(), so for every product
`stock == sum(stock_movements.delta)`. tests/test_inventory_ownership.py fails if any other
module writes either.

- `add_product` / `add_products`: a new product enters with its first stock (INITIAL_STOCK);
- `take`: checkout, the lines in product-id order (concurrent checkouts lock rows alike and
  cannot deadlock), each refused when not enough is left (ORDER_PLACED);
- `put_back`: a cancelled order's lines return (ORDER_CANCELLED);
- `adjust`: an admin adds or removes units, with the admin's own reason;
- `set_level`: an admin sets an absolute level; the ledger records the difference (SET_BY_ADMIN).
"""

from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import insert, select, update

from app.platform.db import db, utcnow
from app.platform.errors import Conflict, NoLongerSold, OutOfStock
from app.platform.models import Product, StockMovement

MAX_STOCK = 1_000_000_000


class MovementReason(StrEnum):
    """The reasons the system writes; an admin adjustment carries the admin's own words."""

    INITIAL_STOCK = "initial stock"
    ORDER_PLACED = "order placed"
    ORDER_CANCELLED = "order cancelled"
    SET_BY_ADMIN = "stock set by admin"


class Taken(NamedTuple):
    """A checkout line as its stock was taken: name and price as they were at that moment."""

    product_id: int
    name: str
    unit_price: Decimal
    quantity: int


def add_product(product: Product, stock: int, user_id: int | None = None) -> None:
    """Insert a new product with its first stock and the ledger row that opens it."""
    product.stock = stock
    db.session.add(product)
    db.session.flush()
    _record([(product.id, stock)], MovementReason.INITIAL_STOCK, user_id=user_id)


def add_products(rows: list[dict], user_id: int | None = None) -> None:
    """Bulk `add_product` (the seed data): product rows with their `stock`, one multi-row
    INSERT, then one ledger INSERT dated like each product."""
    added = db.session.execute(
        insert(Product).returning(Product.id, Product.stock, Product.created_at), rows
    ).all()
    movements = [
        _movement(product_id, stock, MovementReason.INITIAL_STOCK, user_id=user_id, at=at)
        for product_id, stock, at in added
        if stock
    ]
    if movements:
        db.session.execute(insert(StockMovement), movements)


def take(lines: Iterable[tuple[int, int]]) -> list[Taken]:
    """Take (product_id, quantity) lines for an order, in product-id order; OutOfStock or
    NoLongerSold when a product cannot give them. The caller records the order from what was
    taken, then `record_taken` writes the ledger rows naming it, in the same transaction."""
    return [_take_one(product_id, quantity) for product_id, quantity in sorted(lines)]


def record_taken(taken: list[Taken], order_id: int) -> None:
    """The ledger rows of what `take` took for the order."""
    _record(
        [(line.product_id, -line.quantity) for line in taken],
        MovementReason.ORDER_PLACED,
        order_id=order_id,
    )


def _take_one(product_id: int, quantity: int) -> Taken:
    now = utcnow()
    row = db.session.execute(
        update(Product)
        .where(
            Product.id == product_id,
            Product.listed(),
            Product.stock >= quantity,
        )
        .values(stock=Product.stock - quantity, updated_at=now)
        .returning(Product.name, Product.price)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if row is None:
        product = db.session.get_one(Product, product_id, populate_existing=True)
        if not product.is_active:
            raise NoLongerSold(product.name)
        raise OutOfStock(product.name, product.stock, quantity)
    return Taken(product_id, row.name, row.price, quantity)


def put_back(
    lines: Iterable[tuple[int | None, int]], *, order_id: int, user_id: int | None
) -> None:
    """Return a cancelled order's (product_id, quantity) lines, in product-id order like
    checkout; lines whose product was deleted for good (no id) are skipped."""
    kept = sorted((product_id, quantity) for product_id, quantity in lines if product_id)
    now = utcnow()
    for product_id, quantity in kept:
        db.session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + quantity, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    _record(kept, MovementReason.ORDER_CANCELLED, order_id=order_id, user_id=user_id)


def adjust(product_id: int, delta: int, reason: str, user_id: int) -> int:
    """Add `delta` (negative to remove) within 0..MAX_STOCK; returns the new level, or a
    409 naming what is in stock."""
    new_stock = db.session.scalar(
        update(Product)
        .where(Product.id == product_id, (Product.stock + delta).between(0, MAX_STOCK))
        .values(stock=Product.stock + delta, updated_at=utcnow())
        .returning(Product.stock)
        .execution_options(synchronize_session=False)
    )
    if new_stock is None:
        name, available = db.session.execute(
            select(Product.name, Product.stock).where(Product.id == product_id)
        ).one()
        bound = "below 0" if delta < 0 else f"above {MAX_STOCK}"
        raise Conflict(
            f"Stock of '{name}' cannot go {bound}: "
            f"{available} in stock, change of {delta} requested."
        )
    _record([(product_id, delta)], reason, user_id=user_id)
    _forget_loaded_stock(product_id)
    return new_stock


def set_level(product_id: int, level: int, user_id: int | None) -> None:
    """Set an absolute level. The row is locked and read fresh first (PostgreSQL; SQLite's
    transaction already holds the write lock), so the ledger records the difference from the
    current stock, never from a stale copy."""
    current = db.session.execute(
        select(Product.stock).where(Product.id == product_id).with_for_update()
    ).scalar_one()
    if level == current:
        return
    db.session.execute(
        update(Product)
        .where(Product.id == product_id, Product.stock == current)
        .values(stock=level, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    _record([(product_id, level - current)], MovementReason.SET_BY_ADMIN, user_id=user_id)
    _forget_loaded_stock(product_id)


def _forget_loaded_stock(product_id: int) -> None:
    """A Product this session holds reloads its stock on next access (the UPDATE above went
    around the ORM)."""
    product = db.session.identity_map.get(db.session.identity_key(Product, product_id))
    if product is not None:
        db.session.expire(product, ["stock", "updated_at"])


def _record(
    changes: list[tuple[int, int]],
    reason: str,
    *,
    order_id: int | None = None,
    user_id: int | None = None,
) -> None:
    """The ledger rows of (product_id, delta) changes, in one statement."""
    now = utcnow()
    rows = [
        _movement(product_id, delta, reason, order_id=order_id, user_id=user_id, at=now)
        for product_id, delta in changes
        if delta
    ]
    if rows:
        db.session.execute(insert(StockMovement), rows)


def _movement(product_id, delta, reason, *, order_id=None, user_id=None, at) -> dict:
    return {
        "product_id": product_id,
        "delta": delta,
        "reason": str(reason),
        "order_id": order_id,
        "user_id": user_id,
        "created_at": at,
    }
