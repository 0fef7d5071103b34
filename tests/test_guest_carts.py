"""Guest carts: an unguessable token reaches one cart and nothing else; after sign-in the
guest's lines merge into the user's cart, capped by stock, with the adjustments reported."""

import hashlib
from datetime import timedelta

from sqlalchemy import func, select, update

from app.platform.db import utcnow
from app.platform.housekeeping import prune_expired
from app.platform.models import GuestCart, GuestCartItem
from tests.helpers import assert_problem, cart_lines


def new_cart(client) -> dict:
    response = client.post("/api/carts")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    return {"X-Cart-Token": body["cart_token"]}


def lines(response) -> dict[int, int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {line["product_id"]: line["quantity"] for line in response.get_json()["items"]}


def test_a_guest_fills_a_cart_with_its_token(client, make_product, query):
    mug = make_product(price="12.50", stock=5)
    created = client.post("/api/carts")
    body = created.get_json()
    assert len(body["cart_token"]) >= 40 and body["expires_at"].endswith("+00:00")
    assert created.headers["Location"].endswith("/api/cart")
    guest = {"X-Cart-Token": body["cart_token"]}

    added = client.post("/api/cart", json={"product_id": mug.id, "quantity": 2}, headers=guest)
    assert lines(added) == {mug.id: 2}
    assert added.get_json()["total"] == "25.00"
    assert lines(client.put(f"/api/cart/{mug.id}", json={"quantity": 3}, headers=guest)) == {
        mug.id: 3
    }
    assert lines(client.get("/api/cart", headers=guest)) == {mug.id: 3}
    assert lines(client.delete(f"/api/cart/{mug.id}", headers=guest)) == {}
    assert lines(client.delete("/api/cart", headers=guest)) == {}
    # The token itself is not stored, only its hash.
    stored = query(lambda s: s.scalar(select(GuestCart.token_hash)))
    assert stored == hashlib.sha256(body["cart_token"].encode()).hexdigest()


def test_a_token_reaches_its_own_cart_and_no_other(client, auth, make_product):
    mug, pen = make_product(stock=5), make_product(stock=5)
    first, second = new_cart(client), new_cart(client)
    client.post("/api/cart", json={"product_id": mug.id}, headers=first)
    client.post("/api/cart", json={"product_id": pen.id}, headers=second)
    client.post("/api/cart", json={"product_id": pen.id, "quantity": 2}, headers=auth.customer)

    assert lines(client.get("/api/cart", headers=first)) == {mug.id: 1}
    assert lines(client.get("/api/cart", headers=second)) == {pen.id: 1}
    assert lines(client.get("/api/cart", headers=auth.customer)) == {pen.id: 2}
    # Another guest's line is not in this cart; a user's cart is never reached by a token.
    assert_problem(client.delete(f"/api/cart/{mug.id}", headers=second), 404)
    assert lines(client.get("/api/cart", headers=first)) == {mug.id: 1}
    # With a bearer token the user's own cart answers, whatever X-Cart-Token says.
    assert lines(client.get("/api/cart", headers=auth.customer | first)) == {pen.id: 2}


def test_an_unknown_token_is_a_401(client):
    for token in ("made-up", "q" * 43):
        response = client.get("/api/cart", headers={"X-Cart-Token": token})
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(client.get("/api/cart"), 401)


def test_a_guest_cannot_place_an_order(client, make_product):
    guest = new_cart(client)
    client.post("/api/cart", json={"product_id": make_product(stock=5).id}, headers=guest)
    assert_problem(client.post("/api/orders", headers=guest), 401)


def test_merging_adds_quantities_capped_by_stock_and_reports_it(client, auth, make_product, query):
    plenty, scarce, gone = (
        make_product(stock=10),
        make_product(stock=4),
        make_product(stock=5),
    )
    guest = new_cart(client)
    for product, quantity in ((plenty, 2), (scarce, 3), (gone, 1)):
        body = {"product_id": product.id, "quantity": quantity}
        assert client.post("/api/cart", json=body, headers=guest).status_code == 200
    client.post("/api/cart", json={"product_id": plenty.id, "quantity": 1}, headers=auth.customer)
    client.post("/api/cart", json={"product_id": scarce.id, "quantity": 2}, headers=auth.customer)
    client.patch(f"/api/products/{gone.id}", json={"is_active": False}, headers=auth.admin)

    merged = client.post(
        "/api/cart/merge", json={"cart_token": guest["X-Cart-Token"]}, headers=auth.customer
    )

    assert lines(merged) == {plenty.id: 3, scarce.id: 4}
    assert merged.get_json()["adjustments"] == [
        {"product_id": scarce.id, "requested": 3, "added": 2},
        {"product_id": gone.id, "requested": 1, "added": 0},
    ]
    assert cart_lines(query, auth.customer_user.id) == {plenty.id: 3, scarce.id: 4}
    # The guest cart is gone, token and lines.
    assert_problem(client.get("/api/cart", headers=guest), 401)
    assert query(lambda s: s.scalar(select(func.count()).select_from(GuestCartItem))) == 0


def test_merging_needs_a_login_and_a_live_token(client, auth, make_product, query):
    guest = new_cart(client)
    client.post("/api/cart", json={"product_id": make_product(stock=5).id}, headers=guest)
    body = {"cart_token": guest["X-Cart-Token"]}
    assert_problem(client.post("/api/cart/merge", json=body), 401)
    assert_problem(client.post("/api/cart/merge", json=body, headers=guest), 401)
    unknown = {"cart_token": "not-a-cart"}
    assert_problem(
        client.post("/api/cart/merge", json=unknown, headers=auth.customer), 422, "cart_token"
    )
    assert query(lambda s: s.scalar(select(func.count()).select_from(GuestCartItem))) == 1
    assert cart_lines(query, auth.customer_user.id) == {}


def test_an_empty_guest_cart_merges_to_the_users_cart_unchanged(client, auth, make_product):
    mug = make_product(stock=5)
    client.post("/api/cart", json={"product_id": mug.id}, headers=auth.customer)
    guest = new_cart(client)
    merged = client.post(
        "/api/cart/merge", json={"cart_token": guest["X-Cart-Token"]}, headers=auth.customer
    )
    assert lines(merged) == {mug.id: 1}
    assert merged.get_json()["adjustments"] == []


def test_expired_guest_carts_are_refused_and_pruned(app, client, make_product, query):
    guest = new_cart(client)
    client.post("/api/cart", json={"product_id": make_product(stock=5).id}, headers=guest)

    def expire(session):
        session.execute(update(GuestCart).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()

    query(expire)
    assert_problem(client.get("/api/cart", headers=guest), 401)
    with app.app_context():
        assert prune_expired().guest_carts == 1
    assert query(lambda s: s.scalar(select(func.count()).select_from(GuestCartItem))) == 0
