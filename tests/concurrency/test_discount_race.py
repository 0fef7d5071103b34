"""Discount codes under concurrent checkouts on a real 4-worker server: a single-use code
gives exactly one discounted order, a once-per-customer code one per customer."""

import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import select

from app.platform.models import Discount, Order
from tests.concurrency.live import call
from tests.invariants import inventory_violations

CUSTOMERS = 30
PROBLEM = "application/problem+json"


def create_code(live_store, **fields) -> None:
    (admin,) = live_store.users(1, admin=True)
    body = {"kind": "fixed", "value": "5.00", **fields}
    with requests.Session() as http:
        made = call(
            http,
            "POST",
            live_store.url("/api/admin/discounts"),
            "code",
            json=body,
            headers=admin.headers,
        )
    assert made.status == 201, made.body


def test_a_single_use_code_discounts_exactly_one_of_30_concurrent_orders(live_store):
    create_code(live_store, code="ONLY-ONE", usage_limit=1)
    product_id = live_store.product(stock=CUSTOMERS, price="20.00")
    customers = live_store.users(CUSTOMERS)
    with ThreadPoolExecutor(8) as pool:
        added = pool.map(lambda c: live_store.add_to_cart(c.headers, product_id), customers)
        assert {outcome.status for outcome in added} == {200}

    start = threading.Barrier(CUSTOMERS)

    def checkout(customer):
        with requests.Session() as http:
            start.wait()
            return call(
                http,
                "POST",
                live_store.url("/api/orders"),
                "checkout",
                json={"discount_code": "only-one"},
                headers=customer.headers,
            )

    with ThreadPoolExecutor(CUSTOMERS) as pool:
        outcomes = list(pool.map(checkout, customers))

    assert Counter(o.status for o in outcomes) == {201: 1, 422: CUSTOMERS - 1}, [
        (o.status, o.body) for o in outcomes if o.status not in (201, 422)
    ]
    (winner,) = [o.body for o in outcomes if o.status == 201]
    assert winner["totals"]["discount"] == "5.00" and winner["discount_code"] == "ONLY-ONE"
    for outcome in outcomes:
        if outcome.status == 422:
            assert outcome.content_type == PROBLEM
            assert outcome.body["errors"]["discount_code"] == ["'only-one' has been used up."]

    def state(session):
        return {
            "orders": session.scalars(select(Order.id)).all(),
            "used": session.scalar(select(Discount.used)),
            "violations": inventory_violations(session),
        }

    assert live_store.query(state) == {"orders": [winner["id"]], "used": 1, "violations": []}


def test_a_once_per_customer_code_discounts_one_order_per_customer(live_store):
    """Ten customers, each filling the cart and checking out three times at once, all with
    the code: exactly one order per customer, each discounted (an attempt that cannot use
    the code is refused, never placed at full price)."""
    create_code(live_store, code="WELCOME", per_customer_limit=1)
    product_id = live_store.product(stock=1000, price="20.00")
    customers = live_store.users(10)
    attempts = [customer for customer in customers for _ in range(3)]
    start = threading.Barrier(len(attempts))

    def fill_and_checkout(customer):
        with requests.Session() as http:
            start.wait()
            added = call(
                http,
                "POST",
                live_store.url("/api/cart"),
                "add",
                json={"product_id": product_id, "quantity": 1},
                headers=customer.headers,
            )
            assert added.status == 200, added.body
            return customer.id, call(
                http,
                "POST",
                live_store.url("/api/orders"),
                "checkout",
                json={"discount_code": "WELCOME"},
                headers=customer.headers,
            )

    with ThreadPoolExecutor(len(attempts)) as pool:
        outcomes = list(pool.map(fill_and_checkout, attempts))

    placed = defaultdict(list)
    for customer_id, outcome in outcomes:
        assert outcome.status in (201, 409, 422), (outcome.status, outcome.body)
        if outcome.status == 201:
            assert outcome.body["totals"]["discount"] == "5.00"
            placed[customer_id].append(outcome.body["id"])
        elif outcome.status == 422:
            assert "already used" in outcome.body["errors"]["discount_code"][0]
        else:  # another attempt emptied the cart first
            assert "empty" in outcome.body["detail"]
    assert {customer_id: len(ids) for customer_id, ids in placed.items()} == {
        customer.id: 1 for customer in customers
    }

    def state(session):
        return {
            "orders": session.query(Order).count(),
            "used": session.scalar(select(Discount.used)),
            "violations": inventory_violations(session),
        }

    assert live_store.query(state) == {"orders": 10, "used": 10, "violations": []}
