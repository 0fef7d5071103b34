"""Mass assignment: fields a client must not set never take effect.

Request schemas reject unknown fields (`additionalProperties: false` in openapi.json), so a
server-owned field in a body is a 422 naming it, and the database is left exactly as it was
(`snapshot` compares every row of every table). Each endpoint also has a control request,
the same body without the forbidden field, to show that the field alone causes the refusal.

`POST /api/orders` takes no body at all; whatever one carries must have no effect: the order
belongs to the caller, is pending, and holds the cart's lines at the catalog's prices.
"""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.platform.db import db
from app.platform.models import Order, Product, Role, User
from tests.helpers import add_to_cart, assert_problem, cart_lines, count_rows

TIMESTAMP = "2000-01-01T00:00:00+00:00"


def snapshot(query) -> dict[str, list[tuple]]:
    """Every row of every table."""

    def read(s):
        return {
            table.name: [
                tuple(row) for row in s.execute(table.select().order_by(*table.primary_key))
            ]
            for table in db.metadata.sorted_tables
        }

    return query(read)


def refused(response, field: str) -> None:
    body = assert_problem(response, 422, field)
    assert field in body["detail"], body


# --- register -------------------------------------------------------------------------------

REGISTRATION = {
    "username": "mallory",
    "email": "mallory@example.com",
    "password": "plum-Orbit-7-lantern-Quokka",
}


def test_register_control_creates_a_customer(client, query):
    response = client.post("/api/auth/register", json=REGISTRATION)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["is_admin"] is False
    user = query(lambda s: s.scalar(select(User).where(User.username == "mallory")))
    assert user.is_admin is False


def admin_count(query) -> int:
    return query(
        lambda s: s.scalar(
            select(func.count()).select_from(User).where(User.roles.any(Role.name == "admin"))
        )
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("is_admin", True),
        ("is_admin", "true"),
        ("is_admin", 1),
        ("admin", True),
        ("role", "admin"),
        ("roles", ["admin"]),
        ("permissions", ["staff:write"]),
        ("active", False),
        ("id", "existing"),  # the id of the existing admin: an attempt to take its row over
        ("id", 4242),
        ("created_at", TIMESTAMP),
        ("password_hash", "pbkdf2:sha256:1$x$y"),
    ],
)
def test_register_refuses_a_server_owned_field(client, auth, query, field, value):
    admin = auth.admin_user
    value = admin.id if value == "existing" else value
    before = snapshot(query)

    response = client.post("/api/auth/register", json={**REGISTRATION, field: value})

    refused(response, field)
    assert snapshot(query) == before
    assert count_rows(query, User, User.username == "mallory") == 0
    assert admin_count(query) == 1


def test_register_refuses_all_server_owned_fields_at_once(client, query):
    fields = {"is_admin": True, "id": 4242, "created_at": TIMESTAMP}

    response = client.post("/api/auth/register", json={**REGISTRATION, **fields})

    body = assert_problem(response, 422, *fields)
    assert set(body["errors"]) == set(fields)
    assert count_rows(query, User) == 0


# --- products (as the admin) ----------------------------------------------------------------

PRODUCT_FIELDS = [
    ("id", 4242),
    ("id", "other"),  # the id of another product: an attempt to overwrite it
    ("created_at", TIMESTAMP),
    ("updated_at", TIMESTAMP),
    ("deleted_at", TIMESTAMP),
    ("deleted_at", None),
]


@pytest.fixture
def other_product(make_product):
    return make_product(name="Other", price="3.00", stock=3)


def test_product_create_control(client, auth, query):
    response = client.post(
        "/api/products", json={"name": "Teapot", "price": "34.00", "stock": 5}, headers=auth.admin
    )

    assert response.status_code == 201, response.get_data(as_text=True)


@pytest.mark.parametrize(("field", "value"), PRODUCT_FIELDS)
def test_product_create_refuses_a_server_owned_field(
    client, auth, query, other_product, field, value
):
    value = other_product.id if value == "other" else value
    admin = auth.admin_user
    before = snapshot(query)

    response = client.post(
        "/api/products",
        json={"name": "Teapot", "price": "34.00", "stock": 5, field: value},
        headers=admin.headers,
    )

    refused(response, field)
    assert snapshot(query) == before


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_product_update_control(client, auth, make_product, query, method):
    product = make_product(name="Mug", price="19.99", stock=10)

    response = client.open(
        f"/api/products/{product.id}", method=method, json={"price": "21.00"}, headers=auth.admin
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert query(lambda s: s.get(Product, product.id).price) == Decimal("21.00")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize(("field", "value"), PRODUCT_FIELDS)
def test_product_update_refuses_a_server_owned_field(
    client, auth, make_product, query, other_product, method, field, value
):
    product = make_product(name="Mug", price="19.99", stock=10)
    value = other_product.id if value == "other" else value
    admin = auth.admin_user
    before = snapshot(query)

    response = client.open(
        f"/api/products/{product.id}",
        method=method,
        json={"price": "21.00", field: value},
        headers=admin.headers,
    )

    refused(response, field)
    assert snapshot(query) == before


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_deleted_product_is_not_revived_by_deleted_at_null(
    client, auth, make_product, query, method
):
    product = make_product(name="Mug", price="19.99", stock=10)
    assert client.delete(f"/api/products/{product.id}", headers=auth.admin).status_code == 204
    before = snapshot(query)

    response = client.open(
        f"/api/products/{product.id}",
        method=method,
        json={"deleted_at": None},
        headers=auth.admin,
    )

    # Refused either for the field (422, validation comes first) or as a missing product (404).
    assert response.status_code in (404, 422), response.get_data(as_text=True)
    assert_problem(response, response.status_code)
    assert snapshot(query) == before
    assert client.get(f"/api/products/{product.id}").status_code == 404


# --- cart input -----------------------------------------------------------------------------

CART_FIELDS = [
    ("price", "0.01"),
    ("name", "Free mug"),
    ("unit_price", "0.01"),
    ("line_total", "0.01"),
    ("user_id", "other"),  # another customer's id: an attempt to fill his cart
    ("stock", 1_000_000),
]


@pytest.fixture
def shop(client, auth, make_product):
    """A mug (19.99, 10 in stock) and a second customer, Bob, with one mug in his cart."""
    mug = make_product(name="Mug", price="19.99", stock=10)
    bob = auth.user("bob")
    add_to_cart(client, bob.headers, mug.id, 1)
    return mug, bob


def test_cart_add_control(client, auth, query, shop):
    mug, _bob = shop

    response = client.post(
        "/api/cart", json={"product_id": mug.id, "quantity": 2}, headers=auth.customer
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert cart_lines(query, auth.customer_user.id) == {mug.id: 2}


@pytest.mark.parametrize(("field", "value"), CART_FIELDS)
def test_cart_add_refuses_a_field_the_client_does_not_own(client, auth, query, shop, field, value):
    mug, bob = shop
    value = bob.id if value == "other" else value
    customer = auth.customer_user
    before = snapshot(query)

    response = client.post(
        "/api/cart",
        json={"product_id": mug.id, "quantity": 2, field: value},
        headers=customer.headers,
    )

    refused(response, field)
    assert snapshot(query) == before
    assert cart_lines(query, customer.id) == {}
    assert cart_lines(query, bob.id) == {mug.id: 1}


def test_cart_set_quantity_control(client, auth, query, shop):
    mug, _bob = shop
    add_to_cart(client, auth.customer, mug.id, 1)

    response = client.put(f"/api/cart/{mug.id}", json={"quantity": 2}, headers=auth.customer)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert cart_lines(query, auth.customer_user.id) == {mug.id: 2}


@pytest.mark.parametrize(("field", "value"), CART_FIELDS)
def test_cart_set_quantity_refuses_a_field_the_client_does_not_own(
    client, auth, query, shop, field, value
):
    mug, bob = shop
    value = bob.id if value == "other" else value
    customer = auth.customer_user
    add_to_cart(client, customer.headers, mug.id, 1)
    before = snapshot(query)

    response = client.put(
        f"/api/cart/{mug.id}", json={"quantity": 2, field: value}, headers=customer.headers
    )

    refused(response, field)
    assert snapshot(query) == before
    assert cart_lines(query, customer.id) == {mug.id: 1}
    assert cart_lines(query, bob.id) == {mug.id: 1}


# --- order placement: the endpoint takes no body ---------------------------------------------


def order_rows(query, user_id=None):
    stmt = select(Order).order_by(Order.id)
    if user_id is not None:
        stmt = stmt.where(Order.user_id == user_id)
    return query(
        lambda s: [
            {
                "id": o.id,
                "user_id": o.user_id,
                "status": o.status,
                "total": o.total,
                "items": [(i.product_id, i.quantity, i.unit_price) for i in o.items],
                "history": [change.status for change in o.status_history],
            }
            for o in s.scalars(stmt)
        ]
    )


@pytest.fixture
def checkout(client, auth, make_product, query):
    """The customer's cart: 2 mugs at 19.99. Bob has a teapot in his cart. A spare product
    that no cart holds."""
    mug = make_product(name="Mug", price="19.99", stock=10)
    teapot = make_product(name="Teapot", price="34.00", stock=5)
    spare = make_product(name="Spare", price="7.00", stock=100)
    bob = auth.user("bob")
    add_to_cart(client, auth.customer, mug.id, 2)
    add_to_cart(client, bob.headers, teapot.id, 1)
    return {"mug": mug, "teapot": teapot, "spare": spare, "bob": bob}


def order_body_fields(world) -> dict:
    return {
        "price": "0.01",
        "total": "0.01",
        "status": "delivered",
        "user_id": world["bob"].id,
        "items": [
            {"product_id": world["spare"].id, "quantity": 50, "unit_price": "0.01"},
            {"product_id": world["mug"].id, "quantity": 1, "unit_price": "0.01"},
        ],
    }


@pytest.mark.parametrize("field", ["price", "total", "status", "user_id", "items", "all"])
def test_order_placement_body_never_takes_effect(client, auth, query, checkout, field):
    fields = order_body_fields(checkout)
    body = fields if field == "all" else {field: fields[field]}
    customer, bob = auth.customer_user, checkout["bob"]
    mug, teapot, spare = checkout["mug"], checkout["teapot"], checkout["spare"]
    before = snapshot(query)

    response = client.post("/api/orders", json=body, headers=customer.headers)

    assert response.status_code in (201, 422), response.get_data(as_text=True)
    if response.status_code == 422:
        # Refusing the body is as safe as ignoring it, provided nothing happens.
        for name in body:
            assert_problem(response, 422, name)
        assert snapshot(query) == before
        return
    # Accepted: the order is the one the cart and the catalog make, whatever the body says.
    order = response.get_json()
    assert order["status"] == "pending"
    assert order["total"] == "39.98"
    assert [(i["product_id"], i["quantity"], i["unit_price"]) for i in order["items"]] == [
        (mug.id, 2, "19.99")
    ]
    assert order_rows(query) == [
        {
            "id": order["id"],
            "user_id": customer.id,
            "status": "pending",
            "total": Decimal("39.98"),
            "items": [(mug.id, 2, Decimal("19.99"))],
            "history": ["pending"],
        }
    ]
    assert order_rows(query, bob.id) == []
    assert cart_lines(query, customer.id) == {}
    assert cart_lines(query, bob.id) == {teapot.id: 1}
    stocks = query(lambda s: {p.id: p.stock for p in s.scalars(select(Product))})
    assert stocks == {mug.id: 8, teapot.id: 5, spare.id: 100}
    prices = query(lambda s: {p.id: p.price for p in s.scalars(select(Product))})
    assert prices == {mug.id: Decimal("19.99"), teapot.id: Decimal("34.00"), spare.id: 7}


# --- order status change (as the admin): only `status` may change ---------------------------


@pytest.fixture
def placed_order(client, auth, make_product):
    mug = make_product(name="Mug", price="19.99", stock=10)
    add_to_cart(client, auth.customer, mug.id, 2)
    response = client.post("/api/orders", headers=auth.customer)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_order_status_change_control(client, auth, query, placed_order):
    response = client.patch(
        f"/api/orders/{placed_order['id']}", json={"status": "paid"}, headers=auth.admin
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert order_rows(query)[0]["status"] == "paid"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user_id", "admin"),
        ("total", "0.01"),
        ("items", []),
        ("items", [{"product_id": 1, "quantity": 100, "unit_price": "0.01"}]),
        ("id", 4242),
        ("created_at", TIMESTAMP),
        ("status_history", []),
    ],
)
def test_order_status_change_refuses_any_other_field(
    client, auth, query, placed_order, field, value
):
    admin = auth.admin_user
    value = admin.id if value == "admin" else value
    before = snapshot(query)

    response = client.patch(
        f"/api/orders/{placed_order['id']}",
        json={"status": "paid", field: value},
        headers=admin.headers,
    )

    refused(response, field)
    assert snapshot(query) == before
    assert order_rows(query)[0]["status"] == "pending"
