"""The shopping cart: lines, quantities within stock, exact money, ownership, error format."""

import json

import pytest

from tests.helpers import assert_problem

EMPTY_CART = {"items": [], "total": "0.00", "item_count": 0}
LINE_FIELDS = {"product_id", "name", "unit_price", "quantity", "line_total"}


def assert_cart(response):
    """A 200 cart response; returns its body."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"items", "total", "item_count"}
    for line in body["items"]:
        assert set(line) == LINE_FIELDS
    return body


def lines(cart):
    """{product_id: quantity} of a cart body, independent of line order."""
    return {line["product_id"]: line["quantity"] for line in cart["items"]}


@pytest.fixture
def add(client, auth):
    """POST /api/cart as the customer (or `headers`); asserts success, returns the cart."""

    def run(product_id, quantity=None, headers=None):
        payload = {"product_id": product_id}
        if quantity is not None:
            payload["quantity"] = quantity
        response = client.post("/api/cart", json=payload, headers=headers or auth.customer)
        return assert_cart(response)

    return run


@pytest.fixture
def cart_of(client, auth):
    def run(headers=None):
        return assert_cart(client.get("/api/cart", headers=headers or auth.customer))

    return run


# --- authentication ------------------------------------------------------------------------

CART_REQUESTS = [
    ("GET", "/api/cart", None),
    ("POST", "/api/cart", {"product_id": 1, "quantity": 1}),
    ("DELETE", "/api/cart", None),
    ("PUT", "/api/cart/1", {"quantity": 1}),
    ("DELETE", "/api/cart/1", None),
]


@pytest.mark.parametrize(("method", "url", "payload"), CART_REQUESTS)
def test_cart_routes_without_token_are_401(client, method, url, payload):
    assert_problem(client.open(url, method=method, json=payload), 401)


@pytest.mark.parametrize(("method", "url", "payload"), CART_REQUESTS)
def test_cart_routes_with_invalid_token_are_401(client, method, url, payload):
    response = client.open(
        url, method=method, json=payload, headers={"Authorization": "Bearer not-a-jwt"}
    )
    assert_problem(response, 401)


def test_cart_add_without_token_changes_nothing(client, auth, make_product, cart_of):
    product = make_product(stock=5)
    assert_problem(client.post("/api/cart", json={"product_id": product.id}), 401)
    assert cart_of() == EMPTY_CART


def test_cart_refresh_token_is_not_accepted(client, auth):
    response = client.get("/api/cart", headers=auth.customer_user.refresh_headers)
    assert_problem(response, 401)


# --- reading -------------------------------------------------------------------------------


def test_new_user_has_empty_cart(cart_of):
    assert cart_of() == EMPTY_CART


def test_cart_with_trailing_slash_is_served_without_redirect(client, auth):
    response = client.get("/api/cart/", headers=auth.customer)
    assert assert_cart(response) == EMPTY_CART


# --- adding --------------------------------------------------------------------------------


def test_add_to_cart_returns_cart_with_full_line(client, auth, make_product):
    product = make_product(name="Teapot", price="19.99", stock=5)
    response = client.post(
        "/api/cart", json={"product_id": product.id, "quantity": 3}, headers=auth.customer
    )
    assert assert_cart(response) == {
        "items": [
            {
                "product_id": product.id,
                "name": "Teapot",
                "unit_price": "19.99",
                "quantity": 3,
                "line_total": "59.97",
            }
        ],
        "total": "59.97",
        "item_count": 3,
    }


def test_add_to_cart_is_persisted(add, cart_of, make_product):
    product = make_product(price="19.99", stock=5)
    added = add(product.id, 3)
    assert cart_of() == added
    assert lines(cart_of()) == {product.id: 3}


def test_add_to_cart_quantity_defaults_to_1(add, make_product):
    product = make_product(price="4.50", stock=5)
    cart = add(product.id)
    assert lines(cart) == {product.id: 1}
    assert cart["total"] == "4.50"
    assert cart["item_count"] == 1


def test_add_to_cart_adds_to_the_quantity_already_there(add, cart_of, make_product):
    product = make_product(price="2.00", stock=10)
    add(product.id, 2)
    cart = add(product.id, 3)
    assert cart["items"][0]["quantity"] == 5
    assert len(cart["items"]) == 1
    assert cart["total"] == "10.00"
    assert lines(cart_of()) == {product.id: 5}


def test_add_to_cart_up_to_exactly_the_stock_is_allowed(add, make_product):
    product = make_product(stock=4)
    add(product.id, 1)
    cart = add(product.id, 3)
    assert lines(cart) == {product.id: 4}


def test_add_to_cart_item_count_is_sum_of_quantities(add, make_product):
    first = make_product(price="1.00", stock=10)
    second = make_product(price="1.00", stock=10)
    add(first.id, 2)
    cart = add(second.id, 3)
    assert cart["item_count"] == 5
    assert len(cart["items"]) == 2
    assert lines(cart) == {first.id: 2, second.id: 3}


def test_add_to_cart_unknown_product_is_404(client, auth, make_product, cart_of):
    product = make_product()
    response = client.post(
        "/api/cart", json={"product_id": product.id + 1000}, headers=auth.customer
    )
    assert_problem(response, 404)
    assert cart_of() == EMPTY_CART


def test_add_to_cart_deleted_product_is_404(client, auth, make_product, cart_of):
    product = make_product(stock=5)
    assert client.delete(f"/api/products/{product.id}", headers=auth.admin).status_code == 204
    response = client.post("/api/cart", json={"product_id": product.id}, headers=auth.customer)
    assert_problem(response, 404)
    assert cart_of() == EMPTY_CART


def test_add_to_cart_above_stock_is_409(client, auth, make_product, cart_of):
    product = make_product(stock=2)
    response = client.post(
        "/api/cart", json={"product_id": product.id, "quantity": 3}, headers=auth.customer
    )
    assert_problem(response, 409)
    assert cart_of() == EMPTY_CART


def test_add_to_cart_cumulative_quantity_above_stock_is_409_and_cart_unchanged(
    client, auth, add, cart_of, make_product
):
    product = make_product(price="19.99", stock=5)
    before = add(product.id, 3)
    response = client.post(
        "/api/cart", json={"product_id": product.id, "quantity": 3}, headers=auth.customer
    )
    assert_problem(response, 409)
    assert cart_of() == before
    assert lines(cart_of()) == {product.id: 3}


def test_cart_total_beyond_what_an_order_holds_is_409_and_cart_unchanged(
    client, auth, add, cart_of, make_product
):
    """Found by the fuzzer: a cart of 409 x 3,577,200,281.20 could not become an order."""
    product = make_product(price="5000000000.00", stock=10)
    before = add(product.id, 1)
    response = client.post(
        "/api/cart", json={"product_id": product.id, "quantity": 1}, headers=auth.customer
    )
    body = assert_problem(response, 409)
    assert "10000000000.00 is more than one order can hold" in body["detail"]
    assert cart_of() == before
    put = client.put(f"/api/cart/{product.id}", json={"quantity": 2}, headers=auth.customer)
    assert_problem(put, 409)
    assert cart_of() == before


def test_add_to_cart_of_out_of_stock_product_is_409(client, auth, make_product, cart_of):
    product = make_product(stock=0)
    response = client.post("/api/cart", json={"product_id": product.id}, headers=auth.customer)
    assert_problem(response, 409)
    assert cart_of() == EMPTY_CART


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": "2"}, "quantity"),
        ({"quantity": None}, "quantity"),
        ({"product_id": None}, "product_id"),
        ({"product_id": "1"}, "product_id"),
        ({"product_id": 1.5}, "product_id"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_add_to_cart_invalid_input_is_422_and_changes_nothing(
    client, auth, make_product, cart_of, payload, field
):
    product = make_product(stock=10)
    body = {"product_id": product.id, **payload}
    response = client.post("/api/cart", json=body, headers=auth.customer)
    assert_problem(response, 422, field)
    assert cart_of() == EMPTY_CART


def test_add_to_cart_missing_product_id_is_422(client, auth):
    response = client.post("/api/cart", json={"quantity": 1}, headers=auth.customer)
    assert_problem(response, 422, "product_id")


def test_add_to_cart_product_id_beyond_64_bits_is_422_not_500(client, auth):
    response = client.post(
        "/api/cart", json={"product_id": 99999999999999999999999}, headers=auth.customer
    )
    assert_problem(response, 422, "product_id")


def test_add_to_cart_form_data_is_415(client, auth, make_product, cart_of):
    product = make_product(stock=5)
    response = client.post(
        "/api/cart", data={"product_id": str(product.id), "quantity": "1"}, headers=auth.customer
    )
    assert_problem(response, 415)
    assert cart_of() == EMPTY_CART


def test_add_to_cart_malformed_json_is_400(client, auth, cart_of):
    response = client.post(
        "/api/cart",
        data='{"product_id": 1,',
        content_type="application/json",
        headers=auth.customer,
    )
    assert_problem(response, 400)
    assert cart_of() == EMPTY_CART


@pytest.mark.parametrize("payload", [[{"product_id": 1}], "text", 7])
def test_add_to_cart_json_that_is_not_an_object_is_422(client, auth, cart_of, payload):
    response = client.post(
        "/api/cart",
        data=json.dumps(payload),
        content_type="application/json",
        headers=auth.customer,
    )
    assert_problem(response, 422)
    assert cart_of() == EMPTY_CART


# --- setting a quantity --------------------------------------------------------------------


def test_set_quantity_replaces_the_quantity(client, auth, add, cart_of, make_product):
    product = make_product(price="3.00", stock=10)
    add(product.id, 2)
    response = client.put(f"/api/cart/{product.id}", json={"quantity": 7}, headers=auth.customer)
    cart = assert_cart(response)
    assert lines(cart) == {product.id: 7}
    assert cart["items"][0]["line_total"] == "21.00"
    assert cart["total"] == "21.00"
    assert cart["item_count"] == 7
    assert cart_of() == cart


def test_set_quantity_can_lower_the_quantity(client, auth, add, make_product):
    product = make_product(stock=10)
    add(product.id, 5)
    response = client.put(f"/api/cart/{product.id}", json={"quantity": 1}, headers=auth.customer)
    assert lines(assert_cart(response)) == {product.id: 1}


def test_set_quantity_to_exactly_the_stock_is_allowed(client, auth, add, make_product):
    product = make_product(stock=6)
    add(product.id, 1)
    response = client.put(f"/api/cart/{product.id}", json={"quantity": 6}, headers=auth.customer)
    assert lines(assert_cart(response)) == {product.id: 6}


def test_set_quantity_zero_removes_the_line(client, auth, add, cart_of, make_product):
    kept = make_product(price="1.25", stock=10)
    removed = make_product(price="9.00", stock=10)
    add(kept.id, 2)
    add(removed.id, 1)
    response = client.put(f"/api/cart/{removed.id}", json={"quantity": 0}, headers=auth.customer)
    cart = assert_cart(response)
    assert lines(cart) == {kept.id: 2}
    assert cart["total"] == "2.50"
    assert cart["item_count"] == 2
    assert cart_of() == cart


def test_set_quantity_zero_on_the_only_line_empties_the_cart(client, auth, add, make_product):
    product = make_product(stock=10)
    add(product.id, 2)
    response = client.put(f"/api/cart/{product.id}", json={"quantity": 0}, headers=auth.customer)
    assert assert_cart(response) == EMPTY_CART


def test_set_quantity_of_product_not_in_cart_is_404(client, auth, add, cart_of, make_product):
    in_cart = make_product(stock=10)
    not_in_cart = make_product(stock=10)
    before = add(in_cart.id, 2)
    response = client.put(
        f"/api/cart/{not_in_cart.id}", json={"quantity": 1}, headers=auth.customer
    )
    assert_problem(response, 404)
    assert cart_of() == before


def test_set_quantity_of_unknown_product_is_404(client, auth, make_product):
    product = make_product()
    response = client.put(
        f"/api/cart/{product.id + 1000}", json={"quantity": 1}, headers=auth.customer
    )
    assert_problem(response, 404)


def test_set_quantity_zero_of_product_not_in_cart_is_404(client, auth, make_product):
    product = make_product(stock=10)
    response = client.put(f"/api/cart/{product.id}", json={"quantity": 0}, headers=auth.customer)
    assert_problem(response, 404)


def test_set_quantity_above_stock_is_409_and_cart_unchanged(
    client, auth, add, cart_of, make_product
):
    product = make_product(price="19.99", stock=5)
    before = add(product.id, 2)
    response = client.put(f"/api/cart/{product.id}", json={"quantity": 6}, headers=auth.customer)
    assert_problem(response, 409)
    assert cart_of() == before
    assert lines(cart_of()) == {product.id: 2}


@pytest.mark.parametrize(
    "payload",
    [{"quantity": -1}, {"quantity": 1.5}, {"quantity": "2"}, {"quantity": None}, {}],
)
def test_set_quantity_invalid_input_is_422_and_cart_unchanged(
    client, auth, add, cart_of, make_product, payload
):
    product = make_product(stock=10)
    before = add(product.id, 2)
    response = client.put(f"/api/cart/{product.id}", json=payload, headers=auth.customer)
    assert_problem(response, 422, "quantity")
    assert cart_of() == before


def test_set_quantity_with_unknown_field_is_422(client, auth, add, cart_of, make_product):
    product = make_product(stock=10)
    before = add(product.id, 2)
    response = client.put(
        f"/api/cart/{product.id}", json={"quantity": 3, "user_id": 1}, headers=auth.customer
    )
    assert_problem(response, 422, "user_id")
    assert cart_of() == before


def test_set_quantity_form_data_is_415(client, auth, add, cart_of, make_product):
    product = make_product(stock=10)
    before = add(product.id, 2)
    response = client.put(f"/api/cart/{product.id}", data={"quantity": "3"}, headers=auth.customer)
    assert_problem(response, 415)
    assert cart_of() == before


def test_set_quantity_malformed_json_is_400(client, auth, add, cart_of, make_product):
    product = make_product(stock=10)
    before = add(product.id, 2)
    response = client.put(
        f"/api/cart/{product.id}",
        data="{quantity: 3}",
        content_type="application/json",
        headers=auth.customer,
    )
    assert_problem(response, 400)
    assert cart_of() == before


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_cart_line_id_beyond_64_bits_is_404(client, auth, method):
    payload = {"quantity": 1} if method == "PUT" else None
    response = client.open(
        "/api/cart/99999999999999999999999", method=method, json=payload, headers=auth.customer
    )
    assert_problem(response, 404)


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_cart_line_non_numeric_id_is_404(client, auth, method):
    payload = {"quantity": 1} if method == "PUT" else None
    response = client.open("/api/cart/abc", method=method, json=payload, headers=auth.customer)
    assert_problem(response, 404)


# --- removing ------------------------------------------------------------------------------


def test_remove_line_returns_cart_without_it(client, auth, add, cart_of, make_product):
    kept = make_product(price="5.00", stock=10)
    removed = make_product(price="7.00", stock=10)
    add(kept.id, 1)
    add(removed.id, 2)
    response = client.delete(f"/api/cart/{removed.id}", headers=auth.customer)
    cart = assert_cart(response)
    assert lines(cart) == {kept.id: 1}
    assert cart["total"] == "5.00"
    assert cart["item_count"] == 1
    assert cart_of() == cart


def test_remove_line_not_in_cart_is_404(client, auth, add, cart_of, make_product):
    in_cart = make_product(stock=10)
    not_in_cart = make_product(stock=10)
    before = add(in_cart.id, 2)
    assert_problem(client.delete(f"/api/cart/{not_in_cart.id}", headers=auth.customer), 404)
    assert cart_of() == before


def test_remove_line_twice_is_404(client, auth, add, make_product):
    product = make_product(stock=10)
    add(product.id)
    assert_cart(client.delete(f"/api/cart/{product.id}", headers=auth.customer))
    assert_problem(client.delete(f"/api/cart/{product.id}", headers=auth.customer), 404)


def test_clear_cart_returns_empty_cart(client, auth, add, cart_of, make_product):
    first = make_product(stock=10)
    second = make_product(stock=10)
    add(first.id, 2)
    add(second.id, 1)
    response = client.delete("/api/cart", headers=auth.customer)
    assert assert_cart(response) == EMPTY_CART
    assert cart_of() == EMPTY_CART


def test_clear_empty_cart_is_200(client, auth):
    assert assert_cart(client.delete("/api/cart", headers=auth.customer)) == EMPTY_CART


def test_clear_cart_keeps_the_products(client, auth, add, make_product):
    product = make_product(stock=10)
    add(product.id, 2)
    client.delete("/api/cart", headers=auth.customer)
    response = client.get(f"/api/products/{product.id}")
    assert response.status_code == 200
    assert response.get_json()["stock"] == 10


# --- money ---------------------------------------------------------------------------------


def test_line_total_is_unit_price_times_quantity(add, make_product):
    product = make_product(price="19.99", stock=5)
    cart = add(product.id, 3)
    line = cart["items"][0]
    assert line["unit_price"] == "19.99"
    assert line["line_total"] == "59.97"
    assert cart["total"] == "59.97"


def test_total_sums_lines_exactly_without_float_artefacts(add, make_product):
    dime = make_product(price="0.10", stock=10)
    twenty = make_product(price="0.20", stock=10)
    add(dime.id, 3)
    cart = add(twenty.id, 1)
    by_product = {line["product_id"]: line for line in cart["items"]}
    assert by_product[dime.id]["line_total"] == "0.30"
    assert by_product[twenty.id]["line_total"] == "0.20"
    assert cart["total"] == "0.50"
    assert cart["item_count"] == 4


def test_total_of_many_cents_is_exact(add, make_product):
    products = [make_product(price=price, stock=100) for price in ("0.01", "0.07", "1.10")]
    for product in products:
        add(product.id, 33)
    cart = add(products[0].id, 1)
    # 34 x 0.01 + 33 x 0.07 + 33 x 1.10 = 0.34 + 2.31 + 36.30
    assert cart["total"] == "38.95"
    assert cart["item_count"] == 100


def test_money_is_formatted_with_two_places(add, make_product):
    product = make_product(price="5", stock=5)
    cart = add(product.id, 2)
    assert cart["items"][0]["unit_price"] == "5.00"
    assert cart["items"][0]["line_total"] == "10.00"
    assert cart["total"] == "10.00"


def test_cart_shows_the_current_product_price(client, auth, add, cart_of, make_product):
    product = make_product(price="10.00", stock=5)
    add(product.id, 2)
    response = client.patch(
        f"/api/products/{product.id}", json={"price": "12.35"}, headers=auth.admin
    )
    assert response.status_code == 200
    cart = cart_of()
    assert cart["items"][0]["unit_price"] == "12.35"
    assert cart["items"][0]["line_total"] == "24.70"
    assert cart["total"] == "24.70"


def test_cart_shows_the_current_product_name(client, auth, add, cart_of, make_product):
    product = make_product(name="Old name", stock=5)
    add(product.id)
    client.patch(f"/api/products/{product.id}", json={"name": "New name"}, headers=auth.admin)
    assert cart_of()["items"][0]["name"] == "New name"


def test_deleted_product_disappears_from_cart(client, auth, add, cart_of, make_product):
    product = make_product(price="3.00", stock=5)
    add(product.id, 2)
    assert client.delete(f"/api/products/{product.id}", headers=auth.admin).status_code == 204
    assert cart_of() == EMPTY_CART


# --- ownership -----------------------------------------------------------------------------


def test_users_see_only_their_own_cart(auth, add, cart_of, make_product):
    product = make_product(price="2.00", stock=10)
    bob = auth.user("bob")
    add(product.id, 3)
    assert cart_of(bob.headers) == EMPTY_CART
    bob_cart = add(product.id, 1, headers=bob.headers)
    assert lines(bob_cart) == {product.id: 1}
    assert lines(cart_of()) == {product.id: 3}


def test_stock_check_is_per_user_cart(auth, add, make_product):
    product = make_product(stock=3)
    bob = auth.user("bob")
    add(product.id, 3)
    assert lines(add(product.id, 3, headers=bob.headers)) == {product.id: 3}


def test_user_cannot_set_quantity_of_another_users_line(client, auth, add, cart_of, make_product):
    product = make_product(stock=10)
    bob = auth.user("bob")
    before = add(product.id, 2)
    response = client.put(f"/api/cart/{product.id}", json={"quantity": 5}, headers=bob.headers)
    assert_problem(response, 404)
    assert cart_of() == before
    assert cart_of(bob.headers) == EMPTY_CART


def test_user_cannot_remove_another_users_line(client, auth, add, cart_of, make_product):
    product = make_product(stock=10)
    bob = auth.user("bob")
    before = add(product.id, 2)
    assert_problem(client.delete(f"/api/cart/{product.id}", headers=bob.headers), 404)
    assert cart_of() == before


def test_clearing_one_cart_leaves_other_carts_alone(client, auth, add, cart_of, make_product):
    product = make_product(stock=10)
    bob = auth.user("bob")
    before = add(product.id, 2)
    add(product.id, 1, headers=bob.headers)
    assert assert_cart(client.delete("/api/cart", headers=bob.headers)) == EMPTY_CART
    assert cart_of() == before
