"""Authorization, operation by operation: every operation in openapi.json, every built-in
role and no token.

Each (operation, caller) case builds the same small world (`world` below), sends one valid
request and checks the outcome for that caller:

- anonymous: no token;
- customer_a: owns everything the paths point at (his pending order, the product in his
  cart) and placed his order with the Idempotency-Key `IDEMPOTENCY_KEY`;
- customer_b: another customer, with a cart of his own; he sends A's Idempotency-Key too;
- catalog_manager, order_manager, support, admin: staff holding that built-in role only, who
  own nothing (empty carts, no orders).

A staff operation declares its permission (`x-permission` in the document): the outcome of
each caller comes from it. No token is a 401; a caller whose role grants the permission gets
the row's `granted` outcome; any other a 403 naming the permission. So a new staff route
without a declaration, or with the wrong one, fails here. The other operations give the
outcome per caller (`staff` for every staff caller), and `staff_with` lists the permissions
that let staff act on another user's things (orders:read finds A's order).

Rules the runner applies to every case, on top of the table:

- a 4xx is problem+json and leaves the database exactly as it was (only the caller's own
  Idempotency-Key record may appear: a refused checkout is replayed as the same failure);
- a 401 challenges with `WWW-Authenticate: Bearer`;
- a GET changes nothing;
- whatever customer B sends, A's cart and A's orders are unchanged afterwards.

`test_the_table_covers_every_documented_operation` fails when an operation is added to the
document without a row here; `test_the_table_agrees_with_the_document` keeps the rows honest
(secured operations refuse anonymous callers, public ones answer everyone alike, a 403 is
documented exactly where some caller gets one, and every expected status is documented). An
operation whose token is optional (`security: [{}, bearerAuth]`: only a staff option such as
`include_inactive=true` needs it) is public here; the rows send no such option.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.platform.db import db
from app.platform.models import (
    BUILTIN_ROLES,
    Address,
    BuiltinRole,
    Category,
    Discount,
    Event,
    Order,
    OutgoingEmail,
    Permission,
    Product,
    Role,
    ShippingMethod,
    TaxRate,
    User,
    WebhookDelivery,
    WebhookSubscription,
)
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import assert_problem, cart_lines

OPENAPI = json.loads((Path(__file__).resolve().parent.parent / "openapi.json").read_text())
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

ANONYMOUS, CUSTOMER_A, CUSTOMER_B = "anonymous", "customer_a", "customer_b"
CATALOG_MANAGER, ORDER_MANAGER, SUPPORT, ADMIN = (
    BuiltinRole.CATALOG_MANAGER.value,
    BuiltinRole.ORDER_MANAGER.value,
    BuiltinRole.SUPPORT.value,
    BuiltinRole.ADMIN.value,
)
STAFF = (CATALOG_MANAGER, ORDER_MANAGER, SUPPORT, ADMIN)
USERS = (CUSTOMER_A, CUSTOMER_B, *STAFF)
CALLERS = (ANONYMOUS, *USERS)
ROLE_OF = {CUSTOMER_A: BuiltinRole.CUSTOMER, CUSTOMER_B: BuiltinRole.CUSTOMER} | {
    caller: BuiltinRole(caller) for caller in STAFF
}

IDEMPOTENCY_KEY = "checkout-of-customer-a"
CUSTOM_ROLE = "stock_clerk"
REPLAYED = "Idempotent-Replayed"
NEW_PASSWORD = "plum-Orbit-7-lantern-Quokka"
ADDRESS = {
    "name": "Alice",
    "line1": "1 Main St",
    "city": "Austin",
    "region": "TX",
    "postal_code": "73301",
    "country": "US",
}


def documented_operations() -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, item in OPENAPI["paths"].items()
        for method in HTTP_METHODS
        if method in item
    ]


def operation_doc(operation: tuple[str, str]) -> dict:
    method, path = operation
    return OPENAPI["paths"][path][method.lower()]


# --- the world every case starts from -------------------------------------------------------


class World:
    """Two customers and a user of each staff role, three products, A's pending order and two
    carts; see `world`."""

    def __init__(self, client, query):
        self.client = client
        self.query = query
        self.users: dict[str, SimpleNamespace] = {}
        self.sent: tuple | None = None  # (operation, caller) of the request under test

    # Callers and requests

    def user(self, caller: str) -> SimpleNamespace | None:
        return self.users.get(caller)

    @staticmethod
    def permissions(caller: str) -> frozenset[str]:
        return frozenset() if caller == ANONYMOUS else BUILTIN_ROLES[ROLE_OF[caller]]

    def headers(self, caller: str, token: str = "access") -> dict:
        user = self.user(caller)
        if user is None:
            return {}
        return dict(user.refresh_headers if token == "refresh" else user.headers)

    def send(self, operation: tuple[str, str], caller: str, **path_params):
        method, path = operation
        row = OPERATIONS[operation]
        params = {
            "order_id": self.a_order["id"],
            "product_id": self.mug,
            "category_id": self.mugs,
            "slug": self.mug_slug,
            "subscription_id": self.hook,
            "delivery_id": self.delivery,
            "address_id": self.address,
            "method_id": self.method,
            "rate_id": self.rate,
            "discount_id": self.discount,
            "user_id": self.users[CUSTOMER_A].id,
            "name": CUSTOM_ROLE,
        } | path_params
        kwargs = {"headers": self.headers(caller, row.token) | row.headers}
        if row.body is not None:
            kwargs["json"] = row.body(self)
        if row.query:
            kwargs["query_string"] = row.query
        return self.client.open(path.format(**params), method=method, **kwargs)

    # What the database holds

    def carts(self) -> dict[str, dict[int, int]]:
        return {caller: cart_lines(self.query, self.users[caller].id) for caller in USERS}

    def orders_of(self, caller: str) -> list[tuple]:
        user_id = self.users[caller].id
        return self.query(
            lambda s: [
                (o.id, o.status, o.total, [(i.product_id, i.quantity) for i in o.items])
                for o in s.scalars(select(Order).where(Order.user_id == user_id).order_by(Order.id))
            ]
        )

    def product(self, product_id: int) -> Product | None:
        def read(s):
            product = s.get(Product, product_id)
            s.expunge_all()
            return product

        return self.query(read)

    def category(self, category_id: int) -> Category | None:
        def read(s):
            category = s.get(Category, category_id)
            s.expunge_all()
            return category

        return self.query(read)

    def snapshot(self, except_keys_of: int | None = None) -> dict[str, list[tuple]]:
        """Every row of every table; the caller's own Idempotency-Key rows may be left out."""

        def read(s):
            tables = {}
            for table in db.metadata.sorted_tables:
                stmt = table.select().order_by(*table.primary_key.columns)
                if table.name == "idempotency_keys" and except_keys_of is not None:
                    stmt = stmt.where(table.c.user_id != except_keys_of)
                tables[table.name] = [tuple(row) for row in s.execute(stmt)]
            return tables

        return self.query(read)


@pytest.fixture
def world(client, auth, make_product, query) -> World:
    return build_world(client, auth, make_product, query)


def build_world(client, auth, make_product, query) -> World:
    """Known state for every case:

    - category: mugs (slug "mugs"), which holds the mug;
    - products: mug (19.99, 10 in stock, slug "mug"), dripper (24.50, 9 left), papers (5.00, 10);
    - customer A: a pending order of 1 dripper, placed with IDEMPOTENCY_KEY; cart {mug: 2};
    - customer B: cart {papers: 1}, no orders;
    - a user of each staff role: empty cart, no orders;
    - the custom role CUSTOM_ROLE (inventory:write), which nobody holds;
    - A's address (ADDRESS), shipping method "Standard" (4.90, everywhere), the US tax rate
      (0.05), discount code TEN (10 %);
    - a guest's cart (token `guest_token`) holding 1 dripper.
    """
    w = World(client, query)
    w.users = {
        CUSTOMER_A: auth.user("alice"),
        CUSTOMER_B: auth.user("bob"),
        **{caller: auth.user(caller, roles=(caller,)) for caller in STAFF},
    }
    made = client.post("/api/categories", json={"name": "Mugs"}, headers=w.headers(ADMIN))
    assert made.status_code == 201, made.get_data(as_text=True)
    w.mugs = made.get_json()["id"]
    mug = make_product(name="Mug", price="19.99", stock=10, category_id=w.mugs)
    w.mug, w.mug_slug = mug.id, mug.slug
    assert w.mug_slug == "mug"
    w.dripper = make_product(name="Dripper", price="24.50", stock=10).id
    w.papers = make_product(name="Filter papers", price="5.00", stock=10).id

    def add(caller, product_id, quantity):
        response = client.post(
            "/api/cart",
            json={"product_id": product_id, "quantity": quantity},
            headers=w.headers(caller),
        )
        assert response.status_code == 200, response.get_data(as_text=True)

    add(CUSTOMER_A, w.dripper, 1)
    placed = client.post(
        "/api/orders", headers=w.headers(CUSTOMER_A) | {"Idempotency-Key": IDEMPOTENCY_KEY}
    )
    assert placed.status_code == 201, placed.get_data(as_text=True)
    w.a_order = placed.get_json()
    add(CUSTOMER_A, w.mug, 2)
    add(CUSTOMER_B, w.papers, 1)

    hook = client.post(
        "/api/admin/webhooks",
        json={"url": "http://127.0.0.1:9/hooks", "events": ["order.created"]},
        headers=w.headers(ADMIN),
    )
    assert hook.status_code == 201, hook.get_data(as_text=True)
    w.hook = hook.get_json()["id"]
    w.delivery = query(lambda s: _failed_delivery(s, w.hook))

    def made(path, body, headers):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        made = response.get_json()
        return made.get("id", made.get("name"))

    guest = client.post("/api/carts")
    assert guest.status_code == 201, guest.get_data(as_text=True)
    w.guest_token = guest.get_json()["cart_token"]
    added = client.post(
        "/api/cart", json={"product_id": w.dripper}, headers={"X-Cart-Token": w.guest_token}
    )
    assert added.status_code == 200, added.get_data(as_text=True)
    w.address = made("/api/addresses", ADDRESS, w.headers(CUSTOMER_A))
    admin = w.headers(ADMIN)
    w.method = made("/api/admin/shipping-methods", {"name": "Standard", "price": "4.90"}, admin)
    w.rate = made("/api/admin/tax-rates", {"country": "US", "rate": "0.05"}, admin)
    w.discount = made(
        "/api/admin/discounts", {"code": "TEN", "kind": "percentage", "value": "10"}, admin
    )

    role = made(
        "/api/admin/roles", {"name": CUSTOM_ROLE, "permissions": ["inventory:write"]}, admin
    )
    assert role == CUSTOM_ROLE

    w.fixture_carts = {CUSTOMER_A: {w.mug: 2}, CUSTOMER_B: {w.papers: 1}} | {
        caller: {} for caller in STAFF
    }
    w.a_orders = w.orders_of(CUSTOMER_A)
    assert w.carts() == w.fixture_carts
    assert [o[:2] for o in w.a_orders] == [(w.a_order["id"], "pending")]
    return w


def _failed_delivery(session, subscription_id: int) -> int:
    """A's order.created, delivered to the subscription in vain (as the worker leaves it)."""
    event = session.scalar(select(Event).where(Event.type == "order.created"))
    delivery = WebhookDelivery(
        event_id=event.id, subscription_id=subscription_id, status="failed", attempts=7
    )
    session.add(delivery)
    session.commit()
    return delivery.id


# --- outcome checks: check(world, caller, response) -------------------------------------------

Check = Callable[[World, str, object], None]


def response_lines(response) -> dict[int, int]:
    return {line["product_id"]: line["quantity"] for line in response.get_json()["items"]}


def carts_are(w: World, **changed: dict[int, int]) -> None:
    """The DB carts are the fixture's, except the callers named (keyword = caller)."""
    assert w.carts() == w.fixture_carts | changed


def same_for_everyone(w, caller, response):
    """A public read answers a token holder exactly as it answers an anonymous caller."""
    anonymous = w.send(w.sent[0], ANONYMOUS)
    assert (response.status_code, response.get_json()) == (
        anonymous.status_code,
        anonymous.get_json(),
    )


def registers_a_customer(w, caller, response):
    body = response.get_json()
    assert body["username"] == "newcomer"
    assert body["is_admin"] is False
    user = w.query(lambda s: s.scalar(select(User).where(User.username == "newcomer")))
    assert user is not None and user.is_admin is False and user.id == body["id"]


def queues_a_reset_for_a(w, caller, response):
    """The reset goes to A's address, whoever asked: the asker learns nothing."""
    assert response.get_json() == {
        "detail": "If an account has that address, a reset link is on its way."
    }
    recipients = w.query(lambda s: s.scalars(select(OutgoingEmail.recipient)).all())
    assert recipients == [w.users[CUSTOMER_A].email]


def logs_in_as_a(w, caller, response):
    token = response.get_json()["access_token"]
    me = w.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json()["id"] == w.users[CUSTOMER_A].id


def lists_the_catalog(w, caller, response):
    assert [p["id"] for p in response.get_json()["items"]] == [w.mug, w.dripper, w.papers]


def is_the_mug(w, caller, response):
    assert response.get_json()["id"] == w.mug


def issues_a_token_for_the_caller(w, caller, response):
    token = response.get_json()["access_token"]
    me = w.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json()["id"] == w.users[caller].id


def is_the_caller(w, caller, response):
    body = response.get_json()
    assert body["id"] == w.users[caller].id
    assert body["is_admin"] is (caller == ADMIN)


def revokes_only_the_callers_token(w, caller, response):
    for other in USERS:
        me = w.client.get("/api/auth/me", headers=w.headers(other))
        assert me.status_code == (401 if other == caller else 200), (other, me.get_json())


def log_in(w, caller, password):
    username = w.users[caller].username
    return w.client.post("/api/auth/login", json={"username": username, "password": password})


def changes_only_the_callers_password(w, caller, response):
    """The caller's password and logins change; nobody else's."""
    token = response.get_json()["access_token"]
    me = w.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["id"] == w.users[caller].id
    assert log_in(w, caller, NEW_PASSWORD).status_code == 200
    assert log_in(w, caller, DEFAULT_PASSWORD).status_code == 401
    assert w.client.get("/api/auth/me", headers=w.headers(caller)).status_code == 401
    for other in USERS:
        if other != caller:
            assert w.client.get("/api/auth/me", headers=w.headers(other)).status_code == 200
            assert log_in(w, other, DEFAULT_PASSWORD).status_code == 200, other
            assert log_in(w, other, NEW_PASSWORD).status_code == 401, other


def shows_own_cart(w, caller, response):
    """The caller's own lines and nothing else (B never sees A's mug)."""
    assert response_lines(response) == w.fixture_carts[caller]


def adds_to_own_cart_only(w, caller, response):
    expected = dict(w.fixture_carts[caller])
    expected[w.mug] = expected.get(w.mug, 0) + 1
    assert response_lines(response) == expected
    carts_are(w, **{caller: expected})


def empties_own_cart_only(w, caller, response):
    assert response_lines(response) == {}
    carts_are(w, **{caller: {}})


def sets_a_mug_line_to_1(w, caller, response):
    assert response_lines(response) == {w.mug: 1}
    carts_are(w, customer_a={w.mug: 1})


def removes_a_mug_line(w, caller, response):
    assert response_lines(response) == {}
    carts_are(w, customer_a={})


def replays_a_order(w, caller, response):
    """A's retry with his key gets his first answer back and acts no second time."""
    assert response.get_json() == w.a_order
    assert response.headers.get(REPLAYED) == "true"
    assert w.orders_of(CUSTOMER_A) == w.a_orders
    carts_are(w)


def not_a_replay_of_a_order(w, caller, response):
    """B (or the admin) with A's key gets an outcome of his own, never A's order."""
    assert REPLAYED not in response.headers
    body = response.get_json()
    assert body.get("id") != w.a_order["id"], body
    assert w.orders_of(CUSTOMER_A) == w.a_orders


def places_own_order(w, caller, response):
    body = response.get_json()
    orders = w.orders_of(caller)
    assert [o[0] for o in orders] == [body["id"]]
    assert body["status"] == "pending"
    assert [(i["product_id"], i["quantity"]) for i in body["items"]] == [(w.papers, 1)]
    assert body["total"] == "5.25"  # picked up: the store country's 5 % tax
    carts_are(w, **{caller: {}})


def lists_own_orders(w, caller, response):
    listed = [o["id"] for o in response.get_json()["items"]]
    assert listed == [o[0] for o in reversed(w.orders_of(caller))]
    if caller != CUSTOMER_A:
        assert w.a_order["id"] not in listed


def is_a_order(w, caller, response):
    assert response.get_json() == w.a_order


def like_a_missing_order(w, caller, response):
    """Another customer's order answers exactly like an order that does not exist."""
    order_id = w.a_order["id"]
    missing_id = order_id + 1000
    missing = w.send(w.sent[0], caller, order_id=missing_id)
    assert missing.status_code == response.status_code == 404
    assert missing.headers["Content-Type"] == response.headers["Content-Type"]
    foreign_body = dict(response.get_json(force=True))
    missing_body = dict(missing.get_json(force=True))
    foreign_body["detail"] = foreign_body["detail"].replace(str(order_id), "<id>")
    missing_body["detail"] = missing_body["detail"].replace(str(missing_id), "<id>")
    assert foreign_body == missing_body


def order_becomes(status: str) -> Check:
    def check(w, caller, response):
        assert response.get_json()["status"] == status
        orders = w.orders_of(CUSTOMER_A)
        assert [o[:2] for o in orders] == [(w.a_order["id"], status)]
        dripper_stock = w.product(w.dripper).stock
        assert dripper_stock == (10 if status == "cancelled" else 9)

    check.__name__ = f"order_becomes_{status}"
    return check


def creates_the_teapot(w, caller, response):
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/products/{body['id']}")
    product = w.product(body["id"])
    assert (product.name, str(product.price), product.stock) == ("Teapot", "34.00", 5)


def renames_the_mug(w, caller, response):
    product = w.product(w.mug)
    assert (product.name, str(product.price), product.stock) == ("Big mug", "21.00", 10)


def reprices_the_mug(w, caller, response):
    product = w.product(w.mug)
    assert (product.name, str(product.price), product.stock) == ("Mug", "21.00", 10)


def deletes_the_mug(w, caller, response):
    assert w.client.get(f"/api/products/{w.mug}").status_code == 404
    carts_are(w, customer_a={})


def restocks_the_mug(w, caller, response):
    assert response.get_json()["stock"] == 15
    assert w.product(w.mug).stock == 15


def lists_the_mug_ledger(w, caller, response):
    items = response.get_json()["items"]
    assert items and {m["product_id"] for m in items} == {w.mug}


def lists_every_order(w, caller, response):
    items = response.get_json()["items"]
    assert [(o["id"], o["user_id"]) for o in items] == [(w.a_order["id"], w.users[CUSTOMER_A].id)]


def subscribes_to_order_paid(w, caller, response):
    body = response.get_json()
    assert body["secret"].startswith("whsec_")
    assert response.headers["Location"].endswith(f"/api/admin/webhooks/{body['id']}")
    stored = w.query(lambda s: s.get(WebhookSubscription, body["id"]))
    assert (stored.url, stored.events) == ("http://127.0.0.1:9/paid", ["order.paid"])


def lists_the_subscription(w, caller, response):
    assert [hook["id"] for hook in response.get_json()["items"]] == [w.hook]


def shows_the_subscription(w, caller, response):
    assert response.get_json()["id"] == w.hook and "secret" not in response.get_json()


def pauses_the_subscription(w, caller, response):
    assert w.query(lambda s: s.get(WebhookSubscription, w.hook).active) is False


def deletes_the_subscription(w, caller, response):
    assert w.query(lambda s: s.get(WebhookSubscription, w.hook)) is None


def rotates_the_secret(w, caller, response):
    stored = w.query(lambda s: s.get(WebhookSubscription, w.hook))
    assert response.get_json()["secret"] == stored.secret != stored.previous_secret


def lists_the_delivery_log(w, caller, response):
    assert response.get_json()["items"] == []  # no attempt was logged in the fixture


def queues_the_delivery_again(w, caller, response):
    delivery = w.query(lambda s: s.get(WebhookDelivery, w.delivery))
    assert (delivery.status, response.get_json()["status"]) == ("pending", "pending")


def lists_the_dripper(w, caller, response):
    assert [p["id"] for p in response.get_json()["items"]] == [w.dripper]


def lists_the_categories(w, caller, response):
    assert [(c["id"], c["slug"]) for c in response.get_json()["items"]] == [(w.mugs, "mugs")]


def is_the_mugs_category(w, caller, response):
    body = response.get_json()
    assert (body["id"], body["name"], body["slug"]) == (w.mugs, "Mugs", "mugs")


def creates_the_kettles_category(w, caller, response):
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/categories/{body['id']}")
    category = w.category(body["id"])
    assert (category.name, category.slug, category.parent_id) == ("Kettles", "kettles", None)


def renames_the_mugs_category(w, caller, response):
    category = w.category(w.mugs)
    assert (category.name, category.slug) == ("Cups", "cups")
    assert w.product(w.mug).category_id == w.mugs


def describes_the_mugs_category(w, caller, response):
    category = w.category(w.mugs)
    assert (category.name, category.slug, category.description) == ("Mugs", "mugs", "Stoneware.")


def deletes_the_mugs_category(w, caller, response):
    """Forced: the mug stays in the catalog, in no category."""
    assert w.category(w.mugs) is None
    mug = w.client.get(f"/api/products/{w.mug}").get_json()
    assert (mug["id"], mug["category_id"], mug["category"]) == (w.mug, None, None)


def opens_an_empty_guest_cart(w, caller, response):
    token = response.get_json()["cart_token"]
    cart = w.client.get("/api/cart", headers={"X-Cart-Token": token})
    assert (cart.status_code, cart.get_json()["items"]) == (200, [])
    carts_are(w)


def merges_the_guest_cart_into_own(w, caller, response):
    expected = dict(w.fixture_carts[caller])
    expected[w.dripper] = expected.get(w.dripper, 0) + 1
    assert response_lines(response) == expected
    assert response.get_json()["adjustments"] == []
    carts_are(w, **{caller: expected})
    gone = w.client.get("/api/cart", headers={"X-Cart-Token": w.guest_token})
    assert gone.status_code == 401


def lists_own_addresses(w, caller, response):
    listed = [address["id"] for address in response.get_json()["items"]]
    assert listed == ([w.address] if caller == CUSTOMER_A else [])


def adds_to_own_book(w, caller, response):
    body = response.get_json()
    stored = w.query(lambda s: s.get(Address, body["id"]))
    assert (stored.user_id, stored.city) == (w.users[caller].id, "Boston")


def is_a_address(w, caller, response):
    assert (response.get_json()["id"], response.get_json()["city"]) == (w.address, "Austin")


def moves_a_address(w, caller, response):
    assert w.query(lambda s: s.get(Address, w.address).city) == "Dallas"


def deletes_a_address(w, caller, response):
    assert w.query(lambda s: s.get(Address, w.address)) is None


def previews_own_cart(w, caller, response):
    """Totals of the caller's own cart (5 % US tax); nothing is written."""
    expected = {CUSTOMER_A: ("39.98", "2.00", "41.98"), CUSTOMER_B: ("5.00", "0.25", "5.25")}
    totals = response.get_json()["totals"]
    assert (totals["subtotal"], totals["tax"], totals["total"]) == expected[caller]
    carts_are(w)
    assert w.orders_of(CUSTOMER_A) == w.a_orders


def lists_the_method(w, caller, response):
    assert [method["id"] for method in response.get_json()["items"]] == [w.method]


def is_the_method(w, caller, response):
    assert response.get_json()["id"] == w.method


def adds_express_shipping(w, caller, response):
    stored = w.query(lambda s: s.get(ShippingMethod, response.get_json()["id"]))
    assert (stored.name, str(stored.price)) == ("Express", "14.90")


def reprices_the_method(w, caller, response):
    assert str(w.query(lambda s: s.get(ShippingMethod, w.method).price)) == "5.90"


def deletes_the_method(w, caller, response):
    assert w.query(lambda s: s.get(ShippingMethod, w.method)) is None


def lists_the_rate(w, caller, response):
    assert [rate["id"] for rate in response.get_json()["items"]] == [w.rate]


def is_the_rate(w, caller, response):
    assert response.get_json()["rate"] == "0.0500"


def adds_the_german_rate(w, caller, response):
    stored = w.query(lambda s: s.get(TaxRate, response.get_json()["id"]))
    assert (stored.country, str(stored.rate)) == ("DE", "0.1900")


def changes_the_rate(w, caller, response):
    assert str(w.query(lambda s: s.get(TaxRate, w.rate).rate)) == "0.0600"


def deletes_the_rate(w, caller, response):
    assert w.query(lambda s: s.get(TaxRate, w.rate)) is None


def lists_the_code(w, caller, response):
    assert [code["code"] for code in response.get_json()["items"]] == ["TEN"]


def is_the_code(w, caller, response):
    assert (response.get_json()["id"], response.get_json()["used"]) == (w.discount, 0)


def adds_the_spring_code(w, caller, response):
    stored = w.query(lambda s: s.get(Discount, response.get_json()["id"]))
    assert (stored.code, stored.kind, str(stored.value)) == ("SPRING", "fixed", "5.00")


def pauses_the_code(w, caller, response):
    assert w.query(lambda s: s.get(Discount, w.discount).active) is False


def deletes_the_code(w, caller, response):
    assert w.query(lambda s: s.get(Discount, w.discount)) is None


def lists_every_user(w, caller, response):
    listed = [user["id"] for user in response.get_json()["items"]]
    assert listed == sorted(user.id for user in w.users.values())


def is_a_account(w, caller, response):
    body = response.get_json()
    assert (body["id"], body["roles"], body["active"]) == (
        w.users[CUSTOMER_A].id,
        ["customer"],
        True,
    )


def roles_of(w, caller_name: str) -> list[str]:
    return w.query(lambda s: s.get(User, w.users[caller_name].id).role_names)


def makes_a_support_agent(w, caller, response):
    assert response.get_json()["roles"] == ["customer", "support"]
    assert roles_of(w, CUSTOMER_A) == ["customer", "support"]
    # On his next request, with the token he already had.
    me = w.client.get("/api/auth/me", headers=w.headers(CUSTOMER_A))
    assert me.get_json()["permissions"] == ["audit:read", "customers:read", "orders:read"]


def deactivates_a(w, caller, response):
    assert response.get_json()["active"] is False
    assert w.query(lambda s: s.get(User, w.users[CUSTOMER_A].id).active) is False
    assert w.client.get("/api/auth/me", headers=w.headers(CUSTOMER_A)).status_code == 401


def a_stays_active(w, caller, response):
    assert response.get_json()["active"] is True
    assert w.client.get("/api/auth/me", headers=w.headers(CUSTOMER_A)).status_code == 200


def lists_the_roles(w, caller, response):
    names = [role["name"] for role in response.get_json()["items"]]
    assert names == sorted([*(role.value for role in BuiltinRole), CUSTOM_ROLE])


def stored_role(w, name: str) -> tuple | None:
    def read(s):
        role = s.scalar(select(Role).where(Role.name == name))
        return None if role is None else (role.permissions, role.builtin)

    return w.query(read)


def makes_the_writer_role(w, caller, response):
    assert response.get_json() == {
        "name": "writer",
        "permissions": ["catalog:write"],
        "builtin": False,
    }
    assert stored_role(w, "writer") == (["catalog:write"], False)


def widens_the_custom_role(w, caller, response):
    assert stored_role(w, CUSTOM_ROLE) == (["catalog:write", "inventory:write"], False)


def deletes_the_custom_role(w, caller, response):
    assert stored_role(w, CUSTOM_ROLE) is None


def lists_the_setup_writes(w, caller, response):
    """The fixture's staff writes, newest first: the admin's requests, and the products
    made straight through the service (no actor)."""
    admin = w.users[ADMIN].id
    assert [(entry["action"], entry["actor_id"]) for entry in response.get_json()["items"]] == [
        ("role.create", admin),
        ("discount.create", admin),
        ("tax_rate.create", admin),
        ("shipping_method.create", admin),
        ("webhook.create", admin),
        ("product.create", None),
        ("product.create", None),
        ("product.create", None),
        ("category.create", admin),
    ]


# --- the table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    status: int
    checks: tuple[Check, ...] = ()

    def __repr__(self) -> str:
        return " ".join([str(self.status), *(check.__name__ for check in self.checks)])


def expect(status: int, *checks: Check) -> Expect:
    return Expect(status, checks)


# Refusals; the runner adds: problem+json, nothing changed, and for 401 the Bearer challenge.
UNAUTHENTICATED = expect(401)
NOT_FOUND_LIKE_A_MISSING_ORDER = expect(404, like_a_missing_order)
NOT_IN_OWN_CART = expect(404)  # the line is looked up in the caller's own cart
NOT_IN_OWN_BOOK = expect(404)  # an address is looked up in the caller's own book


@dataclass(frozen=True)
class Row:
    """`granted` for a staff operation (`x-permission`); the callers' outcomes otherwise."""

    granted: Expect | None = None
    anonymous: Expect | None = None
    customer_a: Expect | None = None
    customer_b: Expect | None = None
    staff: Expect | None = None  # every staff caller, unless `staff_with` says otherwise
    # (permission, outcome): a staff caller holding the permission gets the outcome (the
    # first that applies).
    staff_with: tuple[tuple[str, Expect], ...] = ()
    body: Callable[[World], dict] | None = None
    query: dict | None = None
    headers: dict | None = None
    token: str = "access"  # "refresh" for POST /api/auth/refresh

    def __post_init__(self):
        object.__setattr__(self, "headers", self.headers or {})


def everyone(outcome: Expect) -> dict:
    return dict(anonymous=outcome, customer_a=outcome, customer_b=outcome, staff=outcome)


def every_user(outcome: Expect) -> dict:
    """Each signed-in caller gets `outcome` (about his own things); no token gets a 401."""
    return everyone(outcome) | {"anonymous": UNAUTHENTICATED}


def missing(permission: str) -> Expect:
    def names_the_permission(w, caller, response):
        assert response.get_json()["missing_permission"] == permission

    names_the_permission.__name__ = f"names_{permission}"
    return expect(403, names_the_permission)


def expected(operation: tuple[str, str], caller: str) -> Expect:
    """The outcome of `caller`: from the declared permission for a staff operation."""
    row = OPERATIONS[operation]
    permission = operation_doc(operation).get("x-permission")
    if permission is not None:
        if caller == ANONYMOUS:
            return UNAUTHENTICATED
        return row.granted if permission in World.permissions(caller) else missing(permission)
    if caller not in STAFF:
        return getattr(row, caller)
    for needed, outcome in row.staff_with:
        if needed in World.permissions(caller):
            return outcome
    return row.staff


OPERATIONS: dict[tuple[str, str], Row] = {
    # --- public: no security in the document, the same answer for every caller ------------
    ("POST", "/api/auth/register"): Row(
        **everyone(expect(201, registers_a_customer)),
        body=lambda w: {
            "username": "newcomer",
            "email": "newcomer@example.com",
            "password": NEW_PASSWORD,
        },
    ),
    ("POST", "/api/auth/login"): Row(
        **everyone(expect(200, logs_in_as_a)),
        body=lambda w: {"username": "alice", "password": DEFAULT_PASSWORD},
    ),
    ("POST", "/api/auth/password/forgot"): Row(
        **everyone(expect(202, queues_a_reset_for_a)),
        body=lambda w: {"email": w.users[CUSTOMER_A].email},
    ),
    ("POST", "/api/auth/password/reset"): Row(
        # Whoever sends it: a token nobody was sent is refused, and nothing changes.
        **everyone(expect(422)),
        body=lambda w: {"token": "never-sent", "new_password": NEW_PASSWORD},
    ),
    ("GET", "/api/products"): Row(**everyone(expect(200, lists_the_catalog, same_for_everyone))),
    ("GET", "/api/products/{product_id}"): Row(
        **everyone(expect(200, is_the_mug, same_for_everyone))
    ),
    ("GET", "/api/products/by-slug/{slug}"): Row(
        **everyone(expect(200, is_the_mug, same_for_everyone))
    ),
    ("GET", "/api/categories"): Row(
        **everyone(expect(200, lists_the_categories, same_for_everyone))
    ),
    ("GET", "/api/categories/{category_id}"): Row(
        **everyone(expect(200, is_the_mugs_category, same_for_everyone))
    ),
    ("POST", "/api/payments/stripe/webhook"): Row(
        # Nobody's token makes a webhook Stripe's: without its signature it is refused.
        **everyone(expect(400)),
        body=lambda w: {"id": "evt_1", "type": "payment_intent.succeeded", "data": {}},
        headers={"Stripe-Signature": "t=1,v1=00"},
    ),
    ("GET", "/healthz"): Row(**everyone(expect(200, same_for_everyone))),
    ("GET", "/readyz"): Row(**everyone(expect(200, same_for_everyone))),
    # --- any signed-in user, acting on his own account -------------------------------------
    ("POST", "/api/auth/refresh"): Row(
        **every_user(expect(200, issues_a_token_for_the_caller)),
        token="refresh",
    ),
    ("GET", "/api/auth/me"): Row(
        **every_user(expect(200, is_the_caller)),
    ),
    ("POST", "/api/auth/logout"): Row(
        **every_user(expect(204, revokes_only_the_callers_token)),
    ),
    ("POST", "/api/auth/password"): Row(
        **every_user(expect(200, changes_only_the_callers_password)),
        body=lambda w: {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    ),
    # --- carts: everyone has his own; {product_id} is the mug in A's cart -------------------
    ("GET", "/api/cart"): Row(
        **every_user(expect(200, shows_own_cart)),
    ),
    ("POST", "/api/cart"): Row(
        **every_user(expect(200, adds_to_own_cart_only)),
        body=lambda w: {"product_id": w.mug, "quantity": 1},
    ),
    ("DELETE", "/api/cart"): Row(
        **every_user(expect(200, empties_own_cart_only)),
    ),
    ("POST", "/api/carts"): Row(**everyone(expect(201, opens_an_empty_guest_cart))),
    ("POST", "/api/cart/merge"): Row(
        **every_user(expect(200, merges_the_guest_cart_into_own)),
        body=lambda w: {"cart_token": w.guest_token},
    ),
    ("PUT", "/api/cart/{product_id}"): Row(
        anonymous=UNAUTHENTICATED,
        customer_a=expect(200, sets_a_mug_line_to_1),
        customer_b=NOT_IN_OWN_CART,
        staff=NOT_IN_OWN_CART,
        body=lambda w: {"quantity": 1},
    ),
    ("DELETE", "/api/cart/{product_id}"): Row(
        anonymous=UNAUTHENTICATED,
        customer_a=expect(200, removes_a_mug_line),
        customer_b=NOT_IN_OWN_CART,
        staff=NOT_IN_OWN_CART,
    ),
    # --- orders: {order_id} is A's pending order --------------------------------------------
    ("POST", "/api/orders"): Row(
        anonymous=UNAUTHENTICATED,
        customer_a=expect(201, replays_a_order),
        customer_b=expect(201, not_a_replay_of_a_order, places_own_order),
        staff=expect(409, not_a_replay_of_a_order),  # his own cart is empty
        headers={"Idempotency-Key": IDEMPOTENCY_KEY},
    ),
    ("GET", "/api/orders/history"): Row(
        **every_user(expect(200, lists_own_orders)),
    ),
    ("GET", "/api/orders/{order_id}"): Row(
        anonymous=UNAUTHENTICATED,
        customer_a=expect(200, is_a_order),
        customer_b=NOT_FOUND_LIKE_A_MISSING_ORDER,
        staff=NOT_FOUND_LIKE_A_MISSING_ORDER,
        staff_with=((Permission.ORDERS_READ, expect(200, is_a_order)),),
    ),
    ("POST", "/api/orders/{order_id}/cancel"): Row(
        anonymous=UNAUTHENTICATED,
        customer_a=expect(200, order_becomes("cancelled")),
        customer_b=NOT_FOUND_LIKE_A_MISSING_ORDER,
        staff=NOT_FOUND_LIKE_A_MISSING_ORDER,
        staff_with=(
            (Permission.ORDERS_WRITE, expect(200, order_becomes("cancelled"))),
            # He finds the order, but may not change it.
            (Permission.ORDERS_READ, missing(Permission.ORDERS_WRITE)),
        ),
    ),
    # --- staff operations: the outcome follows the declared permission ----------------------
    ("PATCH", "/api/orders/{order_id}"): Row(
        granted=expect(200, order_becomes("paid")),
        body=lambda w: {"status": "paid"},
    ),
    ("POST", "/api/products"): Row(
        granted=expect(201, creates_the_teapot),
        body=lambda w: {"name": "Teapot", "price": "34.00", "stock": 5},
    ),
    ("PUT", "/api/products/{product_id}"): Row(
        granted=expect(200, renames_the_mug),
        body=lambda w: {"name": "Big mug", "price": "21.00"},
    ),
    ("PATCH", "/api/products/{product_id}"): Row(
        granted=expect(200, reprices_the_mug),
        body=lambda w: {"price": "21.00"},
    ),
    ("DELETE", "/api/products/{product_id}"): Row(
        granted=expect(204, deletes_the_mug),
    ),
    ("POST", "/api/products/{product_id}/stock"): Row(
        granted=expect(200, restocks_the_mug),
        body=lambda w: {"delta": 5, "reason": "restock from supplier"},
    ),
    ("GET", "/api/products/{product_id}/stock-movements"): Row(
        granted=expect(200, lists_the_mug_ledger),
    ),
    ("POST", "/api/categories"): Row(
        granted=expect(201, creates_the_kettles_category),
        body=lambda w: {"name": "Kettles"},
    ),
    ("PUT", "/api/categories/{category_id}"): Row(
        granted=expect(200, renames_the_mugs_category),
        body=lambda w: {"name": "Cups", "slug": "cups"},
    ),
    ("PATCH", "/api/categories/{category_id}"): Row(
        granted=expect(200, describes_the_mugs_category),
        body=lambda w: {"description": "Stoneware."},
    ),
    ("DELETE", "/api/categories/{category_id}"): Row(
        granted=expect(204, deletes_the_mugs_category),
        query={"force": "true"},  # the mug is in it: the strongest delete
    ),
    ("GET", "/api/admin/orders"): Row(
        granted=expect(200, lists_every_order),
    ),
    ("POST", "/api/admin/webhooks"): Row(
        granted=(expect(201, subscribes_to_order_paid)),
        body=lambda w: {"url": "http://127.0.0.1:9/paid", "events": ["order.paid"]},
    ),
    ("GET", "/api/admin/webhooks"): Row(granted=(expect(200, lists_the_subscription))),
    ("GET", "/api/admin/webhooks/{subscription_id}"): Row(
        granted=(expect(200, shows_the_subscription))
    ),
    ("PATCH", "/api/admin/webhooks/{subscription_id}"): Row(
        granted=(expect(200, pauses_the_subscription)), body=lambda w: {"active": False}
    ),
    ("DELETE", "/api/admin/webhooks/{subscription_id}"): Row(
        granted=(expect(204, deletes_the_subscription))
    ),
    ("POST", "/api/admin/webhooks/{subscription_id}/rotate-secret"): Row(
        granted=(expect(200, rotates_the_secret))
    ),
    ("GET", "/api/admin/webhooks/{subscription_id}/deliveries"): Row(
        granted=(expect(200, lists_the_delivery_log))
    ),
    ("POST", "/api/admin/webhooks/deliveries/{delivery_id}/redeliver"): Row(
        granted=(expect(202, queues_the_delivery_again))
    ),
    # --- the address book: everyone his own; {address_id} is A's ---------------------------
    ("GET", "/api/addresses"): Row(**every_user(expect(200, lists_own_addresses))),
    ("POST", "/api/addresses"): Row(
        **every_user(expect(201, adds_to_own_book)), body=lambda w: ADDRESS | {"city": "Boston"}
    ),
    ("GET", "/api/addresses/{address_id}"): Row(
        anonymous=UNAUTHENTICATED,
        customer_a=expect(200, is_a_address),
        customer_b=NOT_IN_OWN_BOOK,
        staff=NOT_IN_OWN_BOOK,
    ),
    ("PATCH", "/api/addresses/{address_id}"): Row(
        anonymous=UNAUTHENTICATED,
        customer_a=expect(200, moves_a_address),
        customer_b=NOT_IN_OWN_BOOK,
        staff=NOT_IN_OWN_BOOK,
        body=lambda w: {"city": "Dallas"},
    ),
    ("DELETE", "/api/addresses/{address_id}"): Row(
        anonymous=UNAUTHENTICATED,
        customer_a=expect(204, deletes_a_address),
        customer_b=NOT_IN_OWN_BOOK,
        staff=NOT_IN_OWN_BOOK,
    ),
    # --- checkout: the caller's own cart ----------------------------------------------------
    ("POST", "/api/checkout/preview"): Row(
        anonymous=UNAUTHENTICATED,
        customer_a=expect(200, previews_own_cart),
        customer_b=expect(200, previews_own_cart),
        staff=expect(409),  # his own cart is empty
    ),
    # --- shipping, tax and discount settings ------------------------------------------------
    ("GET", "/api/shipping-methods"): Row(
        **everyone(expect(200, lists_the_method, same_for_everyone)), query={"country": "US"}
    ),
    ("GET", "/api/admin/shipping-methods"): Row(granted=(expect(200, lists_the_method))),
    ("POST", "/api/admin/shipping-methods"): Row(
        granted=(expect(201, adds_express_shipping)),
        body=lambda w: {"name": "Express", "price": "14.90", "countries": ["US"]},
    ),
    ("GET", "/api/admin/shipping-methods/{method_id}"): Row(granted=(expect(200, is_the_method))),
    ("PATCH", "/api/admin/shipping-methods/{method_id}"): Row(
        granted=(expect(200, reprices_the_method)), body=lambda w: {"price": "5.90"}
    ),
    ("DELETE", "/api/admin/shipping-methods/{method_id}"): Row(
        granted=(expect(204, deletes_the_method))
    ),
    ("GET", "/api/admin/tax-rates"): Row(granted=(expect(200, lists_the_rate))),
    ("POST", "/api/admin/tax-rates"): Row(
        granted=(expect(201, adds_the_german_rate)),
        body=lambda w: {"country": "DE", "rate": "0.19"},
    ),
    ("GET", "/api/admin/tax-rates/{rate_id}"): Row(granted=(expect(200, is_the_rate))),
    ("PATCH", "/api/admin/tax-rates/{rate_id}"): Row(
        granted=(expect(200, changes_the_rate)), body=lambda w: {"rate": "0.06"}
    ),
    ("DELETE", "/api/admin/tax-rates/{rate_id}"): Row(granted=(expect(204, deletes_the_rate))),
    ("GET", "/api/admin/discounts"): Row(granted=(expect(200, lists_the_code))),
    ("POST", "/api/admin/discounts"): Row(
        granted=(expect(201, adds_the_spring_code)),
        body=lambda w: {"code": "SPRING", "kind": "fixed", "value": "5"},
    ),
    ("GET", "/api/admin/discounts/{discount_id}"): Row(granted=(expect(200, is_the_code))),
    ("PATCH", "/api/admin/discounts/{discount_id}"): Row(
        granted=(expect(200, pauses_the_code)), body=lambda w: {"active": False}
    ),
    ("DELETE", "/api/admin/discounts/{discount_id}"): Row(granted=(expect(204, deletes_the_code))),
    # --- staff management -------------------------------------------------------------------
    ("GET", "/api/admin/users"): Row(granted=expect(200, lists_every_user)),
    ("GET", "/api/admin/users/{user_id}"): Row(granted=expect(200, is_a_account)),
    ("PUT", "/api/admin/users/{user_id}/roles"): Row(
        granted=expect(200, makes_a_support_agent),
        body=lambda w: {"roles": ["customer", "support"]},
    ),
    ("POST", "/api/admin/users/{user_id}/deactivate"): Row(granted=expect(200, deactivates_a)),
    ("POST", "/api/admin/users/{user_id}/activate"): Row(granted=expect(200, a_stays_active)),
    ("GET", "/api/admin/roles"): Row(granted=expect(200, lists_the_roles)),
    ("POST", "/api/admin/roles"): Row(
        granted=expect(201, makes_the_writer_role),
        body=lambda w: {"name": "writer", "permissions": ["catalog:write"]},
    ),
    ("PATCH", "/api/admin/roles/{name}"): Row(
        granted=expect(200, widens_the_custom_role),
        body=lambda w: {"permissions": ["inventory:write", "catalog:write"]},
    ),
    ("DELETE", "/api/admin/roles/{name}"): Row(granted=expect(204, deletes_the_custom_role)),
    ("GET", "/api/admin/audit"): Row(granted=expect(200, lists_the_setup_writes)),
    ("GET", "/api/admin/low-stock"): Row(
        granted=expect(200, lists_the_dripper),
        query={"threshold": 9},
    ),
}


# --- the table against the document ---------------------------------------------------------


def test_the_table_covers_every_documented_operation():
    documented = set(documented_operations())
    assert documented - set(OPERATIONS) == set(), "operations without a row in OPERATIONS"
    assert set(OPERATIONS) - documented == set(), "rows for operations the document lacks"


@pytest.mark.parametrize("operation", documented_operations(), ids=" ".join)
def test_the_table_agrees_with_the_document(operation):
    assert operation in OPERATIONS, f"no row for {operation}"
    row = OPERATIONS[operation]
    doc = operation_doc(operation)
    security = doc.get("security", OPENAPI.get("security")) or []
    # An empty requirement ({}) makes the token optional: the operation answers everyone, and
    # only a staff option (such as include_inactive=true) needs the token (401/403).
    secured = bool(security) and {} not in security
    outcomes = {caller: expected(operation, caller) for caller in CALLERS}

    if "x-permission" in doc:
        assert secured and row.granted is not None
        assert Permission(doc["x-permission"]) in BUILTIN_ROLES[BuiltinRole.ADMIN]
        assert (row.anonymous, row.customer_a, row.customer_b, row.staff) == (None,) * 4
    else:
        assert row.granted is None and None not in outcomes.values(), outcomes
    if secured:
        assert outcomes[ANONYMOUS].status == 401
    else:
        assert len({outcome.status for outcome in outcomes.values()}) == 1, outcomes
    statuses = {outcome.status for outcome in outcomes.values()}
    if {} not in security:  # the staff option's 403 is not sent here
        assert (403 in statuses) == ("403" in doc["responses"]), outcomes
    for caller, outcome in outcomes.items():
        assert str(outcome.status) in doc["responses"], (caller, outcome)


def test_every_staff_role_is_refused_somewhere_and_admin_nowhere():
    """The roles differ: each but admin meets a 403 on some staff operation."""
    refused = {
        caller
        for operation in documented_operations()
        for caller in STAFF
        if expected(operation, caller).status == 403
    }
    assert refused == {CATALOG_MANAGER, ORDER_MANAGER, SUPPORT}


# --- every operation, every caller ------------------------------------------------------------

CASES = [(operation, caller) for operation in documented_operations() for caller in CALLERS]


@pytest.mark.parametrize(
    ("operation", "caller"), CASES, ids=[f"{' '.join(op)} as {who}" for op, who in CASES]
)
def test_each_caller_gets_the_documented_outcome(world, operation, caller):
    assert operation in OPERATIONS, f"no row for {operation}"
    expected_outcome = expected(operation, caller)
    user = world.user(caller)
    own_keys = user.id if user else None
    before = world.snapshot(except_keys_of=own_keys)

    world.sent = (operation, caller)
    response = world.send(operation, caller)

    assert response.status_code == expected_outcome.status, (
        f"{' '.join(operation)} as {caller}: expected {expected_outcome!r}, got "
        f"{response.status_code} {response.get_data(as_text=True)}"
    )
    if expected_outcome.status >= 400:
        assert_problem(response, expected_outcome.status)
        assert world.snapshot(except_keys_of=own_keys) == before, "a refusal changed data"
    if expected_outcome.status == 401:
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
    if operation[0] == "GET":
        assert world.snapshot(except_keys_of=own_keys) == before, "a GET changed data"
    if caller == CUSTOMER_B:
        assert cart_lines(world.query, world.users[CUSTOMER_A].id) == {world.mug: 2}
        assert world.orders_of(CUSTOMER_A) == world.a_orders
    for check in expected_outcome.checks:
        check(world, caller, response)
