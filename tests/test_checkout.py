"""Checkout with money in: preview and order answer the same breakdown, to the cent.

The table TOTALS is checked three ways on each engine: the preview's answer, the order's
answer, and what the order row stores. Prices are tax-exclusive; tax is rounded half-up once
per order on subtotal - discount + shipping (app.ordering.checkout).
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.ordering.emails import order_email
from app.platform.db import db, utcnow
from app.platform.models import CartItem, Discount, Event, Order
from tests.helpers import assert_problem, cart_lines, stock_of
from tests.invariants import inventory_violations

TEXAS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "Austin",
    "region": "TX",
    "postal_code": "73301",
    "country": "US",
}


@dataclass
class Shop:
    """Admin set-up through the API, and a customer with a cart."""

    client: object
    auth: object
    make_product: object
    customer: dict = field(default_factory=dict)

    def admin_post(self, path: str, body: dict) -> dict:
        response = self.client.post(path, json=body, headers=self.auth.admin)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    def tax(self, country: str, rate: str, region: str | None = None) -> dict:
        return self.admin_post(
            "/api/admin/tax-rates", {"country": country, "region": region, "rate": rate}
        )

    def method(self, price: str, free_over: str | None = None, countries=(), **extra) -> int:
        body = {"name": "Standard", "price": price, "free_over": free_over}
        body |= {"countries": list(countries), **extra}
        return self.admin_post("/api/admin/shipping-methods", body)["id"]

    def code(self, code: str, kind: str, value: str, **extra) -> dict:
        body = {"code": code, "kind": kind, "value": value, **extra}
        return self.admin_post("/api/admin/discounts", body)

    def cart(self, *lines: tuple[str, int], headers: dict | None = None) -> list[int]:
        ids = []
        for price, quantity in lines:
            product = self.make_product(price=price, stock=100)
            response = self.client.post(
                "/api/cart",
                json={"product_id": product.id, "quantity": quantity},
                headers=headers or self.customer,
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            ids.append(product.id)
        return ids

    def preview(self, body: dict | None = None, headers: dict | None = None):
        return self.client.post(
            "/api/checkout/preview", json=body or {}, headers=headers or self.customer
        )

    def order(self, body: dict | None = None, headers: dict | None = None):
        kwargs = {} if body is None else {"json": body}
        return self.client.post("/api/orders", headers=headers or self.customer, **kwargs)

    def order_with_everything(self) -> dict:
        """3 x 19.99 to Texas (8.25 %), Standard shipping 4.90, code TEN (10 %): 63.73."""
        self.tax("US", "0.0825", "TX")
        method_id = self.method("4.90")
        self.code("TEN", "percentage", "10")
        self.cart(("19.99", 3))
        body = {"shipping_address": TEXAS, "shipping_method_id": method_id, "discount_code": "TEN"}
        placed = self.order(body)
        assert placed.status_code == 201, placed.get_data(as_text=True)
        return placed.get_json()


@pytest.fixture
def shop(client, auth, make_product) -> Shop:
    return Shop(client, auth, make_product, auth.customer)


def totals(subtotal, discount, shipping, tax, total) -> dict:
    return {
        "subtotal": subtotal,
        "discount": discount,
        "shipping": shipping,
        "tax": tax,
        "total": total,
    }


# (name, cart lines, set-up, body, expected totals)
TOTALS = [
    (
        "pickup, no tax anywhere",
        [("19.99", 3)],
        {},
        {},
        totals("59.97", "0.00", "0.00", "0.00", "59.97"),
    ),
    (
        "pickup pays the store country's rate",
        [("10.00", 1)],
        {"taxes": [("US", "0.0725", None)]},
        {},
        totals("10.00", "0.00", "0.00", "0.73", "10.73"),
    ),
    (
        "percentage, shipping, regional tax",
        [("19.99", 3)],
        {"taxes": [("US", "0.05", None), ("US", "0.0825", "TX")], "method": ("4.90", "100")},
        {"discount_code": "TEN"},
        totals("59.97", "6.00", "4.90", "4.86", "63.73"),
    ),
    (
        "a region without its own rate pays the country's",
        [("19.99", 3)],
        {"taxes": [("US", "0.05", None), ("US", "0.0825", "TX")], "method": ("4.90", None)},
        {"address": {"region": "NY"}},
        totals("59.97", "0.00", "4.90", "3.24", "68.11"),
    ),
    (
        "regions compare case-insensitively",
        [("100.00", 1)],
        {"taxes": [("US", "0.0825", "TX")], "method": ("0.00", None)},
        {"address": {"region": "tx"}},
        totals("100.00", "0.00", "0.00", "8.25", "108.25"),
    ),
    (
        "free over the threshold",
        [("25.00", 2)],
        {"method": ("4.90", "50.00")},
        {},
        totals("50.00", "0.00", "0.00", "0.00", "50.00"),
    ),
    (
        "the threshold counts the subtotal after the discount",
        [("25.00", 2)],
        {"method": ("4.90", "50.00")},
        {"discount_code": "FIVE"},
        totals("50.00", "5.00", "4.90", "0.00", "49.90"),
    ),
    (
        "half a cent of tax rounds up",
        [("0.10", 1)],
        {"taxes": [("US", "0.05", None)]},
        {},
        totals("0.10", "0.00", "0.00", "0.01", "0.11"),
    ),
    (
        "just under half a cent of tax rounds down",
        [("0.09", 1)],
        {"taxes": [("US", "0.05", None)]},
        {},
        totals("0.09", "0.00", "0.00", "0.00", "0.09"),
    ),
    (
        "half a cent of percentage discount rounds up",
        [("0.20", 1)],
        {},
        {"discount_code": "EIGHTH"},
        totals("0.20", "0.03", "0.00", "0.00", "0.17"),
    ),
    (
        "tax is rounded once per order, not per line",
        [("0.10", 1), ("0.10", 1), ("0.10", 1)],
        {"taxes": [("US", "0.05", None)]},
        {},
        totals("0.30", "0.00", "0.00", "0.02", "0.32"),
    ),
    (
        "a fixed discount never takes the subtotal below zero",
        [("3.00", 1)],
        {"taxes": [("US", "0.10", None)], "method": ("5.00", None)},
        {"discount_code": "FIVE"},
        totals("3.00", "3.00", "5.00", "0.50", "5.50"),
    ),
    (
        "tax on shipping too",
        [("20.00", 1)],
        {"taxes": [("DE", "0.19", None)], "method": ("5.00", None, ("DE",))},
        {"address": {"country": "DE", "region": None}},
        totals("20.00", "0.00", "5.00", "4.75", "29.75"),
    ),
]


def _set_up(shop: Shop, setup: dict, body: dict) -> dict:
    for country, rate, region in setup.get("taxes", []):
        shop.tax(country, rate, region)
    shop.code("TEN", "percentage", "10")
    shop.code("FIVE", "fixed", "5")
    shop.code("EIGHTH", "percentage", "12.5")
    request = {key: value for key, value in body.items() if key != "address"}
    if "method" in setup:
        price, free_over, *countries = setup["method"]
        method_id = shop.method(price, free_over, *(countries or [()]))
        request |= {
            "shipping_method_id": method_id,
            "shipping_address": TEXAS | body.get("address", {}),
        }
    return request


@pytest.mark.parametrize(
    ("lines", "setup", "body", "expected"),
    [case[1:] for case in TOTALS],
    ids=[case[0] for case in TOTALS],
)
def test_totals_to_the_cent(shop, query, lines, setup, body, expected):
    request = _set_up(shop, setup, body)
    shop.cart(*lines)

    preview = shop.preview(request)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    assert preview.get_json()["totals"] == expected

    placed = shop.order(request | {"expected_total": expected["total"]})
    assert placed.status_code == 201, placed.get_data(as_text=True)
    order = placed.get_json()
    assert order["totals"] == expected
    assert order["total"] == expected["total"]

    stored = query(lambda s: s.get(Order, order["id"]))
    assert {
        "subtotal": stored.subtotal,
        "discount": stored.discount_total,
        "shipping": stored.shipping_total,
        "tax": stored.tax_total,
        "total": stored.total,
    } == {name: Decimal(value) for name, value in expected.items()}
    assert query(inventory_violations) == []


def test_an_order_keeps_copies_of_what_it_was_charged(shop, client, auth, query):
    shop.tax("US", "0.0825", "TX")
    method_id = shop.method("4.90")
    code = shop.code("TEN", "percentage", "10")
    address = client.post("/api/addresses", json=TEXAS, headers=shop.customer).get_json()
    shop.cart(("19.99", 3))

    order = shop.order(
        {
            "shipping_address_id": address["id"],
            "shipping_method_id": method_id,
            "discount_code": "ten",
        }
    ).get_json()
    assert order["shipping_address"] == TEXAS | {"line2": None, "phone": None}
    assert order["shipping_method"] == {"id": method_id, "name": "Standard"}
    assert (order["discount_code"], order["tax_rate"]) == ("TEN", "0.0825")

    # The book, the method, the rate and the code change; the order does not.
    client.patch(f"/api/addresses/{address['id']}", json={"city": "Dallas"}, headers=shop.customer)
    client.patch(
        f"/api/admin/shipping-methods/{method_id}",
        json={"name": "Slow", "price": "9"},
        headers=auth.admin,
    )
    client.delete(f"/api/admin/discounts/{code['id']}", headers=auth.admin)
    reread = client.get(f"/api/orders/{order['id']}", headers=shop.customer).get_json()
    assert reread == order
    client.delete(f"/api/addresses/{address['id']}", headers=shop.customer)
    client.delete(f"/api/admin/shipping-methods/{method_id}", headers=auth.admin)
    reread = client.get(f"/api/orders/{order['id']}", headers=shop.customer).get_json()
    assert reread | {"shipping_method": None} == order | {"shipping_method": None}
    assert reread["shipping_method"] == {"id": None, "name": "Standard"}


def test_an_order_without_a_body_is_a_pickup_order(shop):
    shop.cart(("5.00", 1))
    placed = shop.order()
    assert placed.status_code == 201, placed.get_data(as_text=True)
    body = placed.get_json()
    assert (body["shipping_address"], body["shipping_method"], body["discount_code"]) == (
        None,
        None,
        None,
    )
    assert body["totals"] == totals("5.00", "0.00", "0.00", "0.00", "5.00")


def test_the_preview_changes_nothing(shop, query):
    shop.code("ONCE", "fixed", "1", usage_limit=1)
    (product_id,) = shop.cart(("5.00", 2))
    before = cart_lines(query, shop.auth.customer_user.id)
    preview = shop.preview({"discount_code": "ONCE"})
    assert preview.status_code == 200
    assert preview.get_json()["items"] == [
        {
            "product_id": product_id,
            "product_name": preview.get_json()["items"][0]["product_name"],
            "quantity": 2,
            "unit_price": "5.00",
            "line_total": "10.00",
        }
    ]
    assert cart_lines(query, shop.auth.customer_user.id) == before
    assert query(lambda s: s.scalar(select(Discount.used))) == 0
    assert query(lambda s: s.scalar(select(func.count()).select_from(Order))) == 0


def test_an_empty_cart_has_nothing_to_preview(shop):
    assert_problem(shop.preview(), 409)


# --- a price that changed between preview and order -----------------------------------------


def test_a_total_other_than_expected_is_a_409_with_the_new_totals(shop, client, auth, query):
    mug, papers = shop.cart(("19.99", 2), ("5.00", 1))
    expected = shop.preview().get_json()["totals"]["total"]
    assert expected == "44.98"
    client.patch(f"/api/products/{mug}", json={"price": "21.00"}, headers=auth.admin)

    refused = shop.order({"expected_total": expected})

    assert refused.status_code == 409
    assert refused.headers["Content-Type"] == "application/problem+json"
    body = refused.get_json()
    assert body["totals"] == totals("47.00", "0.00", "0.00", "0.00", "47.00")
    assert body["changed_lines"] == [
        {
            "product_id": mug,
            "product_name": body["changed_lines"][0]["product_name"],
            "previous_price": "19.99",
            "unit_price": "21.00",
        }
    ]
    assert "47.00" in body["detail"] and "44.98" in body["detail"]
    # Nothing happened: the cart, the stock and the orders are as they were.
    assert cart_lines(query, auth.customer_user.id) == {mug: 2, papers: 1}
    assert (stock_of(query, mug), stock_of(query, papers)) == (100, 100)
    assert query(lambda s: s.scalar(select(func.count()).select_from(Order))) == 0
    # The new total, acknowledged, goes through.
    assert shop.order({"expected_total": "47.00"}).status_code == 201


def test_the_preview_checks_an_expected_total_too(shop):
    shop.cart(("19.99", 1))
    response = shop.preview({"expected_total": "19.98"})
    assert response.status_code == 409
    assert response.get_json()["totals"]["total"] == "19.99"
    assert response.get_json()["changed_lines"] == []


# --- discount codes at checkout ----------------------------------------------------------------


def test_a_single_use_code_is_given_back_when_its_order_is_cancelled(shop, client, auth, query):
    shop.code("ONCE", "fixed", "1", usage_limit=1)
    shop.cart(("5.00", 1))
    first = shop.order({"discount_code": "ONCE"}).get_json()
    assert first["totals"]["discount"] == "1.00"
    other = auth.user("other")
    shop.cart(("5.00", 1), headers=other.headers)
    assert_problem(
        shop.order({"discount_code": "once"}, headers=other.headers), 422, "discount_code"
    )

    assert (
        client.post(f"/api/orders/{first['id']}/cancel", headers=shop.customer).status_code == 200
    )
    assert query(lambda s: s.scalar(select(Discount.used))) == 0
    again = shop.order({"discount_code": "Once"}, headers=other.headers)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert query(lambda s: s.scalar(select(Discount.used))) == 1
    assert query(inventory_violations) == []


def test_a_per_customer_limit_counts_each_customer_alone(shop, auth):
    shop.code("HELLO", "percentage", "10", per_customer_limit=1)
    shop.cart(("10.00", 1))
    assert shop.order({"discount_code": "HELLO"}).status_code == 201
    shop.cart(("10.00", 1))
    body = assert_problem(shop.order({"discount_code": "HELLO"}), 422, "discount_code")
    assert "already used" in body["detail"]
    other = auth.user("other")
    shop.cart(("10.00", 1), headers=other.headers)
    assert shop.order({"discount_code": "HELLO"}, headers=other.headers).status_code == 201


def _window(**delta) -> str:
    return (utcnow() + timedelta(**delta)).isoformat()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"ends_at": _window(seconds=-1), "starts_at": _window(days=-2)}, "has expired"),
        ({"starts_at": _window(days=1)}, "is not valid yet"),
        ({"usage_limit": 1, "used_up": True}, "has been used up"),
        ({"min_subtotal": "50.00"}, "needs a subtotal of at least 50.00"),
        ({"active": False}, "is not a valid discount code"),
    ],
    ids=["expired", "not yet", "exhausted", "minimum", "inactive"],
)
def test_a_code_that_cannot_be_used_is_a_422_naming_it(shop, auth, query, extra, message):
    used_up = extra.pop("used_up", False)
    shop.code("SPRING", "percentage", "10", **extra)
    if used_up:
        other = auth.user("other")
        shop.cart(("10.00", 1), headers=other.headers)
        assert shop.order({"discount_code": "SPRING"}, headers=other.headers).status_code == 201
    (product_id,) = shop.cart(("10.00", 1))
    orders_before = query(lambda s: s.scalar(select(func.count()).select_from(Order)))

    for response in (
        shop.preview({"discount_code": "SPRING"}),
        shop.order({"discount_code": "SPRING"}),
    ):
        body = assert_problem(response, 422, "discount_code")
        assert message in body["errors"]["discount_code"][0]

    assert cart_lines(query, auth.customer_user.id) == {product_id: 1}
    assert stock_of(query, product_id) == 100
    assert query(lambda s: s.scalar(select(func.count()).select_from(Order))) == orders_before


def test_an_unknown_code_is_named(shop):
    shop.cart(("10.00", 1))
    body = assert_problem(shop.order({"discount_code": "NOPE"}), 422, "discount_code")
    assert body["errors"]["discount_code"] == ["'NOPE' is not a valid discount code."]


# --- addresses and methods at checkout ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"shipping_address": TEXAS | {"country": "XX"}}, "shipping_address"),
        ({"shipping_address": TEXAS | {"line1": "x" * 201}}, "shipping_address"),
        ({"shipping_address": TEXAS, "shipping_address_id": 1}, "shipping_address"),
        ({"shipping_address": TEXAS}, "shipping_method_id"),
        ({"shipping_method_id": "METHOD"}, "shipping_address"),
        (
            {"shipping_address": TEXAS | {"country": "DE"}, "shipping_method_id": "METHOD"},
            "shipping_method_id",
        ),
        ({"shipping_address": TEXAS, "shipping_method_id": "PAUSED"}, "shipping_method_id"),
        ({"shipping_address": TEXAS, "shipping_method_id": 10**6}, "shipping_method_id"),
        ({"shipping_address_id": 10**6, "shipping_method_id": "METHOD"}, "shipping_address_id"),
        ({"expected_total": "10.001"}, "expected_total"),
        ({"expected_total": -1}, "expected_total"),
        ({"discount_code": ""}, "discount_code"),
    ],
)
def test_bad_checkout_input_is_a_422_naming_the_field_and_changes_nothing(shop, query, body, field):
    methods = {
        "METHOD": shop.method("4.90", countries=["US"]),
        "PAUSED": shop.method("1", active=False),
    }
    body = {
        key: methods.get(value, value) if isinstance(value, str) else value
        for key, value in body.items()
    }
    (product_id,) = shop.cart(("10.00", 1))
    for response in (shop.preview(body), shop.order(body)):
        problem = assert_problem(response, 422)
        assert list(problem["errors"]) == [field], problem
    assert cart_lines(query, shop.auth.customer_user.id) == {product_id: 1}
    assert stock_of(query, product_id) == 100
    assert query(lambda s: s.scalar(select(func.count()).select_from(Order))) == 0


def test_another_users_address_cannot_be_shipped_to(shop, client, auth):
    other = auth.user("other")
    theirs = client.post("/api/addresses", json=TEXAS, headers=other.headers).get_json()
    method_id = shop.method("4.90")
    shop.cart(("10.00", 1))
    body = {"shipping_address_id": theirs["id"], "shipping_method_id": method_id}
    problem = assert_problem(shop.order(body), 422, "shipping_address_id")
    assert problem["errors"]["shipping_address_id"] == [
        f"There is no address {theirs['id']} in your address book."
    ]


def test_a_cart_line_remembers_the_price_it_was_last_added_at(shop, client, auth, query):
    (product_id,) = shop.cart(("10.00", 1))
    assert query(lambda s: s.scalar(select(CartItem.price_when_added))) == Decimal("10.00")
    client.patch(f"/api/products/{product_id}", json={"price": "12.00"}, headers=auth.admin)
    # Seen again when added again: no longer a change to report.
    client.post("/api/cart", json={"product_id": product_id, "quantity": 1}, headers=shop.customer)
    assert query(lambda s: s.scalar(select(CartItem.price_when_added))) == Decimal("12.00")
    assert shop.order({"expected_total": "24.00"}).status_code == 201


def test_the_confirmation_email_shows_the_breakdown(shop, app, client):
    order = shop.order_with_everything()

    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.type == "order.created"))
        recipient, subject, text = order_email(event)
    assert (recipient, subject) == (shop.auth.customer_user.email, f"Order {order['id']} confirmed")
    assert (
        "Subtotal: 59.97\nDiscount (TEN): -6.00\nShipping (Standard): 4.90\nTax: 4.86\n"
        "Total: 63.73\n" in text
    )


# --- regions: one normalisation for rates, addresses and matching (app.accounts.regions) ----

RATE_SPELLINGS = ["TX", "Texas", " tx "]
ADDRESS_SPELLINGS = [
    "TX",
    "TX ",
    " TX",
    "tx",
    "Texas",
    "TEXAS",
    "US-TX",
    "\uff34\uff38",  # fullwidth TX
    "T\u200bX",  # a zero-width space
    "\ufeffTX",
    "Te\u00adxas",  # a soft hyphen
]


@pytest.mark.parametrize("rate_region", RATE_SPELLINGS)
def test_every_spelling_of_a_region_pays_its_rate(shop, rate_region):
    shop.tax("US", "0.0825", rate_region)
    method_id = shop.method("0.00")
    shop.cart(("100.00", 1))
    for spelling in ADDRESS_SPELLINGS:
        body = {"shipping_method_id": method_id, "shipping_address": TEXAS | {"region": spelling}}
        response = shop.preview(body)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["totals"]["tax"] == "8.25", (rate_region, spelling)


@pytest.mark.parametrize(
    ("country", "rate_region", "address_region"),
    [
        ("ES", "\u00c1vila", "\u00e1vila"),  # Ávila, ávila
        ("ES", "\u00e1vila", "AVILA"),
        ("DE", "Bayern", "BY"),
        ("US", "Nowhere Special", "NOWHERE  special"),  # no ISO 3166-2 name: folded text
        ("GR", "\u039a\u03c1\u03ae\u03c4\u03b7", "\u03ba\u03c1\u03b7\u03c4\u03b7"),  # Κρήτη
    ],
)
def test_regions_compare_alike_on_every_engine(shop, country, rate_region, address_region):
    shop.tax(country, "0.1000", rate_region)
    method_id = shop.method("0.00")
    shop.cart(("10.00", 1))
    address = TEXAS | {"country": country, "region": address_region}
    response = shop.preview({"shipping_method_id": method_id, "shipping_address": address})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["totals"]["tax"] == "1.00"


def test_a_second_spelling_of_a_region_is_the_same_rate(shop, client, auth):
    shop.tax("US", "0.0825", "TX")
    for spelling in ("Texas", "\uff34\uff38", "tx\u200b"):
        body = {"country": "US", "region": spelling, "rate": "0.05"}
        response = client.post("/api/admin/tax-rates", json=body, headers=auth.admin)
        assert_problem(response, 422, "region")


def test_regions_are_stored_clean(shop, client):
    rate = shop.tax("US", "0.0825", "\u200b TX\ufeff ")
    assert rate["region"] == "TX"
    address = TEXAS | {"region": "  New \u200bYork  "}
    created = client.post("/api/addresses", json=address, headers=shop.customer)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["region"] == "New York"


def test_the_written_out_order_body_equals_the_schema_dump(shop, app, client):
    """order_body writes what OrderSchema declares (the response and every event's copy)."""
    import marshmallow as ma

    from app.api.orders.schemas import OrderSchema

    placed = shop.order_with_everything()
    cancelled = client.post(f"/api/orders/{placed['id']}/cancel", headers=shop.customer)

    assert cancelled.status_code == 200
    with app.app_context():
        order = db.session.get_one(Order, placed["id"])
        schema = OrderSchema()
        assert schema.dump(order) == ma.Schema.dump(schema, order)
        assert schema.dump([order], many=True) == ma.Schema.dump(schema, [order], many=True)
        event = db.session.scalars(select(Event).where(Event.type == "order.cancelled")).one()
    assert event.data["order"] == {
        **cancelled.get_json(),
        "payment": {**cancelled.get_json()["payment"], "client_secret": None},
    }
