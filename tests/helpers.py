"""Assertions shared by the test modules."""

from sqlalchemy import func, insert, select

from app.db import db, utcnow
from app.models import CartItem, Permission, Product, StockMovement

# A product's body: the original fields, and what the catalog added (tests/test_catalog.py).
PRODUCT_FIELDS = {"id", "name", "description", "price", "stock", "created_at", "updated_at"} | {
    "sku",
    "slug",
    "category_id",
    "category",
    "images",
    "is_active",
}

PROBLEM_MIMETYPE = "application/problem+json"
PROBLEM_FIELDS = {"type", "title", "status", "detail"}


def assert_problem(response, status: int, *fields: str) -> dict:
    """The response is an RFC 9457 problem with this status, with errors for `fields`."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == PROBLEM_MIMETYPE
    body = response.get_json(force=True)
    extensions = {422: {"errors"}, 403: {"missing_permission"}}.get(status, set())
    assert set(body) == PROBLEM_FIELDS | extensions, body
    assert body["status"] == status
    if status == 403:  # every refusal names the permission the caller lacks
        assert body["missing_permission"] in set(Permission), body
    for key in ("type", "title", "detail"):
        assert isinstance(body[key], str) and body[key], body
    if status == 422:
        assert isinstance(body["errors"], dict) and body["errors"], body
    for field in fields:
        messages = body["errors"][field]
        assert isinstance(messages, list) and messages, body
        assert all(isinstance(message, str) and message for message in messages), body
    return body


def count_rows(query, model, *where) -> int:
    return query(lambda s: s.scalar(select(func.count()).select_from(model).where(*where)))


def stock_of(query, product_id: int) -> int:
    return query(lambda s: s.scalar(select(Product.stock).where(Product.id == product_id)))


def cart_lines(query, user_id: int) -> dict[int, int]:
    """The user's cart as {product_id: quantity}, read from the database."""
    return query(
        lambda s: {
            line.product_id: line.quantity
            for line in s.scalars(select(CartItem).where(CartItem.user_id == user_id))
        }
    )


def record_movement(product_id: int, delta: int, reason: str) -> None:
    """A ledger row written behind the app's back, as another process's change would be
    (the app itself writes the ledger only through app.inventory)."""
    db.session.execute(
        insert(StockMovement).values(
            product_id=product_id, delta=delta, reason=reason, created_at=utcnow()
        )
    )
