"""Order lifecycle: cancel, admin status moves, status history and the admin order list.

pending -> paid -> shipped -> delivered; cancelled from pending or paid; anything else is 409.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.platform.models import Order, OrderStatusChange, StockMovement
from tests.helpers import assert_problem, buy, stock_of

STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled")
ALLOWED_MOVES = {
    ("pending", "paid"),
    ("paid", "shipped"),
    ("shipped", "delivered"),
    ("pending", "cancelled"),
    ("paid", "cancelled"),
}
FORBIDDEN_MOVES = [
    (current, target)
    for current in STATUSES
    for target in STATUSES
    if (current, target) not in ALLOWED_MOVES
]
# Admin PATCH steps that bring a fresh (pending) order to each status.
PATH_TO = {
    "pending": [],
    "paid": ["paid"],
    "shipped": ["paid", "shipped"],
    "delivered": ["paid", "shipped", "delivered"],
    "cancelled": ["cancelled"],
}
ORDER_KEYS = {
    "id",
    "status",
    "total",
    "totals",
    "tax_rate",
    "shipping_address",
    "shipping_method",
    "discount_code",
    "payment",
    "created_at",
    "items",
    "status_history",
}
ADMIN_SUMMARY_KEYS = {"id", "status", "total", "created_at", "item_count", "user_id"}
ENVELOPE_KEYS = {"items", "page", "per_page", "total", "pages"}


# --- helpers ----------------------------------------------------------------------------------


def patch_status(client, headers, order_id, status):
    return client.patch(f"/api/orders/{order_id}", json={"status": status}, headers=headers)


def advance(client, auth, order_id, steps):
    """Apply admin status moves one by one; returns the last order body (or None)."""
    body = None
    for status in steps:
        response = patch_status(client, auth.admin, order_id, status)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
    return body


def order_in(client, auth, status, *lines):
    """An order of the customer's, moved to `status`; returns its id."""
    order = buy(client, auth.customer, *lines)
    advance(client, auth, order["id"], PATH_TO[status])
    return order["id"]


def api_stock(client, product_id):
    response = client.get(f"/api/products/{product_id}")
    assert response.status_code == 200
    return response.get_json()["stock"]


def db_status(query, order_id):
    return query(lambda s: s.scalar(select(Order.status).where(Order.id == order_id)))


def db_history(query, order_id):
    return query(
        lambda s: s.scalars(
            select(OrderStatusChange.status)
            .where(OrderStatusChange.order_id == order_id)
            .order_by(OrderStatusChange.id)
        ).all()
    )


def movement_count(query):
    return query(lambda s: s.scalar(select(func.count()).select_from(StockMovement)))


def history_statuses(body):
    return [change["status"] for change in body["status_history"]]


def assert_utc_iso(value):
    assert isinstance(value, str) and value.endswith("+00:00"), value
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() == timedelta(0)
    return parsed


# --- cancel -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "paid"])
def test_owner_cancels_pending_or_paid_order(client, auth, make_product, query, status):
    product = make_product(stock=5)
    order_id = order_in(client, auth, status, (product.id, 2))

    response = client.post(f"/api/orders/{order_id}/cancel", headers=auth.customer)

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == ORDER_KEYS
    assert body["id"] == order_id
    assert body["status"] == "cancelled"
    assert history_statuses(body) == ["pending", *PATH_TO[status], "cancelled"]
    assert db_status(query, order_id) == "cancelled"


def test_cancel_restores_stock_of_every_line_in_api_and_db(client, auth, make_product, query):
    mug, cup = make_product(stock=5), make_product(stock=9)
    order = buy(client, auth.customer, (mug.id, 2), (cup.id, 4))
    assert (stock_of(query, mug.id), stock_of(query, cup.id)) == (3, 5)

    response = client.post(f"/api/orders/{order['id']}/cancel", headers=auth.customer)

    assert response.status_code == 200
    assert (stock_of(query, mug.id), stock_of(query, cup.id)) == (5, 9)
    assert (api_stock(client, mug.id), api_stock(client, cup.id)) == (5, 9)


def test_cancel_keeps_the_order_lines(client, auth, make_product):
    product = make_product(stock=5, price="2.50", name="Pen")
    order = buy(client, auth.customer, (product.id, 2))

    body = client.post(f"/api/orders/{order['id']}/cancel", headers=auth.customer).get_json()

    assert body["items"] == order["items"]
    assert body["total"] == "5.00"


def test_cancel_is_atomic_with_the_restock(client, auth, make_product, query, monkeypatch):
    """If restocking fails half-way, the status change is rolled back too."""
    product = make_product(stock=5)
    order = buy(client, auth.customer, (product.id, 2))

    def broken(*args, **kwargs):
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr("app.catalog.inventory._record", broken)
    response = client.post(f"/api/orders/{order['id']}/cancel", headers=auth.customer)

    assert_problem(response, 500)
    assert db_status(query, order["id"]) == "pending"
    assert db_history(query, order["id"]) == ["pending"]
    assert stock_of(query, product.id) == 3


def test_admin_cancels_a_customers_order(client, auth, make_product, query):
    product = make_product(stock=5)
    order = buy(client, auth.customer, (product.id, 3))

    response = client.post(f"/api/orders/{order['id']}/cancel", headers=auth.admin)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "cancelled"
    assert db_status(query, order["id"]) == "cancelled"
    assert stock_of(query, product.id) == 5


def test_second_cancel_is_409_and_does_not_restock_twice(client, auth, make_product, query):
    product = make_product(stock=5)
    order = buy(client, auth.customer, (product.id, 2))
    assert (
        client.post(f"/api/orders/{order['id']}/cancel", headers=auth.customer).status_code == 200
    )
    movements = movement_count(query)

    response = client.post(f"/api/orders/{order['id']}/cancel", headers=auth.customer)

    body = assert_problem(response, 409)
    assert "cancelled" in body["detail"]
    assert stock_of(query, product.id) == 5
    assert movement_count(query) == movements
    assert db_history(query, order["id"]) == ["pending", "cancelled"]


def test_other_customer_cancel_is_404_and_changes_nothing(client, auth, make_product, query):
    product = make_product(stock=5)
    order = buy(client, auth.customer, (product.id, 2))
    movements = movement_count(query)
    bob = auth.user("bob")

    response = client.post(f"/api/orders/{order['id']}/cancel", headers=bob.headers)

    assert_problem(response, 404)
    assert db_status(query, order["id"]) == "pending"
    assert db_history(query, order["id"]) == ["pending"]
    assert stock_of(query, product.id) == 3
    assert movement_count(query) == movements


def test_other_customers_404_matches_a_missing_order(client, auth, make_product):
    product = make_product(stock=5)
    order = buy(client, auth.customer, (product.id, 1))
    bob = auth.user("bob")

    theirs = client.post(f"/api/orders/{order['id']}/cancel", headers=bob.headers)
    missing = client.post(f"/api/orders/{order['id'] + 1000}/cancel", headers=bob.headers)

    assert_problem(theirs, 404)
    assert_problem(missing, 404)
    assert theirs.get_json()["title"] == missing.get_json()["title"]


def test_cancel_without_token_is_401(client, auth, make_product, query):
    product = make_product(stock=5)
    order = buy(client, auth.customer, (product.id, 2))

    response = client.post(f"/api/orders/{order['id']}/cancel")

    assert_problem(response, 401)
    assert db_status(query, order["id"]) == "pending"
    assert stock_of(query, product.id) == 3


def test_cancel_unknown_order_is_404(client, auth):
    assert_problem(client.post("/api/orders/999999/cancel", headers=auth.customer), 404)


@pytest.mark.parametrize("status", ["shipped", "delivered"])
def test_cancel_after_shipping_is_409_naming_the_status(client, auth, make_product, query, status):
    product = make_product(stock=5)
    order_id = order_in(client, auth, status, (product.id, 2))

    response = client.post(f"/api/orders/{order_id}/cancel", headers=auth.customer)

    body = assert_problem(response, 409)
    assert status in body["detail"]
    assert db_status(query, order_id) == status
    assert stock_of(query, product.id) == 3


# --- admin status moves -----------------------------------------------------------------------


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED_MOVES))
def test_admin_makes_every_allowed_move(client, auth, make_product, query, current, target):
    product = make_product(stock=5)
    order_id = order_in(client, auth, current, (product.id, 1))

    response = patch_status(client, auth.admin, order_id, target)

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == ORDER_KEYS
    assert body["id"] == order_id
    assert body["status"] == target
    assert history_statuses(body) == ["pending", *PATH_TO[current], target]
    assert db_status(query, order_id) == target
    fetched = client.get(f"/api/orders/{order_id}", headers=auth.customer).get_json()
    assert fetched["status"] == target


@pytest.mark.parametrize(("current", "target"), FORBIDDEN_MOVES)
def test_admin_forbidden_move_is_409_and_status_unchanged(
    client, auth, make_product, query, current, target
):
    product = make_product(stock=5)
    order_id = order_in(client, auth, current, (product.id, 2))
    stock = stock_of(query, product.id)
    history = db_history(query, order_id)

    response = patch_status(client, auth.admin, order_id, target)

    body = assert_problem(response, 409)
    assert current in body["detail"]
    assert db_status(query, order_id) == current
    assert db_history(query, order_id) == history
    assert stock_of(query, product.id) == stock
    fetched = client.get(f"/api/orders/{order_id}", headers=auth.customer).get_json()
    assert fetched["status"] == current


@pytest.mark.parametrize("current", ["pending", "paid"])
def test_admin_patch_to_cancelled_restocks(client, auth, make_product, query, current):
    product = make_product(stock=5)
    order_id = order_in(client, auth, current, (product.id, 4))
    assert stock_of(query, product.id) == 1

    response = patch_status(client, auth.admin, order_id, "cancelled")

    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    assert stock_of(query, product.id) == 5
    assert api_stock(client, product.id) == 5


@pytest.mark.parametrize("status", ["shipped", "delivered"])
def test_moves_other_than_cancel_do_not_touch_stock(client, auth, make_product, query, status):
    product = make_product(stock=5)
    order_id = order_in(client, auth, status, (product.id, 2))

    assert db_status(query, order_id) == status
    assert stock_of(query, product.id) == 3


def test_customer_patch_is_403_even_on_own_order(client, auth, make_product, query):
    product = make_product(stock=5)
    order = buy(client, auth.customer, (product.id, 1))

    response = patch_status(client, auth.customer, order["id"], "paid")

    assert_problem(response, 403)
    assert db_status(query, order["id"]) == "pending"


def test_patch_without_token_is_401(client, auth, make_product, query):
    product = make_product(stock=5)
    order = buy(client, auth.customer, (product.id, 1))

    response = client.patch(f"/api/orders/{order['id']}", json={"status": "paid"})

    assert_problem(response, 401)
    assert db_status(query, order["id"]) == "pending"


@pytest.mark.parametrize(
    "payload",
    [{"status": "refunded"}, {"status": "PAID"}, {"status": ""}, {"status": 3}, {}],
    ids=["unknown", "wrong-case", "empty", "not-a-string", "missing"],
)
def test_patch_invalid_status_is_422_naming_status(client, auth, make_product, query, payload):
    product = make_product(stock=5)
    order = buy(client, auth.customer, (product.id, 1))

    response = client.patch(f"/api/orders/{order['id']}", json=payload, headers=auth.admin)

    assert_problem(response, 422, "status")
    assert db_status(query, order["id"]) == "pending"


def test_patch_unknown_order_is_404(client, auth):
    assert_problem(patch_status(client, auth.admin, 999999, "paid"), 404)


# --- status history ---------------------------------------------------------------------------


def test_new_order_history_is_pending_at_creation(client, auth, make_product):
    product = make_product(stock=5)

    order = buy(client, auth.customer, (product.id, 1))

    assert len(order["status_history"]) == 1
    change = order["status_history"][0]
    assert set(change) == {"status", "at"}
    assert change["status"] == "pending"
    at = assert_utc_iso(change["at"])
    created = datetime.fromisoformat(order["created_at"])
    assert abs(at - created) < timedelta(seconds=5)


def test_full_lifecycle_history_is_in_order_with_utc_times(client, auth, make_product):
    product = make_product(stock=5)
    before = datetime.now(UTC)
    order = buy(client, auth.customer, (product.id, 1))

    advance(client, auth, order["id"], ["paid", "shipped", "delivered"])
    after = datetime.now(UTC)

    body = client.get(f"/api/orders/{order['id']}", headers=auth.customer).get_json()
    assert body["status"] == "delivered"
    assert history_statuses(body) == ["pending", "paid", "shipped", "delivered"]
    times = [assert_utc_iso(change["at"]) for change in body["status_history"]]
    assert times == sorted(times)
    assert before - timedelta(seconds=5) <= times[0] <= times[-1] <= after + timedelta(seconds=5)


def test_patch_response_carries_the_updated_history(client, auth, make_product):
    product = make_product(stock=5)
    order = buy(client, auth.customer, (product.id, 1))

    body = advance(client, auth, order["id"], ["paid", "cancelled"])

    assert body["status"] == "cancelled"
    assert history_statuses(body) == ["pending", "paid", "cancelled"]
    fetched = client.get(f"/api/orders/{order['id']}", headers=auth.admin).get_json()
    assert fetched["status_history"] == body["status_history"]


def test_rejected_move_adds_no_history_entry(client, auth, make_product):
    product = make_product(stock=5)
    order = buy(client, auth.customer, (product.id, 1))

    assert patch_status(client, auth.admin, order["id"], "delivered").status_code == 409

    fetched = client.get(f"/api/orders/{order['id']}", headers=auth.customer).get_json()
    assert history_statuses(fetched) == ["pending"]


# --- admin order list -------------------------------------------------------------------------


@pytest.fixture
def shop(client, auth, make_product):
    """Orders of two customers, oldest first: alice pending, bob paid, alice shipped."""
    product = make_product(stock=50, price="10.00")
    alice, bob = auth.user("alice"), auth.user("bob")
    first = buy(client, alice.headers, (product.id, 1))
    second = buy(client, bob.headers, (product.id, 2))
    advance(client, auth, second["id"], ["paid"])
    third = buy(client, alice.headers, (product.id, 3))
    advance(client, auth, third["id"], ["paid", "shipped"])
    return {
        "alice": alice,
        "bob": bob,
        "orders": [first["id"], second["id"], third["id"]],
    }


def admin_orders(client, auth, **params):
    response = client.get("/api/admin/orders", query_string=params, headers=auth.admin)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_admin_lists_every_users_orders_newest_first(client, auth, shop):
    body = admin_orders(client, auth)

    assert set(body) == ENVELOPE_KEYS
    assert [item["id"] for item in body["items"]] == shop["orders"][::-1]
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 20, 3, 1)


def test_admin_order_items_have_summary_fields(client, auth, shop):
    body = admin_orders(client, auth)

    newest = body["items"][0]
    assert set(newest) == ADMIN_SUMMARY_KEYS
    assert newest["id"] == shop["orders"][2]
    assert newest["status"] == "shipped"
    assert newest["total"] == "30.00"
    assert newest["item_count"] == 3
    assert newest["user_id"] == shop["alice"].id
    assert_utc_iso(newest["created_at"])
    assert [item["user_id"] for item in body["items"]] == [
        shop["alice"].id,
        shop["bob"].id,
        shop["alice"].id,
    ]


@pytest.mark.parametrize(
    ("status", "expected"),
    [("pending", [0]), ("paid", [1]), ("shipped", [2]), ("delivered", []), ("cancelled", [])],
)
def test_admin_orders_filter_by_status(client, auth, shop, status, expected):
    body = admin_orders(client, auth, status=status)

    assert [item["id"] for item in body["items"]] == [shop["orders"][i] for i in expected]
    assert all(item["status"] == status for item in body["items"])
    assert body["total"] == len(expected)


def test_admin_orders_filter_by_user(client, auth, shop):
    body = admin_orders(client, auth, user_id=shop["alice"].id)

    assert [item["id"] for item in body["items"]] == [shop["orders"][2], shop["orders"][0]]
    assert {item["user_id"] for item in body["items"]} == {shop["alice"].id}
    assert body["total"] == 2


@pytest.mark.parametrize(
    ("who", "status", "expected"),
    [
        ("alice", "pending", [0]),
        ("alice", "shipped", [2]),
        ("alice", "paid", []),
        ("bob", "paid", [1]),
    ],
)
def test_admin_orders_filters_combine(client, auth, shop, who, status, expected):
    body = admin_orders(client, auth, user_id=shop[who].id, status=status)

    assert [item["id"] for item in body["items"]] == [shop["orders"][i] for i in expected]
    assert body["total"] == len(expected)


def test_admin_orders_paginate(client, auth, shop):
    first = admin_orders(client, auth, per_page=2, page=1)
    second = admin_orders(client, auth, per_page=2, page=2)

    assert [item["id"] for item in first["items"]] == shop["orders"][:0:-1]
    assert [item["id"] for item in second["items"]] == shop["orders"][:1]
    assert (second["page"], second["per_page"], second["total"], second["pages"]) == (2, 2, 3, 2)


def test_admin_orders_empty_envelope(client, auth):
    body = admin_orders(client, auth)

    assert body == {"items": [], "page": 1, "per_page": 20, "total": 0, "pages": 0}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"per_page": 101}, "per_page"),
        ({"per_page": 0}, "per_page"),
        ({"page": 0}, "page"),
        ({"user_id": "abc"}, "user_id"),
    ],
)
def test_admin_orders_invalid_query_is_422(client, auth, params, field):
    response = client.get("/api/admin/orders", query_string=params, headers=auth.admin)

    assert_problem(response, 422, field)


def test_admin_orders_per_page_100_is_allowed(client, auth, shop):
    assert admin_orders(client, auth, per_page=100)["per_page"] == 100


def test_admin_orders_customer_is_403(client, auth, shop):
    response = client.get("/api/admin/orders", headers=shop["alice"].headers)

    assert_problem(response, 403)


def test_admin_orders_without_token_is_401(client):
    assert_problem(client.get("/api/admin/orders"), 401)
