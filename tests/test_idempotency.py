"""Idempotency-Key on POST /api/orders and POST /api/cart."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.api.idempotency import STALE_AFTER, fingerprint
from app.platform.db import db, utcnow
from app.platform.models import IdempotencyKey, Order, StockMovement
from tests.helpers import add_to_cart, assert_problem, cart_lines, count_rows, stock_of

KEY = "checkout-5f0c1a7e"
HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


# --- helpers ----------------------------------------------------------------------------------


def with_key(headers, key=KEY):
    return {**headers, HEADER: key}


def checkout(client, headers, key=KEY, path="/api/orders", **kwargs):
    return client.post(path, headers=with_key(headers, key), **kwargs)


def order_ids(query, user_id=None):
    stmt = select(Order.id).order_by(Order.id)
    if user_id is not None:
        stmt = stmt.where(Order.user_id == user_id)
    return query(lambda s: s.scalars(stmt).all())


def insert_claim(app, user_id, *, key=KEY, created_at, expires_at, path="/api/orders", body=b""):
    """A claim row as the app writes it when a request starts (no response yet)."""
    with app.test_request_context(path, method="POST", data=body):
        digest = fingerprint(user_id)
    with app.app_context():
        db.session.add(
            IdempotencyKey(
                user_id=user_id,
                key=key,
                fingerprint=digest,
                created_at=created_at,
                expires_at=expires_at,
            )
        )
        db.session.commit()


def assert_replay_of(replay, original):
    assert replay.status_code == original.status_code
    assert replay.get_json(force=True) == original.get_json(force=True)
    assert replay.headers["Content-Type"] == original.headers["Content-Type"]
    assert replay.headers.get(REPLAYED) == "true"
    assert REPLAYED not in original.headers


@pytest.fixture
def product(make_product):
    return make_product(stock=5, price="19.99", name="Mug")


@pytest.fixture
def filled_cart(client, auth, product):
    """The customer's cart holds two of `product`."""
    add_to_cart(client, auth.customer, product.id, 2)
    return product


# --- replay -----------------------------------------------------------------------------------


def test_first_request_with_key_is_not_marked_replayed(client, auth, filled_cart):
    response = checkout(client, auth.customer)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert REPLAYED not in response.headers
    assert response.get_json()["status"] == "pending"


def test_same_key_same_request_replays_status_body_and_location(client, auth, filled_cart):
    first = checkout(client, auth.customer)
    assert first.status_code == 201

    second = checkout(client, auth.customer)

    assert_replay_of(second, first)
    assert second.status_code == 201
    assert second.get_json()["id"] == first.get_json()["id"]
    assert second.headers["Location"] == first.headers["Location"]
    assert first.headers["Location"] == f"/api/orders/{first.get_json()['id']}"


def test_replay_creates_one_order_and_takes_stock_once(client, auth, filled_cart, query):
    product = filled_cart
    first = checkout(client, auth.customer)
    # A refilled cart would make a second, real checkout succeed: the replay must not act.
    add_to_cart(client, auth.customer, product.id, 1)
    movements = count_rows(query, StockMovement)

    for _ in range(2):
        replay = checkout(client, auth.customer)
        assert replay.headers.get(REPLAYED) == "true"
        assert replay.get_json()["id"] == first.get_json()["id"]

    assert order_ids(query) == [first.get_json()["id"]]
    assert stock_of(query, product.id) == 3
    assert count_rows(query, StockMovement) == movements
    assert cart_lines(query, auth.customer_user.id) == {product.id: 1}


def test_replayed_order_matches_the_stored_order(client, auth, filled_cart):
    first = checkout(client, auth.customer)

    replay = checkout(client, auth.customer)

    fetched = client.get(replay.headers["Location"], headers=auth.customer)
    assert fetched.status_code == 200
    assert fetched.get_json() == replay.get_json()
    assert replay.get_json() == first.get_json()


def test_trailing_slash_is_the_same_request(client, auth, filled_cart, query):
    first = checkout(client, auth.customer, path="/api/orders")

    second = checkout(client, auth.customer, path="/api/orders/")

    assert_replay_of(second, first)
    assert len(order_ids(query)) == 1


def test_cart_same_key_same_body_adds_once(client, auth, product, query):
    payload = {"product_id": product.id, "quantity": 2}
    first = client.post("/api/cart", json=payload, headers=with_key(auth.customer))
    assert first.status_code == 200

    second = client.post("/api/cart", json=payload, headers=with_key(auth.customer))

    assert_replay_of(second, first)
    assert cart_lines(query, auth.customer_user.id) == {product.id: 2}
    assert second.get_json()["item_count"] == 2


def test_cart_json_bodies_are_compared_by_content(client, auth, product, query):
    first = client.post(
        "/api/cart",
        json={"product_id": product.id, "quantity": 2},
        headers=with_key(auth.customer),
    )
    reordered = f'{{ "quantity": 2,   "product_id": {product.id} }}'

    second = client.post(
        "/api/cart",
        data=reordered,
        content_type="application/json",
        headers=with_key(auth.customer),
    )

    assert_replay_of(second, first)
    assert cart_lines(query, auth.customer_user.id) == {product.id: 2}


# --- mismatched requests ----------------------------------------------------------------------


def test_same_key_with_a_body_after_a_bodyless_checkout_is_422(client, auth, filled_cart, query):
    first = checkout(client, auth.customer)
    assert first.status_code == 201
    add_to_cart(client, auth.customer, filled_cart.id, 1)

    response = checkout(client, auth.customer, json={"note": "x"})

    assert_problem(response, 422, HEADER)
    assert REPLAYED not in response.headers
    assert len(order_ids(query)) == 1
    assert cart_lines(query, auth.customer_user.id) == {filled_cart.id: 1}


def test_cart_same_key_different_quantity_is_422(client, auth, product, query):
    first = client.post(
        "/api/cart", json={"product_id": product.id, "quantity": 1}, headers=with_key(auth.customer)
    )
    assert first.status_code == 200

    response = client.post(
        "/api/cart", json={"product_id": product.id, "quantity": 2}, headers=with_key(auth.customer)
    )

    assert_problem(response, 422, HEADER)
    assert cart_lines(query, auth.customer_user.id) == {product.id: 1}


def test_same_key_on_another_endpoint_is_422(client, auth, product, query):
    added = client.post(
        "/api/cart", json={"product_id": product.id, "quantity": 1}, headers=with_key(auth.customer)
    )
    assert added.status_code == 200

    response = checkout(client, auth.customer)

    assert_problem(response, 422, HEADER)
    assert order_ids(query) == []
    assert cart_lines(query, auth.customer_user.id) == {product.id: 1}


# --- scope ------------------------------------------------------------------------------------


def test_keys_are_scoped_per_user(client, auth, make_product, query):
    mug, pen = make_product(stock=5, name="Mug"), make_product(stock=5, name="Pen")
    bob = auth.user("bob")
    add_to_cart(client, auth.customer, mug.id, 1)
    add_to_cart(client, bob.headers, pen.id, 3)
    theirs = checkout(client, auth.customer)
    assert theirs.status_code == 201

    response = checkout(client, bob.headers)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert REPLAYED not in response.headers
    body = response.get_json()
    assert body["id"] != theirs.get_json()["id"]
    assert [(item["product_name"], item["quantity"]) for item in body["items"]] == [("Pen", 3)]
    assert order_ids(query, bob.id) == [body["id"]]
    assert order_ids(query, auth.customer_user.id) == [theirs.get_json()["id"]]


# --- failures ---------------------------------------------------------------------------------


def test_failed_request_is_replayed_even_after_the_cart_is_filled(client, auth, product, query):
    first = checkout(client, auth.customer)
    assert_problem(first, 409)
    add_to_cart(client, auth.customer, product.id, 1)

    second = checkout(client, auth.customer)

    assert_replay_of(second, first)
    assert_problem(second, 409)
    assert order_ids(query) == []
    assert cart_lines(query, auth.customer_user.id) == {product.id: 1}


def test_same_key_while_first_is_in_progress_is_409(app, client, auth, filled_cart, query):
    now = utcnow()
    insert_claim(app, auth.customer_user.id, created_at=now, expires_at=now + timedelta(hours=24))

    response = checkout(client, auth.customer)

    assert_problem(response, 409)
    assert REPLAYED not in response.headers
    assert order_ids(query) == []
    assert cart_lines(query, auth.customer_user.id) == {filled_cart.id: 2}
    assert stock_of(query, filled_cart.id) == 5


def test_stale_in_progress_claim_is_reclaimed(app, client, auth, filled_cart, query):
    started = utcnow() - STALE_AFTER - timedelta(seconds=5)
    insert_claim(
        app, auth.customer_user.id, created_at=started, expires_at=started + timedelta(hours=24)
    )

    response = checkout(client, auth.customer)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert REPLAYED not in response.headers
    assert order_ids(query) == [response.get_json()["id"]]
    assert stock_of(query, filled_cart.id) == 3
    replay = checkout(client, auth.customer)
    assert_replay_of(replay, response)


def test_expired_completed_key_is_not_replayed(client, auth, filled_cart, query):
    first = checkout(client, auth.customer)
    assert first.status_code == 201

    def expire(session):
        session.execute(update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()

    query(expire)
    add_to_cart(client, auth.customer, filled_cart.id, 1)

    second = checkout(client, auth.customer)

    assert second.status_code == 201, second.get_data(as_text=True)
    assert REPLAYED not in second.headers
    assert second.get_json()["id"] != first.get_json()["id"]
    assert len(order_ids(query)) == 2
    assert stock_of(query, filled_cart.id) == 2


def test_server_error_is_not_stored_and_the_key_can_be_retried(
    client, auth, filled_cart, query, monkeypatch
):
    def crash(user_id):
        raise RuntimeError("boom")

    monkeypatch.setattr("app.ordering.orders.place_order", crash)
    failed = checkout(client, auth.customer)
    assert_problem(failed, 500)
    assert count_rows(query, IdempotencyKey) == 0

    monkeypatch.undo()
    retry = checkout(client, auth.customer)

    assert retry.status_code == 201, retry.get_data(as_text=True)
    assert REPLAYED not in retry.headers
    assert order_ids(query) == [retry.get_json()["id"]]
    assert stock_of(query, filled_cart.id) == 3


def test_completed_key_row_stores_the_response(client, auth, filled_cart, query):
    response = checkout(client, auth.customer)

    row = query(
        lambda s: s.execute(
            select(
                IdempotencyKey.user_id,
                IdempotencyKey.key,
                IdempotencyKey.response_status,
                IdempotencyKey.response_body,
                IdempotencyKey.created_at,
                IdempotencyKey.expires_at,
            )
        ).one()
    )
    assert (row.user_id, row.key, row.response_status) == (auth.customer_user.id, KEY, 201)
    assert json.loads(row.response_body) == response.get_json()
    assert abs(row.expires_at - row.created_at - timedelta(hours=24)) < timedelta(seconds=5)


# --- key validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["k" * 256, "\x01", "bad\x7fkey", "tab\tkey"], ids=["256-chars", "ctrl-1", "del", "tab"]
)
def test_invalid_key_is_422_and_nothing_happens(client, auth, filled_cart, query, key):
    response = checkout(client, auth.customer, key=key)

    assert_problem(response, 422, HEADER)
    assert order_ids(query) == []
    assert count_rows(query, IdempotencyKey) == 0
    assert cart_lines(query, auth.customer_user.id) == {filled_cart.id: 2}


@pytest.mark.parametrize("key", ["k" * 255, "x", "a b~!"], ids=["255-chars", "one-char", "spaces"])
def test_valid_key_boundaries_are_accepted(client, auth, filled_cart, key):
    first = checkout(client, auth.customer, key=key)
    assert first.status_code == 201, first.get_data(as_text=True)

    assert_replay_of(checkout(client, auth.customer, key=key), first)


def test_invalid_key_on_cart_is_422(client, auth, product, query):
    response = client.post(
        "/api/cart",
        json={"product_id": product.id, "quantity": 1},
        headers=with_key(auth.customer, "k" * 256),
    )

    assert_problem(response, 422, HEADER)
    assert cart_lines(query, auth.customer_user.id) == {}


# --- without the header -----------------------------------------------------------------------


def test_without_key_each_cart_post_adds(client, auth, product, query):
    payload = {"product_id": product.id, "quantity": 1}

    first = client.post("/api/cart", json=payload, headers=auth.customer)
    second = client.post("/api/cart", json=payload, headers=auth.customer)

    assert (first.status_code, second.status_code) == (200, 200)
    assert REPLAYED not in second.headers
    assert second.get_json()["item_count"] == 2
    assert cart_lines(query, auth.customer_user.id) == {product.id: 2}
    assert count_rows(query, IdempotencyKey) == 0


def test_without_key_each_checkout_acts(client, auth, product, query):
    add_to_cart(client, auth.customer, product.id, 1)
    first = client.post("/api/orders", headers=auth.customer)
    add_to_cart(client, auth.customer, product.id, 1)

    second = client.post("/api/orders", headers=auth.customer)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["id"] != second.get_json()["id"]
    assert len(order_ids(query)) == 2
    assert count_rows(query, IdempotencyKey) == 0


def test_an_empty_key_is_the_same_as_none(client, auth, make_product):
    """The documented example is empty (what Postman imports): it must never replay."""
    headers = {**auth.customer, "Idempotency-Key": ""}
    first, second = make_product(stock=5), make_product(stock=5)
    added = client.post("/api/cart", json={"product_id": first.id}, headers=headers)
    assert added.status_code == 200
    added = client.post("/api/cart", json={"product_id": second.id}, headers=headers)
    assert added.status_code == 200
    assert {line["product_id"] for line in added.get_json()["items"]} == {first.id, second.id}
    assert "Idempotent-Replayed" not in added.headers
    placed = client.post("/api/orders", headers=headers)
    assert placed.status_code == 201
    assert len(placed.get_json()["items"]) == 2
