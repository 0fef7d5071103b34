"""Catalog and inventory rules: listing, admin changes, soft deletion and the stock ledger.

Every stock change writes a StockMovement in the same transaction, so for every product
`stock == sum(movements.delta)`.
"""

from decimal import Decimal

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from app.db import db, taken, transaction, utcnow
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import CartItem, Category, Product, StockMovement
from app.pagination import Page, paginate
from app.search import matches, name_key, relevance, search_terms
from app.slugs import unique_slug

EDITABLE_FIELDS = (
    "name",
    "description",
    "price",
    "sku",
    "slug",
    "category_id",
    "images",
    "is_active",
)
MAX_STOCK = 1_000_000_000
SORTS = ("id", "name", "-name", "price", "-price", "created_at", "-created_at", "relevance")


def active_products(*, include_inactive: bool = False):
    """Products not deleted; customers see only the active ones."""
    stmt = select(Product).where(Product.deleted_at.is_(None))
    return stmt if include_inactive else stmt.where(Product.is_active)


def _sort_keys(sort: str, terms: list[str]) -> list:
    if sort == "relevance":
        return [relevance(terms).desc(), Product.id]
    descending = sort.startswith("-")
    column = {
        "id": Product.id,
        "name": name_key(Product.name),
        "price": Product.price,
        "created_at": Product.created_at,
    }[sort.lstrip("-")]
    if column is Product.id:
        return [Product.id.desc() if descending else Product.id]
    # Ties are broken by id, in the same direction: -name is exactly name reversed.
    return [column.desc(), Product.id.desc()] if descending else [column, Product.id]


def _in_category_tree(slug: str):
    """Ids of the category with that slug and of every category below it."""
    tree = select(Category.id).where(Category.slug == slug).cte("category_tree", recursive=True)
    tree = tree.union_all(select(Category.id).where(Category.parent_id == tree.c.id))
    return Product.category_id.in_(select(tree.c.id))


def list_products(
    page: int,
    per_page: int,
    *,
    q: str | None = None,
    category: str | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    in_stock: bool | None = None,
    sort: str = "id",
    include_inactive: bool = False,
) -> Pagination | Page:
    """One page of the catalog; every filter is optional and they combine (AND)."""
    stmt = active_products(include_inactive=include_inactive)
    terms = search_terms(q) if q is not None else []
    filtered = bool(terms) or any(
        value is not None for value in (category, min_price, max_price, in_stock)
    )
    # The whole public catalog: the database keeps its size (catalog_stats, by triggers).
    total = None
    if not (filtered or include_inactive):
        total = db.session.scalar(text("SELECT listed_products FROM catalog_stats WHERE id = 1"))
    if terms:
        stmt = stmt.where(matches(terms))
    if category is not None:
        stmt = stmt.where(_in_category_tree(category))
    if min_price is not None:
        stmt = stmt.where(Product.price >= min_price)
    if max_price is not None:
        stmt = stmt.where(Product.price <= max_price)
    if in_stock is not None:
        stmt = stmt.where(Product.stock > 0 if in_stock else Product.stock == 0)
    return paginate(stmt.order_by(*_sort_keys(sort, terms)), page, per_page, total=total)


def get_product(
    product_id: int, *, for_update: bool = False, include_inactive: bool = False
) -> Product:
    """A product not deleted (and active unless `include_inactive`); `for_update` locks its
    row and reloads it (for absolute changes)."""
    # OF products: the category comes in by an outer join, which PostgreSQL cannot lock.
    lock = {"of": Product} if for_update else None
    product = db.session.get(
        Product, product_id, with_for_update=lock, populate_existing=for_update
    )
    if (
        product is None
        or product.deleted_at is not None
        or not (product.is_active or include_inactive)
    ):
        raise NotFound(f"Product {product_id} was not found.")
    return product


def get_product_by_slug(slug: str, *, include_inactive: bool = False) -> Product:
    product = db.session.scalar(
        active_products(include_inactive=include_inactive).where(Product.slug == slug)
    )
    if product is None:
        raise NotFound(f"No product has the slug '{slug}'.")
    return product


def _check_references(data: dict, product_id: int | None = None) -> None:
    """A category that exists; a SKU and a slug no other product has (409 otherwise)."""
    category_id = data.get("category_id")
    if category_id is not None and db.session.get(Category, category_id) is None:
        raise ValidationFailed({"category_id": [f"No category has the id {category_id}."]})
    sku, slug = data.get("sku"), data.get("slug")
    if sku is not None and taken(Product.id, func.lower(Product.sku) == sku.lower(), product_id):
        raise Conflict(f"Another product has the SKU '{sku}'.")
    if slug is not None and taken(Product.id, Product.slug == slug, product_id):
        raise Conflict(f"Another product has the slug '{slug}'.")


# Two admins saving the same SKU or slug at once: the database's unique index decides.
DUPLICATE = "Another product has the same SKU or slug; reload and try again."


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
        row = {"product_id": product_id, "delta": delta, "order_id": order_id, "user_id": user_id}
        record_movements([row], reason)


def record_movements(rows: list[dict], reason: str) -> None:
    """Ledger rows in one statement (checkout writes one per line): `rows` hold product_id,
    delta and optionally order_id and user_id."""
    now = utcnow()
    defaults = {"order_id": None, "user_id": None}
    db.session.execute(
        insert(StockMovement),
        [{**defaults, **row, "reason": reason, "created_at": now} for row in rows],
    )


def create_product(data: dict, admin_id: int | None = None) -> Product:
    _check_references(data)
    product = Product(
        **{field: data[field] for field in EDITABLE_FIELDS if field in data},
        stock=data.get("stock", 0),
    )
    if not product.slug:
        product.slug = unique_slug(Product.slug, product.name, fallback="product")
    try:
        with transaction() as session:
            session.add(product)
            session.flush()
            record_movement(product.id, product.stock, "initial stock", user_id=admin_id)
    except IntegrityError:
        raise Conflict(DUPLICATE) from None
    return product


def update_product(product_id: int, changes: dict, admin_id: int | None = None) -> Product:
    """Apply the given fields; omitted ones keep their value.

    A new stock level is absolute, so the row is locked and read fresh first: the ledger
    records the difference from the current stock, never from a stale copy.
    """
    _check_references(changes, product_id)
    try:
        with transaction():
            product = get_product(product_id, for_update="stock" in changes, include_inactive=True)
            for field in EDITABLE_FIELDS:
                if field in changes:
                    setattr(product, field, changes[field])
            if "stock" in changes:
                delta = changes["stock"] - product.stock
                product.stock = changes["stock"]
                record_movement(product.id, delta, "stock set by admin", user_id=admin_id)
    except IntegrityError:
        raise Conflict(DUPLICATE) from None
    return product


def adjust_stock(product_id: int, delta: int, reason: str, admin_id: int) -> Product:
    """Add `delta` (negative to remove) to the stock; it stays within 0..MAX_STOCK."""
    product = get_product(product_id, include_inactive=True)
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
    get_product(product_id, include_inactive=True)
    stmt = (
        select(StockMovement)
        .where(StockMovement.product_id == product_id)
        .order_by(StockMovement.id.desc())
    )
    return paginate(stmt, page, per_page)


def low_stock(threshold: int, page: int, per_page: int) -> Pagination:
    stmt = (
        active_products(include_inactive=True)
        .where(Product.stock <= threshold)
        .order_by(Product.stock, Product.id)
    )
    return paginate(stmt, page, per_page)


def delete_product(product_id: int) -> None:
    """Hide the product and take it out of every cart; past orders keep their snapshots."""
    product = get_product(product_id, include_inactive=True)
    with transaction() as session:
        product.deleted_at = utcnow()
        session.execute(delete(CartItem).where(CartItem.product_id == product_id))
