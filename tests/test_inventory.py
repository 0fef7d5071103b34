"""The stock ledger (stock_movements), stock adjustments, low-stock report and DB guards."""

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from app.catalog.inventory import MAX_STOCK
from app.catalog.products import update_product
from app.platform.db import db
from app.platform.models import Product, StockMovement
from tests.helpers import (
    PRODUCT_FIELDS,
    add_to_cart,
    assert_problem,
    buy,
    count_rows,
    record_movement,
    stock_of,
)
from tests.invariants import inventory_violations

MOVEMENT_KEYS = {"id", "product_id", "delta", "reason", "order_id", "user_id", "created_at"}
ENVELOPE_KEYS = {"items", "page", "per_page", "total", "pages"}


# --- helpers ----------------------------------------------------------------------------------


def assert_ledger_balanced(query) -> dict[int, int]:
    """Stock, ledger and orders agree (see tests/invariants.py); returns product id -> stock."""
    assert query(inventory_violations) == []
    return dict(query(lambda s: s.execute(select(Product.id, Product.stock)).all()))


def movements(query, product_id) -> list[dict]:
    """The product's ledger rows, oldest first."""
    rows = query(
        lambda s: s.scalars(
            select(StockMovement)
            .where(StockMovement.product_id == product_id)
            .order_by(StockMovement.id)
        ).all()
    )
    return [
        {
            "delta": row.delta,
            "reason": row.reason,
            "order_id": row.order_id,
            "user_id": row.user_id,
        }
        for row in rows
    ]


def adjust(client, headers, product_id, **payload):
    return client.post(f"/api/products/{product_id}/stock", json=payload, headers=headers)


def list_movements(client, auth, product_id, **params):
    response = client.get(
        f"/api/products/{product_id}/stock-movements", query_string=params, headers=auth.admin
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def low_stock(client, auth, **params):
    response = client.get("/api/admin/low-stock", query_string=params, headers=auth.admin)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# --- adjusting stock --------------------------------------------------------------------------


@pytest.mark.parametrize(("delta", "expected"), [(3, 8), (-2, 3), (-5, 0)])
def test_adjust_stock_returns_product_with_new_stock(
    client, auth, make_product, query, delta, expected
):
    product = make_product(stock=5, name="Mug", price="4.50")

    response = adjust(client, auth.admin, product.id, delta=delta, reason="recount")

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == PRODUCT_FIELDS
    assert (body["id"], body["name"], body["price"], body["stock"]) == (
        product.id,
        "Mug",
        "4.50",
        expected,
    )
    assert stock_of(query, product.id) == expected
    assert client.get(f"/api/products/{product.id}").get_json()["stock"] == expected


def test_adjust_stock_records_reason_and_admin(client, auth, make_product, query):
    product = make_product(stock=5)

    adjust(client, auth.admin, product.id, delta=7, reason="restock from supplier")

    assert movements(query, product.id)[-1] == {
        "delta": 7,
        "reason": "restock from supplier",
        "order_id": None,
        "user_id": auth.admin_user.id,
    }
    assert_ledger_balanced(query)


def test_adjust_stock_below_zero_is_409_and_changes_nothing(client, auth, make_product, query):
    product = make_product(stock=5)
    before = movements(query, product.id)

    response = adjust(client, auth.admin, product.id, delta=-6, reason="breakage")

    assert_problem(response, 409)
    assert stock_of(query, product.id) == 5
    assert movements(query, product.id) == before
    assert client.get(f"/api/products/{product.id}").get_json()["stock"] == 5


def test_adjust_stock_above_the_ceiling_is_409_and_changes_nothing(
    client, auth, make_product, query
):
    """Found by the fuzzer: stock beyond MAX_STOCK broke the documented product schema."""
    product = make_product(stock=MAX_STOCK - 2)
    before = movements(query, product.id)

    response = adjust(client, auth.admin, product.id, delta=3, reason="miscount")

    body = assert_problem(response, 409)
    assert f"above {MAX_STOCK}" in body["detail"]
    assert stock_of(query, product.id) == MAX_STOCK - 2
    assert movements(query, product.id) == before
    assert adjust(client, auth.admin, product.id, delta=2, reason="top up").status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"delta": 0, "reason": "nothing"}, "delta"),
        ({"delta": 1.5, "reason": "half"}, "delta"),
        ({"delta": "3", "reason": "string"}, "delta"),
        ({"reason": "no delta"}, "delta"),
        ({"delta": 3}, "reason"),
        ({"delta": 3, "reason": ""}, "reason"),
        ({"delta": 3, "reason": "   "}, "reason"),
    ],
    ids=["zero", "fractional", "string", "missing-delta", "missing-reason", "empty", "blank"],
)
def test_adjust_stock_invalid_body_is_422(client, auth, make_product, query, payload, field):
    product = make_product(stock=5)
    before = count_rows(query, StockMovement)

    response = adjust(client, auth.admin, product.id, **payload)

    assert_problem(response, 422, field)
    assert stock_of(query, product.id) == 5
    assert count_rows(query, StockMovement) == before


def test_adjust_stock_by_customer_is_403(client, auth, make_product, query):
    product = make_product(stock=5)

    response = adjust(client, auth.customer, product.id, delta=3, reason="mine now")

    assert_problem(response, 403)
    assert stock_of(query, product.id) == 5


def test_adjust_stock_without_token_is_401(client, make_product, query):
    product = make_product(stock=5)

    response = client.post(f"/api/products/{product.id}/stock", json={"delta": 3, "reason": "x"})

    assert_problem(response, 401)
    assert stock_of(query, product.id) == 5


def test_adjust_stock_of_unknown_product_is_404(client, auth, query):
    response = adjust(client, auth.admin, 999999, delta=3, reason="ghost")

    assert_problem(response, 404)
    assert count_rows(query, StockMovement) == 0


# --- listing movements ------------------------------------------------------------------------


def test_stock_movements_newest_first_in_an_envelope(client, auth, make_product):
    product = make_product(stock=5)
    adjust(client, auth.admin, product.id, delta=3, reason="restock")
    adjust(client, auth.admin, product.id, delta=-1, reason="damaged")

    body = list_movements(client, auth, product.id)

    assert set(body) == ENVELOPE_KEYS
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 20, 3, 1)
    assert [(m["reason"], m["delta"]) for m in body["items"]] == [
        ("damaged", -1),
        ("restock", 3),
        ("initial stock", 5),
    ]
    ids = [m["id"] for m in body["items"]]
    assert ids == sorted(ids, reverse=True)


def test_stock_movement_items_have_every_field(client, auth, make_product):
    product = make_product(stock=5)
    order = buy(client, auth.customer, (product.id, 2))

    newest = list_movements(client, auth, product.id)["items"][0]

    assert set(newest) == MOVEMENT_KEYS
    assert newest["product_id"] == product.id
    assert newest["delta"] == -2
    assert newest["reason"] == "order placed"
    assert newest["order_id"] == order["id"]
    assert newest["created_at"].endswith("+00:00")


def test_stock_movements_paginate(client, auth, make_product):
    product = make_product(stock=5)
    for delta in (1, 2, 3):
        adjust(client, auth.admin, product.id, delta=delta, reason=f"add {delta}")

    second = list_movements(client, auth, product.id, per_page=3, page=2)

    assert [(m["reason"], m["delta"]) for m in second["items"]] == [("initial stock", 5)]
    assert (second["page"], second["per_page"], second["total"], second["pages"]) == (2, 3, 4, 2)


def test_stock_movements_only_of_that_product(client, auth, make_product):
    mine, other = make_product(stock=5), make_product(stock=8)
    adjust(client, auth.admin, other.id, delta=1, reason="other")

    body = list_movements(client, auth, mine.id)

    assert [(m["product_id"], m["delta"]) for m in body["items"]] == [(mine.id, 5)]


def test_stock_movements_by_customer_is_403(client, auth, make_product):
    product = make_product(stock=5)

    response = client.get(f"/api/products/{product.id}/stock-movements", headers=auth.customer)

    assert_problem(response, 403)


def test_stock_movements_without_token_is_401(client, make_product):
    product = make_product(stock=5)

    assert_problem(client.get(f"/api/products/{product.id}/stock-movements"), 401)


def test_stock_movements_of_unknown_product_is_404(client, auth):
    response = client.get("/api/products/999999/stock-movements", headers=auth.admin)

    assert_problem(response, 404)


def test_stock_movements_per_page_101_is_422(client, auth, make_product):
    product = make_product(stock=5)

    response = client.get(
        f"/api/products/{product.id}/stock-movements?per_page=101", headers=auth.admin
    )

    assert_problem(response, 422, "per_page")


# --- every stock change writes a movement -----------------------------------------------------


def test_product_creation_records_initial_stock(client, auth, query):
    response = client.post(
        "/api/products", json={"name": "Lamp", "price": "30.00", "stock": 7}, headers=auth.admin
    )
    assert response.status_code == 201, response.get_data(as_text=True)

    product_id = response.get_json()["id"]
    assert [(m["delta"], m["reason"], m["order_id"]) for m in movements(query, product_id)] == [
        (7, "initial stock", None)
    ]
    assert_ledger_balanced(query)


def test_product_created_without_stock_has_an_empty_balanced_ledger(client, auth, query):
    response = client.post(
        "/api/products", json={"name": "Lamp", "price": "30.00"}, headers=auth.admin
    )
    assert response.status_code == 201

    product_id = response.get_json()["id"]
    assert movements(query, product_id) == []
    assert assert_ledger_balanced(query) == {product_id: 0}


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
@pytest.mark.parametrize(("new_stock", "delta"), [(8, 3), (2, -3), (0, -5)])
def test_setting_stock_records_the_difference(
    client, auth, make_product, query, method, new_stock, delta
):
    product = make_product(stock=5, name="Mug", price="4.50")
    payload = {"stock": new_stock}
    if method == "PUT":
        payload |= {"name": "Mug", "price": "4.50", "description": "A mug."}

    response = client.open(
        f"/api/products/{product.id}", method=method, json=payload, headers=auth.admin
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["stock"] == new_stock
    assert movements(query, product.id)[-1] == {
        "delta": delta,
        "reason": "stock set by admin",
        "order_id": None,
        "user_id": auth.admin_user.id,
    }
    assert_ledger_balanced(query)


def test_setting_stock_counts_from_the_current_row_not_a_stale_copy(app, make_product, query):
    """Another checkout took stock after this request loaded the product (as under load on
    PostgreSQL): setting the old level again must still write the stock and its movement."""
    product = make_product(stock=10)

    with app.app_context():
        loaded = db.session.get(Product, product.id)  # the request's copy, held on to
        assert loaded.stock == 10
        db.session.execute(
            update(Product)
            .where(Product.id == product.id)
            .values(stock=9)
            .execution_options(synchronize_session=False)
        )
        record_movement(product.id, -1, "order placed elsewhere")
        update_product(product.id, {"stock": 10})

    assert stock_of(query, product.id) == 10
    assert [m["delta"] for m in movements(query, product.id)] == [10, -1, 1]
    assert_ledger_balanced(query)


@pytest.mark.parametrize("payload", [{"stock": 5}, {"name": "Renamed"}, {"price": "1.00"}], ids=str)
def test_update_without_stock_change_writes_no_movement(client, auth, make_product, query, payload):
    product = make_product(stock=5)
    before = movements(query, product.id)

    response = client.patch(f"/api/products/{product.id}", json=payload, headers=auth.admin)

    assert response.status_code == 200
    assert movements(query, product.id) == before
    assert_ledger_balanced(query)


def test_order_placed_records_a_negative_movement_per_line(client, auth, make_product, query):
    mug, pen = make_product(stock=5), make_product(stock=9)

    order = buy(client, auth.customer, (mug.id, 2), (pen.id, 4))

    for product, quantity in ((mug, 2), (pen, 4)):
        latest = movements(query, product.id)[-1]
        assert (latest["delta"], latest["reason"], latest["order_id"]) == (
            -quantity,
            "order placed",
            order["id"],
        )
    assert_ledger_balanced(query)


@pytest.mark.parametrize("how", ["owner-cancel", "admin-patch"])
def test_order_cancelled_records_a_positive_movement(client, auth, make_product, query, how):
    product = make_product(stock=5)
    order = buy(client, auth.customer, (product.id, 3))

    if how == "owner-cancel":
        response = client.post(f"/api/orders/{order['id']}/cancel", headers=auth.customer)
    else:
        response = client.patch(
            f"/api/orders/{order['id']}", json={"status": "cancelled"}, headers=auth.admin
        )
    assert response.status_code == 200, response.get_data(as_text=True)

    latest = movements(query, product.id)[-1]
    assert (latest["delta"], latest["reason"], latest["order_id"]) == (
        3,
        "order cancelled",
        order["id"],
    )
    assert stock_of(query, product.id) == 5
    assert_ledger_balanced(query)


def test_ledger_balances_after_every_kind_of_change(client, auth, make_product, query):
    mug, pen = make_product(stock=10), make_product(stock=4)
    created = client.post(
        "/api/products", json={"name": "Lamp", "price": "30.00", "stock": 6}, headers=auth.admin
    ).get_json()
    assert (
        client.patch(f"/api/products/{pen.id}", json={"stock": 12}, headers=auth.admin).status_code
        == 200
    )
    assert (
        client.put(
            f"/api/products/{created['id']}",
            json={"name": "Lamp", "price": "30.00", "stock": 3},
            headers=auth.admin,
        ).status_code
        == 200
    )
    assert adjust(client, auth.admin, mug.id, delta=-2, reason="damaged").status_code == 200
    assert adjust(client, auth.admin, mug.id, delta=5, reason="restock").status_code == 200
    kept = buy(client, auth.customer, (mug.id, 3), (pen.id, 1))
    dropped = buy(client, auth.customer, (pen.id, 2), (created["id"], 1))
    assert (
        client.post(f"/api/orders/{dropped['id']}/cancel", headers=auth.customer).status_code == 200
    )
    assert client.post(f"/api/orders/{kept['id']}/cancel", headers=auth.admin).status_code == 200
    assert adjust(client, auth.admin, pen.id, delta=-100, reason="too much").status_code == 409

    stocks = assert_ledger_balanced(query)

    assert stocks == {mug.id: 13, pen.id: 12, created["id"]: 3}
    assert count_rows(query, StockMovement) == 15


def test_failed_checkout_writes_no_movement(client, auth, make_product, query):
    plenty, scarce = make_product(stock=10), make_product(stock=5)
    add_to_cart(client, auth.customer, plenty.id, 2)
    add_to_cart(client, auth.customer, scarce.id, 3)
    assert adjust(client, auth.admin, scarce.id, delta=-4, reason="lost").status_code == 200
    before = count_rows(query, StockMovement)

    response = client.post("/api/orders", headers=auth.customer)

    assert_problem(response, 409)
    assert count_rows(query, StockMovement) == before
    assert (stock_of(query, plenty.id), stock_of(query, scarce.id)) == (10, 1)
    assert_ledger_balanced(query)


def test_empty_cart_checkout_writes_no_movement(client, auth, make_product, query):
    make_product(stock=5)
    before = count_rows(query, StockMovement)

    assert_problem(client.post("/api/orders", headers=auth.customer), 409)

    assert count_rows(query, StockMovement) == before


def test_ledger_helper_detects_an_unrecorded_change(make_product, query):
    product = make_product(stock=5)

    def tamper(session):
        session.execute(update(Product).where(Product.id == product.id).values(stock=6))
        session.commit()

    query(tamper)

    with pytest.raises(AssertionError):
        assert_ledger_balanced(query)


# --- low stock --------------------------------------------------------------------------------


@pytest.fixture
def stocked(client, auth, make_product):
    """Products by stock; `gone` (stock 1) is deleted."""
    products = {
        name: make_product(name=name, stock=stock)
        for name, stock in (
            ("seven", 7),
            ("five", 5),
            ("zero", 0),
            ("three", 3),
            ("six", 6),
            ("gone", 1),
        )
    }
    deleted = client.delete(f"/api/products/{products['gone'].id}", headers=auth.admin)
    assert deleted.status_code == 204
    return products


def names(body):
    return [item["name"] for item in body["items"]]


def test_low_stock_lists_active_products_at_or_under_threshold_lowest_first(client, auth, stocked):
    body = low_stock(client, auth, threshold=5)

    assert set(body) == ENVELOPE_KEYS
    assert names(body) == ["zero", "three", "five"]
    assert [item["stock"] for item in body["items"]] == [0, 3, 5]
    assert set(body["items"][0]) == PRODUCT_FIELDS
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 20, 3, 1)


def test_low_stock_default_threshold_is_5(client, auth, stocked):
    assert names(low_stock(client, auth)) == ["zero", "three", "five"]


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [(0, ["zero"]), (3, ["zero", "three"]), (6, ["zero", "three", "five", "six"])],
)
def test_low_stock_threshold(client, auth, stocked, threshold, expected):
    assert names(low_stock(client, auth, threshold=threshold)) == expected


def test_low_stock_excludes_deleted_products(client, auth, stocked):
    body = low_stock(client, auth, threshold=100)

    assert "gone" not in names(body)
    assert body["total"] == 5


def test_low_stock_paginates(client, auth, stocked):
    body = low_stock(client, auth, threshold=5, per_page=2, page=2)

    assert names(body) == ["five"]
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (2, 2, 3, 2)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"threshold": -1}, "threshold"),
        ({"threshold": "few"}, "threshold"),
        ({"per_page": 101}, "per_page"),
    ],
)
def test_low_stock_invalid_query_is_422(client, auth, params, field):
    response = client.get("/api/admin/low-stock", query_string=params, headers=auth.admin)

    assert_problem(response, 422, field)


def test_low_stock_by_customer_is_403(client, auth):
    assert_problem(client.get("/api/admin/low-stock", headers=auth.customer), 403)


def test_low_stock_without_token_is_401(client):
    assert_problem(client.get("/api/admin/low-stock"), 401)


# --- database guards --------------------------------------------------------------------------


def test_database_refuses_negative_stock(app, make_product, query):
    product = make_product(stock=5)

    with app.app_context():
        with pytest.raises(IntegrityError):
            db.session.execute(
                text("UPDATE products SET stock = -1 WHERE id = :id"), {"id": product.id}
            )
        db.session.rollback()

    assert stock_of(query, product.id) == 5


def test_database_refuses_a_zero_movement(app, make_product, query):
    product = make_product(stock=5)

    with app.app_context():
        db.session.add(StockMovement(product_id=product.id, delta=0, reason="nothing"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()

    assert len(movements(query, product.id)) == 1
