"""Catalog rules: listing and search, admin changes, soft deletion, the stock ledger's pages.

Stock itself changes only through app.catalog.inventory, inside these services' transactions.
"""

from decimal import Decimal

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.exc import IntegrityError

from app.audit import services as audit
from app.catalog import inventory
from app.catalog.bodies import CategoryRef, product_body
from app.catalog.search import matches, name_key, relevance, search_terms
from app.catalog.slugs import unique_slug
from app.platform.db import db, taken, transaction, utcnow
from app.platform.errors import Conflict, NotFound, ValidationFailed
from app.platform.models import AuditAction, CartItem, Category, Product, StockMovement
from app.platform.pages import Page, paginate

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
SORTS = ("id", "name", "-name", "price", "-price", "created_at", "-created_at", "relevance")


def active_products(*, include_inactive: bool = False):
    """Products not deleted; customers see only the active ones."""
    return select(Product).where(Product.listed(include_inactive=include_inactive))


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


def get_product(product_id: int, *, include_inactive: bool = False) -> Product:
    """A product not deleted (and active unless `include_inactive`)."""
    product = db.session.get(Product, product_id)
    if product is None or not Product.is_listed(product, include_inactive=include_inactive):
        raise NotFound(f"Product {product_id} was not found.")
    return product


# A product page read as one row on the session's connection (no ORM objects, no ORM
# statement handling): products are the catalog's hot path.
PRODUCT_ROW = select(
    *Product.__table__.c,
    Category.name.label("category_name"),
    Category.slug.label("category_slug"),
).outerjoin(Category, Category.id == Product.category_id)
BY_ID = PRODUCT_ROW.where(Product.id == bindparam("product_id"))
BY_SLUG = PRODUCT_ROW.where(Product.slug == bindparam("slug"))


def _page(statement, parameters: dict, include_inactive: bool) -> dict | None:
    """The body of the product `statement` finds, if it is active or `include_inactive`."""
    row = db.session.connection().execute(statement, parameters).first()
    if row is None or not Product.is_listed(row, include_inactive=include_inactive):
        return None
    category = None
    if row.category_id is not None:
        category = CategoryRef(row.category_id, row.category_name, row.category_slug)
    return product_body(row, category)


def product_page(product_id: int, *, include_inactive: bool = False) -> dict:
    """The body of a product not deleted (and active unless `include_inactive`)."""
    body = _page(BY_ID, {"product_id": product_id}, include_inactive)
    if body is None:
        raise NotFound(f"Product {product_id} was not found.")
    return body


def product_page_by_slug(slug: str, *, include_inactive: bool = False) -> dict:
    body = _page(BY_SLUG, {"slug": slug}, include_inactive)
    if body is None:
        raise NotFound(f"No product has the slug '{slug}'.")
    return body


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


def create_product(data: dict, admin_id: int | None = None) -> Product:
    _check_references(data)
    product = Product(**{field: data[field] for field in EDITABLE_FIELDS if field in data})
    if not product.slug:
        product.slug = unique_slug(Product.slug, product.name, fallback="product")
    try:
        with transaction():
            inventory.add_product(product, data.get("stock", 0), user_id=admin_id)
            audit.created(AuditAction.PRODUCT_CREATE, product)
    except IntegrityError:
        raise Conflict(DUPLICATE) from None
    return product


def update_product(product_id: int, changes: dict, admin_id: int | None = None) -> Product:
    """Apply the given fields; omitted ones keep their value. A new stock level is absolute
    (app.catalog.inventory.set_level)."""
    _check_references(changes, product_id)
    try:
        with transaction():
            product = get_product(product_id, include_inactive=True)
            with audit.updating(AuditAction.PRODUCT_UPDATE, product):
                for field in EDITABLE_FIELDS:
                    if field in changes:
                        setattr(product, field, changes[field])
                if "stock" in changes:
                    inventory.set_level(product_id, changes["stock"], user_id=admin_id)
    except IntegrityError:
        raise Conflict(DUPLICATE) from None
    return product


def adjust_stock(product_id: int, delta: int, reason: str, admin_id: int) -> Product:
    """Add `delta` (negative to remove) to the stock; it stays within 0..MAX_STOCK."""
    with transaction():
        product = get_product(product_id, include_inactive=True)
        before = {"stock": product.stock}
        after = {"stock": inventory.adjust(product_id, delta, reason, user_id=admin_id)}
        audit.record(
            AuditAction.PRODUCT_ADJUST_STOCK, product_id, before, after | {"reason": reason}
        )
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
        audit.deleted(AuditAction.PRODUCT_DELETE, product)
        product.deleted_at = utcnow()
        session.execute(delete(CartItem).where(CartItem.product_id == product_id))
