"""Orders: checkout from the cart, snapshots, history and access rules."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.platform.models import Order, OrderItem
from tests.helpers import (
    add_to_cart,
    assert_problem,
    buy,
    cart_lines,
    count_rows,
    place_order,
    stock_of,
)
from tests.test_order_lifecycle import ORDER_KEYS

# --- placing an order -------------------------------------------------------------------------


def test_place_order_returns_201_with_the_order_body(client, auth, make_product):
    product = make_product(price="19.99", stock=5, name="Mug")
    add_to_cart(client, auth.customer, product.id, 3)

    response = client.post("/api/orders", headers=auth.customer)

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == ORDER_KEYS
    assert [change["status"] for change in body["status_history"]] == ["pending"]
    assert body["payment"] == {
        "provider": "manual",
        "status": "requires_payment",
        "amount": "59.97",
        "currency": "usd",
        "client_secret": None,
        "reference": None,
        "flagged": None,
    }
    assert isinstance(body["id"], int)
    assert body["status"] == "pending"
    assert body["total"] == "59.97"
    assert body["items"] == [
        {
            "product_id": product.id,
            "product_name": "Mug",
            "quantity": 3,
            "unit_price": "19.99",
            "line_total": "59.97",
        }
    ]


def test_place_order_sets_location_header_to_the_new_order(client, auth, make_product):
    product = make_product(stock=5)
    add_to_cart(client, auth.customer, product.id, 1)

    response = client.post("/api/orders", headers=auth.customer)

    assert response.status_code == 201
    order_id = response.get_json()["id"]
    assert response.headers["Location"] == f"/api/orders/{order_id}"
    followed = client.get(f"/api/orders/{order_id}", headers=auth.customer)
    assert followed.status_code == 200
    assert followed.get_json() == response.get_json()


def test_place_order_created_at_is_iso_8601_utc_with_offset(client, auth, make_product):
    product = make_product(stock=5)
    add_to_cart(client, auth.customer, product.id, 1)

    before = datetime.now(UTC)
    body = place_order(client, auth.customer)
    after = datetime.now(UTC)

    assert body["created_at"].endswith("+00:00")
    created = datetime.fromisoformat(body["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=5) <= created <= after + timedelta(seconds=5)


def test_place_order_with_empty_body_and_no_content_type(client, auth, make_product):
    product = make_product(stock=5)
    add_to_cart(client, auth.customer, product.id, 2)

    response = client.post("/api/orders", headers=auth.customer, data=b"")

    assert response.status_code == 201
    assert "Content-Type" not in response.request.headers
    assert response.get_json()["items"][0]["quantity"] == 2


def test_place_order_with_trailing_slash_works_without_redirect(client, auth, make_product):
    product = make_product(stock=5)
    add_to_cart(client, auth.customer, product.id, 1)

    response = client.post("/api/orders/", headers=auth.customer)

    assert response.status_code == 201
    assert response.headers["Location"] == f"/api/orders/{response.get_json()['id']}"
    assert response.get_json()["status"] == "pending"


def test_place_order_decrements_stock(client, auth, make_product, query):
    product = make_product(stock=5)
    add_to_cart(client, auth.customer, product.id, 3)

    place_order(client, auth.customer)

    assert stock_of(query, product.id) == 2
    assert client.get(f"/api/products/{product.id}").get_json()["stock"] == 2


def test_place_order_empties_the_cart(client, auth, make_product, query):
    first, second = make_product(stock=5), make_product(stock=5)
    add_to_cart(client, auth.customer, first.id, 1)
    add_to_cart(client, auth.customer, second.id, 2)

    place_order(client, auth.customer)

    assert cart_lines(query, auth.customer_user.id) == {}
    cart = client.get("/api/cart", headers=auth.customer)
    assert cart.status_code == 200
    assert cart.get_json()["items"] == []


def test_place_order_does_not_touch_other_users_carts(client, auth, make_product, query):
    product = make_product(stock=10)
    bob = auth.user("bob")
    add_to_cart(client, bob.headers, product.id, 4)
    add_to_cart(client, auth.customer, product.id, 1)

    place_order(client, auth.customer)

    assert cart_lines(query, bob.id) == {product.id: 4}


def test_place_order_stores_order_and_item_rows(client, auth, make_product, query):
    first = make_product(price="2.50", stock=5, name="Pen")
    second = make_product(price="4.00", stock=5, name="Pad")
    order = buy(client, auth.customer, (first.id, 2), (second.id, 1))

    assert count_rows(query, Order, Order.user_id == auth.customer_user.id) == 1
    rows = query(
        lambda s: [
            (item.product_id, item.product_name, str(item.unit_price), item.quantity)
            for item in s.scalars(
                select(OrderItem).where(OrderItem.order_id == order["id"]).order_by(OrderItem.id)
            )
        ]
    )
    assert sorted(rows) == sorted([(first.id, "Pen", "2.50", 2), (second.id, "Pad", "4.00", 1)])


def test_place_order_with_empty_cart_is_409(client, auth, query):
    response = client.post("/api/orders", headers=auth.customer)

    body = assert_problem(response, 409)
    assert "empty" in body["detail"].lower()
    assert count_rows(query, Order) == 0


def test_place_order_twice_second_time_cart_is_empty_409(client, auth, make_product, query):
    product = make_product(stock=5)
    add_to_cart(client, auth.customer, product.id, 1)
    place_order(client, auth.customer)

    response = client.post("/api/orders", headers=auth.customer)

    assert_problem(response, 409)
    assert count_rows(query, Order) == 1
    assert stock_of(query, product.id) == 4


# --- money ------------------------------------------------------------------------------------


def test_total_of_three_at_19_99_is_59_97(client, auth, make_product):
    product = make_product(price="19.99", stock=5)

    order = buy(client, auth.customer, (product.id, 3))

    assert order["total"] == "59.97"
    assert order["items"][0]["unit_price"] == "19.99"
    assert order["items"][0]["line_total"] == "59.97"


def test_total_of_mixed_lines_is_exact(client, auth, make_product):
    dime = make_product(price="0.10", stock=5, name="Dime")
    double = make_product(price="0.20", stock=5, name="Double")

    order = buy(client, auth.customer, (dime.id, 2), (double.id, 1))

    assert order["total"] == "0.40"
    lines = {item["product_name"]: item for item in order["items"]}
    assert lines["Dime"]["line_total"] == "0.20"
    assert lines["Dime"]["unit_price"] == "0.10"
    assert lines["Dime"]["quantity"] == 2
    assert lines["Double"]["line_total"] == "0.20"
    assert lines["Double"]["unit_price"] == "0.20"
    assert lines["Double"]["quantity"] == 1


def test_money_fields_are_two_place_strings(client, auth, make_product):
    product = make_product(price="5", stock=5)

    order = buy(client, auth.customer, (product.id, 2))

    assert order["total"] == "10.00"
    assert order["items"][0]["unit_price"] == "5.00"
    assert order["items"][0]["line_total"] == "10.00"


# --- shortages roll everything back -----------------------------------------------------------


@pytest.fixture
def short_cart(client, auth, make_product):
    """A cart of two lines where the admin then lowers the second product's stock below it."""
    plenty = make_product(price="3.00", stock=10, name="Plenty Widget")
    scarce = make_product(price="7.00", stock=5, name="Scarce Gadget")
    add_to_cart(client, auth.customer, plenty.id, 2)
    add_to_cart(client, auth.customer, scarce.id, 3)
    lowered = client.patch(f"/api/products/{scarce.id}", json={"stock": 1}, headers=auth.admin)
    assert lowered.status_code == 200
    assert lowered.get_json()["stock"] == 1
    return plenty, scarce


def test_shortage_is_409_naming_the_product(client, auth, short_cart):
    response = client.post("/api/orders", headers=auth.customer)

    body = assert_problem(response, 409)
    assert "Scarce Gadget" in body["detail"]
    assert "Plenty Widget" not in body["detail"]


def test_shortage_leaves_every_stock_unchanged(client, auth, short_cart, query):
    plenty, scarce = short_cart

    assert_problem(client.post("/api/orders", headers=auth.customer), 409)

    assert stock_of(query, plenty.id) == 10
    assert stock_of(query, scarce.id) == 1


def test_shortage_leaves_the_cart_unchanged(client, auth, short_cart, query):
    plenty, scarce = short_cart

    assert_problem(client.post("/api/orders", headers=auth.customer), 409)

    assert cart_lines(query, auth.customer_user.id) == {plenty.id: 2, scarce.id: 3}


def test_shortage_creates_no_order_rows(client, auth, short_cart, query):
    assert_problem(client.post("/api/orders", headers=auth.customer), 409)

    assert count_rows(query, Order) == 0
    assert count_rows(query, OrderItem) == 0
    history = client.get("/api/orders/history", headers=auth.customer)
    assert history.status_code == 200
    assert history.get_json()["items"] == []
    assert history.get_json()["total"] == 0


def test_shortage_on_first_line_also_rolls_back(client, auth, make_product, query):
    scarce = make_product(price="1.00", stock=5, name="Early Scarce")
    plenty = make_product(price="1.00", stock=5, name="Late Plenty")
    add_to_cart(client, auth.customer, scarce.id, 4)
    add_to_cart(client, auth.customer, plenty.id, 4)
    client.patch(f"/api/products/{scarce.id}", json={"stock": 1}, headers=auth.admin)

    body = assert_problem(client.post("/api/orders", headers=auth.customer), 409)

    assert "Early Scarce" in body["detail"]
    assert stock_of(query, scarce.id) == 1
    assert stock_of(query, plenty.id) == 5
    assert count_rows(query, Order) == 0


def test_checkout_after_fixing_the_shortage_succeeds(client, auth, short_cart, query):
    plenty, scarce = short_cart
    assert_problem(client.post("/api/orders", headers=auth.customer), 409)
    restocked = client.patch(f"/api/products/{scarce.id}", json={"stock": 3}, headers=auth.admin)
    assert restocked.status_code == 200

    order = place_order(client, auth.customer)

    assert order["total"] == "27.00"
    assert stock_of(query, plenty.id) == 8
    assert stock_of(query, scarce.id) == 0
    assert count_rows(query, Order) == 1


def test_order_total_beyond_the_column_is_409_and_changes_nothing(
    client, auth, make_product, query
):
    """The price rose after the cart was filled: refused, not a numeric overflow (500)."""
    product = make_product(price="4000000000.00", stock=5)
    add_to_cart(client, auth.customer, product.id, 2)
    raised = client.patch(
        f"/api/products/{product.id}", json={"price": "6000000000.00"}, headers=auth.admin
    )
    assert raised.status_code == 200

    body = assert_problem(client.post("/api/orders", headers=auth.customer), 409)

    assert "12000000000.00 is more than one order can hold" in body["detail"]
    assert stock_of(query, product.id) == 5
    assert count_rows(query, Order) == 0
    assert cart_lines(query, auth.customer_user.id) == {product.id: 2}


def test_product_deleted_from_cart_is_not_ordered(client, auth, make_product, query):
    kept = make_product(price="1.00", stock=5, name="Kept")
    gone = make_product(price="2.00", stock=5, name="Gone")
    add_to_cart(client, auth.customer, kept.id, 1)
    add_to_cart(client, auth.customer, gone.id, 1)
    assert client.delete(f"/api/products/{gone.id}", headers=auth.admin).status_code == 204

    order = place_order(client, auth.customer)

    assert [item["product_name"] for item in order["items"]] == ["Kept"]
    assert order["total"] == "1.00"
    assert stock_of(query, gone.id) == 5


# --- concurrent-ish buyers --------------------------------------------------------------------


def test_two_buyers_decrements_accumulate_and_third_gets_409(client, auth, make_product, query):
    product = make_product(stock=5, name="Limited Edition")
    alice, bob, carol = auth.user("alice"), auth.user("bob"), auth.user("carol")
    add_to_cart(client, alice.headers, product.id, 2)
    add_to_cart(client, bob.headers, product.id, 3)
    add_to_cart(client, carol.headers, product.id, 1)

    place_order(client, alice.headers)
    assert stock_of(query, product.id) == 3
    place_order(client, bob.headers)
    assert stock_of(query, product.id) == 0

    body = assert_problem(client.post("/api/orders", headers=carol.headers), 409)
    assert "Limited Edition" in body["detail"]
    assert stock_of(query, product.id) == 0
    assert cart_lines(query, carol.id) == {product.id: 1}
    assert count_rows(query, Order) == 2


# --- snapshots --------------------------------------------------------------------------------


def test_order_keeps_old_name_and_price_after_product_update(client, auth, make_product):
    product = make_product(price="19.99", stock=5, name="Mug")
    order = buy(client, auth.customer, (product.id, 2))

    changed = client.patch(
        f"/api/products/{product.id}",
        json={"name": "Renamed Mug", "price": "99.00"},
        headers=auth.admin,
    )
    assert changed.status_code == 200
    assert changed.get_json()["price"] == "99.00"

    response = client.get(f"/api/orders/{order['id']}", headers=auth.customer)
    assert response.status_code == 200
    body = response.get_json()
    assert body["items"] == [
        {
            "product_id": product.id,
            "product_name": "Mug",
            "quantity": 2,
            "unit_price": "19.99",
            "line_total": "39.98",
        }
    ]
    assert body["total"] == "39.98"


def test_order_still_readable_after_product_deleted(client, auth, make_product):
    product = make_product(price="12.34", stock=5, name="Discontinued Lamp")
    order = buy(client, auth.customer, (product.id, 1))

    assert client.delete(f"/api/products/{product.id}", headers=auth.admin).status_code == 204

    response = client.get(f"/api/orders/{order['id']}", headers=auth.customer)
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == "12.34"
    assert len(body["items"]) == 1
    item = body["items"][0]
    assert item["product_name"] == "Discontinued Lamp"
    assert item["unit_price"] == "12.34"
    assert item["quantity"] == 1
    assert item["line_total"] == "12.34"


def test_history_unchanged_after_product_update(client, auth, make_product):
    product = make_product(price="10.00", stock=5)
    order = buy(client, auth.customer, (product.id, 2))
    client.patch(f"/api/products/{product.id}", json={"price": "1.00"}, headers=auth.admin)

    history = client.get("/api/orders/history", headers=auth.customer).get_json()

    assert [(o["id"], o["total"], o["item_count"]) for o in history["items"]] == [
        (order["id"], "20.00", 2)
    ]


# --- history ----------------------------------------------------------------------------------


def test_history_body_shape(client, auth, make_product):
    first, second = make_product(price="1.50", stock=9), make_product(price="2.00", stock=9)
    order = buy(client, auth.customer, (first.id, 2), (second.id, 3))

    response = client.get("/api/orders/history", headers=auth.customer)

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"items", "page", "per_page", "total", "pages"}
    assert body["page"] == 1
    assert body["per_page"] == 20
    assert body["total"] == 1
    assert body["pages"] == 1
    assert body["items"] == [
        {
            "id": order["id"],
            "status": "pending",
            "total": "9.00",
            "created_at": order["created_at"],
            "item_count": 5,
        }
    ]
    assert body["items"][0]["created_at"].endswith("+00:00")


def test_history_is_newest_first(client, auth, make_product):
    product = make_product(stock=10)
    placed = [buy(client, auth.customer, (product.id, 1))["id"] for _ in range(3)]

    body = client.get("/api/orders/history", headers=auth.customer).get_json()

    ids = [order["id"] for order in body["items"]]
    assert ids == sorted(placed, reverse=True)
    assert ids == list(reversed(placed))


def test_history_contains_only_own_orders(client, auth, make_product):
    product = make_product(stock=10)
    alice, bob = auth.user("alice"), auth.user("bob")
    alice_order = buy(client, alice.headers, (product.id, 1))
    bob_order = buy(client, bob.headers, (product.id, 2))

    alice_history = client.get("/api/orders/history", headers=alice.headers).get_json()
    bob_history = client.get("/api/orders/history", headers=bob.headers).get_json()

    assert [o["id"] for o in alice_history["items"]] == [alice_order["id"]]
    assert [o["id"] for o in bob_history["items"]] == [bob_order["id"]]
    assert alice_history["total"] == bob_history["total"] == 1


def test_history_of_admin_is_own_orders_only(client, auth, make_product):
    product = make_product(stock=10)
    buy(client, auth.customer, (product.id, 1))

    body = client.get("/api/orders/history", headers=auth.admin).get_json()

    assert body["items"] == []
    assert body["total"] == 0


def test_history_empty_for_user_without_orders(client, auth):
    response = client.get("/api/orders/history", headers=auth.customer)

    assert response.status_code == 200
    assert response.get_json() == {
        "items": [],
        "page": 1,
        "per_page": 20,
        "total": 0,
        "pages": 0,
    }


def test_history_paginates(client, auth, make_product):
    product = make_product(stock=10)
    placed = [buy(client, auth.customer, (product.id, 1))["id"] for _ in range(3)]
    newest_first = list(reversed(placed))

    page1 = client.get("/api/orders/history?page=1&per_page=2", headers=auth.customer)
    page2 = client.get("/api/orders/history?page=2&per_page=2", headers=auth.customer)

    assert page1.status_code == page2.status_code == 200
    first, second = page1.get_json(), page2.get_json()
    assert [o["id"] for o in first["items"]] == newest_first[:2]
    assert [o["id"] for o in second["items"]] == newest_first[2:]
    assert (first["page"], first["per_page"], first["total"], first["pages"]) == (1, 2, 3, 2)
    assert (second["page"], second["per_page"], second["total"], second["pages"]) == (2, 2, 3, 2)


def test_history_page_past_the_end_is_empty(client, auth, make_product):
    product = make_product(stock=10)
    buy(client, auth.customer, (product.id, 1))

    response = client.get("/api/orders/history?page=5", headers=auth.customer)

    assert response.status_code == 200
    body = response.get_json()
    assert body["items"] == []
    assert body["page"] == 5
    assert body["total"] == 1


def test_history_per_page_100_is_allowed(client, auth):
    response = client.get("/api/orders/history?per_page=100", headers=auth.customer)

    assert response.status_code == 200
    assert response.get_json()["per_page"] == 100


@pytest.mark.parametrize(
    ("query_string", "field"),
    [
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
    ],
)
def test_history_invalid_pagination_is_422(client, auth, query_string, field):
    response = client.get(f"/api/orders/history?{query_string}", headers=auth.customer)

    body = assert_problem(response, 422)
    assert field in body["detail"]


# --- one order --------------------------------------------------------------------------------


def test_get_order_by_owner(client, auth, make_product):
    product = make_product(price="4.25", stock=5, name="Notebook")
    order = buy(client, auth.customer, (product.id, 2))

    response = client.get(f"/api/orders/{order['id']}", headers=auth.customer)

    assert response.status_code == 200
    assert response.get_json() == order
    assert response.get_json()["total"] == "8.50"


def test_get_order_by_admin(client, auth, make_product):
    product = make_product(price="4.25", stock=5)
    order = buy(client, auth.customer, (product.id, 2))

    response = client.get(f"/api/orders/{order['id']}", headers=auth.admin)

    assert response.status_code == 200
    assert response.get_json() == order


def test_get_order_of_another_customer_is_404_like_a_missing_one(client, auth, make_product):
    product = make_product(stock=5)
    order = buy(client, auth.customer, (product.id, 1))
    bob = auth.user("bob")
    missing_id = order["id"] + 1000

    foreign = client.get(f"/api/orders/{order['id']}", headers=bob.headers)
    missing = client.get(f"/api/orders/{missing_id}", headers=bob.headers)

    foreign_body = assert_problem(foreign, 404)
    missing_body = assert_problem(missing, 404)
    assert set(foreign_body) == set(missing_body)
    assert foreign_body["title"] == missing_body["title"]
    assert foreign_body["type"] == missing_body["type"]
    assert foreign_body["detail"].replace(str(order["id"]), "<id>") == missing_body[
        "detail"
    ].replace(str(missing_id), "<id>")


def test_get_missing_order_is_404(client, auth):
    response = client.get("/api/orders/999999", headers=auth.customer)

    assert_problem(response, 404)


def test_get_order_id_beyond_64_bits_is_404(client, auth):
    response = client.get(f"/api/orders/{2**64}", headers=auth.customer)

    assert_problem(response, 404)


@pytest.mark.parametrize("order_id", [2**31, 2**63 - 1], ids=["int32_overflow", "int64_max"])
def test_get_order_large_but_valid_64_bit_id_is_404(client, auth, order_id):
    response = client.get(f"/api/orders/{order_id}", headers=auth.customer)

    assert_problem(response, 404)


# --- authentication ---------------------------------------------------------------------------

ORDER_ROUTES = [
    ("post", "/api/orders"),
    ("get", "/api/orders/history"),
    ("get", "/api/orders/1"),
]


@pytest.mark.parametrize(("method", "url"), ORDER_ROUTES)
def test_order_routes_without_token_are_401(client, method, url):
    response = getattr(client, method)(url)

    assert_problem(response, 401)


@pytest.mark.parametrize(("method", "url"), ORDER_ROUTES)
def test_order_routes_with_garbage_token_are_401(client, method, url):
    response = getattr(client, method)(url, headers={"Authorization": "Bearer abc"})

    assert_problem(response, 401)


def test_unauthenticated_checkout_changes_nothing(client, auth, make_product, query):
    product = make_product(stock=5)
    add_to_cart(client, auth.customer, product.id, 2)

    assert_problem(client.post("/api/orders"), 401)
    assert_problem(client.post("/api/orders", headers={"Authorization": "Bearer abc"}), 401)

    assert stock_of(query, product.id) == 5
    assert cart_lines(query, auth.customer_user.id) == {product.id: 2}
    assert count_rows(query, Order) == 0
