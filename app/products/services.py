"""Catalog rules: listing, lookup, admin changes, soft deletion."""

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import delete, select

from app.errors import NotFound
from app.extensions import db, transaction, utcnow
from app.models import CartItem, Product
from app.pagination import paginate

EDITABLE_FIELDS = ("name", "description", "price", "stock")


def list_products(page: int, per_page: int) -> Pagination:
    stmt = select(Product).where(Product.deleted_at.is_(None)).order_by(Product.id)
    return paginate(stmt, page, per_page)


def get_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None or product.deleted_at is not None:
        raise NotFound(f"Product {product_id} was not found.")
    return product


def create_product(data: dict) -> Product:
    product = Product(**{field: data[field] for field in EDITABLE_FIELDS if field in data})
    with transaction() as session:
        session.add(product)
    return product


def update_product(product_id: int, changes: dict) -> Product:
    """Apply the given fields; omitted ones keep their value."""
    product = get_product(product_id)
    with transaction():
        for field in EDITABLE_FIELDS:
            if field in changes:
                setattr(product, field, changes[field])
    return product


def delete_product(product_id: int) -> None:
    """Hide the product and take it out of every cart; past orders keep their snapshots."""
    product = get_product(product_id)
    with transaction() as session:
        product.deleted_at = utcnow()
        session.execute(delete(CartItem).where(CartItem.product_id == product_id))
