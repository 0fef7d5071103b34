"""Catalog and inventory rules: listing, admin changes, soft deletion and the stock ledger.

Every stock change writes a StockMovement in the same transaction, so for every product
`stock == sum(movements.delta)`.
"""

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import delete, select, update

from app.errors import Conflict, NotFound
from app.extensions import db, transaction, utcnow
from app.models import CartItem, Product, StockMovement
from app.pagination import paginate

EDITABLE_FIELDS = ("name", "description", "price")
MAX_STOCK = 1_000_000_000


def active_products():
    return select(Product).where(Product.deleted_at.is_(None))


def list_products(page: int, per_page: int) -> Pagination:
    return paginate(active_products().order_by(Product.id), page, per_page)


def get_product(product_id: int, *, for_update: bool = False) -> Product:
    """An active product; `for_update` locks its row and reloads it (for absolute changes)."""
    product = db.session.get(
        Product, product_id, with_for_update=for_update, populate_existing=for_update
    )
    if product is None or product.deleted_at is not None:
        raise NotFound(f"Product {product_id} was not found.")
    return product


def record_movement(
    product_id: int,
    delta: int,
    reason: str,
    *,
    order_id: int | None = None,
    user_id: int | None = None,
) -> None:
    """Add a ledger row; the caller's transaction changes the stock alongside."""
    if delta:
        db.session.add(
            StockMovement(
                product_id=product_id,
                delta=delta,
                reason=reason,
                order_id=order_id,
                user_id=user_id,
            )
        )


def create_product(data: dict, admin_id: int | None = None) -> Product:
    product = Product(
        **{field: data[field] for field in EDITABLE_FIELDS if field in data},
        stock=data.get("stock", 0),
    )
    with transaction() as session:
        session.add(product)
        session.flush()
        record_movement(product.id, product.stock, "initial stock", user_id=admin_id)
    return product


def update_product(product_id: int, changes: dict, admin_id: int | None = None) -> Product:
    """Apply the given fields; omitted ones keep their value.

    A new stock level is absolute, so the row is locked and read fresh first: the ledger
    records the difference from the current stock, never from a stale copy.
    """
    with transaction():
        product = get_product(product_id, for_update="stock" in changes)
        for field in EDITABLE_FIELDS:
            if field in changes:
                setattr(product, field, changes[field])
        if "stock" in changes:
            delta = changes["stock"] - product.stock
            product.stock = changes["stock"]
            record_movement(product.id, delta, "stock set by admin", user_id=admin_id)
    return product


def adjust_stock(product_id: int, delta: int, reason: str, admin_id: int) -> Product:
    """Add `delta` (negative to remove) to the stock; it stays within 0..MAX_STOCK."""
    product = get_product(product_id)
    with transaction():
        new_stock = db.session.scalar(
            update(Product)
            .where(Product.id == product_id, (Product.stock + delta).between(0, MAX_STOCK))
            .values(stock=Product.stock + delta, updated_at=utcnow())
            .returning(Product.stock)
            .execution_options(synchronize_session=False)
        )
        if new_stock is None:
            available = db.session.scalar(select(Product.stock).where(Product.id == product_id))
            bound = "below 0" if delta < 0 else f"above {MAX_STOCK}"
            raise Conflict(
                f"Stock of '{product.name}' cannot go {bound}: "
                f"{available} in stock, change of {delta} requested."
            )
        record_movement(product_id, delta, reason, user_id=admin_id)
    db.session.refresh(product)
    return product


def list_movements(product_id: int, page: int, per_page: int) -> Pagination:
    get_product(product_id)
    stmt = (
        select(StockMovement)
        .where(StockMovement.product_id == product_id)
        .order_by(StockMovement.id.desc())
    )
    return paginate(stmt, page, per_page)


def low_stock(threshold: int, page: int, per_page: int) -> Pagination:
    stmt = active_products().where(Product.stock <= threshold).order_by(Product.stock, Product.id)
    return paginate(stmt, page, per_page)


def delete_product(product_id: int) -> None:
    """Hide the product and take it out of every cart; past orders keep their snapshots."""
    product = get_product(product_id)
    with transaction() as session:
        product.deleted_at = utcnow()
        session.execute(delete(CartItem).where(CartItem.product_id == product_id))
