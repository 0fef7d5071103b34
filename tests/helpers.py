"""Assertions and API steps shared by the test modules."""

import os

from sqlalchemy import func, insert, select

from app.platform.db import db, utcnow
from app.platform.models import CartItem, Permission, Product, StockMovement
from tests.factories import DEFAULT_PASSWORD

# A product's body: the original fields, and what the catalog added (tests/test_catalog.py).
PRODUCT_FIELDS = {"id", "name", "description", "price", "stock", "created_at", "updated_at"} | {
    "sku",
    "slug",
    "category_id",
    "category",
    "images",
    "is_active",
}

# The Redis server the tests use (TEST_REDIS_URL, without a database number): database 0 for
# rate limits (keys prefixed per test), 13 and 14 for the worker's queue on the SQLite and
# the PostgreSQL run, so the two runs of `make test` never share a queue.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")


def redis_database_url(database: int) -> str:
    return f"{TEST_REDIS_URL}/{database}"


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
    (the app itself writes the ledger only through app.catalog.inventory)."""
    db.session.execute(
        insert(StockMovement).values(
            product_id=product_id, delta=delta, reason=reason, created_at=utcnow()
        )
    )


# --- API steps --------------------------------------------------------------------------------


def login(client, username: str, password: str = DEFAULT_PASSWORD, **kwargs):
    """POST /api/auth/login; the response (`kwargs` go to the test client)."""
    return client.post(
        "/api/auth/login", json={"username": username, "password": password}, **kwargs
    )


def signed_in(client, username: str, password: str = DEFAULT_PASSWORD) -> dict:
    """A login that must succeed: its token pair."""
    response = login(client, username, password)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def bearer(access_token: str) -> dict:
    return {"Authorization": f"Bearer {access_token}"}


def add_to_cart(client, headers: dict, product_id: int, quantity: int = 1) -> dict:
    """Add to the cart, which must take it; the cart."""
    response = client.post(
        "/api/cart", json={"product_id": product_id, "quantity": quantity}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def place_order(client, headers: dict) -> dict:
    """Check out the cart, which must succeed; the order."""
    response = client.post("/api/orders", headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def buy(client, headers: dict, *lines: tuple[int, int]) -> dict:
    """Put (product_id, quantity) lines in the cart and check out; the order."""
    for product_id, quantity in lines:
        add_to_cart(client, headers, product_id, quantity)
    return place_order(client, headers)


def sample(text: str, name: str, **labels) -> float:
    """The value of one series in the Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    series = f"{name}{{{wanted}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
