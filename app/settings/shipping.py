"""Shipping methods: what a method costs an order, and where it ships."""

from decimal import Decimal

from sqlalchemy import select

from app.audit import services as audit
from app.platform.db import db, transaction
from app.platform.errors import NotFound
from app.platform.models import AuditAction, ShippingMethod
from app.platform.pages import Page, paginate

EDITABLE_FIELDS = ("name", "price", "free_over", "countries", "active")


def ships_to(method: ShippingMethod, country: str) -> bool:
    return not method.countries or country in method.countries


def price_for(method: ShippingMethod, discounted_subtotal: Decimal) -> Decimal:
    """The method's price, or nothing once the subtotal after discount reaches free_over."""
    if method.free_over is not None and discounted_subtotal >= method.free_over:
        return Decimal("0.00")
    return method.price


def list_available(page: int, per_page: int, country: str | None = None) -> Page:
    """Active methods (that ship to `country`), by id. The table is small: filtered here,
    the same way on both engines, rather than inside the JSON column."""
    methods = list(
        db.session.scalars(
            select(ShippingMethod).where(ShippingMethod.active).order_by(ShippingMethod.id)
        )
    )
    if country is not None:
        methods = [method for method in methods if ships_to(method, country)]
    start = (page - 1) * per_page
    return Page(methods[start : start + per_page], page, per_page, len(methods))


def list_methods(page: int, per_page: int):
    return paginate(select(ShippingMethod).order_by(ShippingMethod.id), page, per_page)


def get_method(method_id: int) -> ShippingMethod:
    method = db.session.get(ShippingMethod, method_id)
    if method is None:
        raise NotFound(f"Shipping method {method_id} was not found.")
    return method


def create_method(data: dict) -> ShippingMethod:
    method = ShippingMethod(**data)
    with transaction() as session:
        session.add(method)
        audit.created(AuditAction.SHIPPING_METHOD_CREATE, method)
    return method


def update_method(method_id: int, changes: dict) -> ShippingMethod:
    with transaction():
        method = get_method(method_id)
        with audit.updating(AuditAction.SHIPPING_METHOD_UPDATE, method):
            for field in EDITABLE_FIELDS:
                if field in changes:
                    setattr(method, field, changes[field])
    return method


def delete_method(method_id: int) -> None:
    """Orders shipped with it keep its name and what they paid."""
    with transaction() as session:
        method = get_method(method_id)
        audit.deleted(AuditAction.SHIPPING_METHOD_DELETE, method)
        session.delete(method)
