"""40 customers race for the last 5 units: exactly 5 orders, never below zero."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from app.platform.models import CartItem, Order, OrderItem, Product
from tests.concurrency.live import call
from tests.invariants import inventory_violations

CUSTOMERS = 40
UNITS = 5
PROBLEM = "application/problem+json"


def test_last_units_are_sold_exactly_once(live_store):
    product_id = live_store.product(stock=UNITS, name="Last-units lamp")
    customers = live_store.users(CUSTOMERS)

    def fill_cart(customer):
        return live_store.add_to_cart(customer.headers, product_id)

    with ThreadPoolExecutor(8) as pool:
        assert {outcome.status for outcome in pool.map(fill_cart, customers)} == {200}

    start = threading.Barrier(CUSTOMERS)

    def checkout(customer):
        with requests.Session() as http:
            start.wait()
            return call(
                http, "POST", live_store.url("/api/orders"), "checkout", headers=customer.headers
            )

    with ThreadPoolExecutor(CUSTOMERS) as pool:
        outcomes = list(pool.map(checkout, customers))

    assert Counter(o.status for o in outcomes) == {201: UNITS, 409: CUSTOMERS - UNITS}, [
        (o.status, o.body) for o in outcomes if o.status not in (201, 409)
    ]
    for outcome in outcomes:
        if outcome.status == 409:
            assert outcome.content_type == PROBLEM
            assert "Last-units lamp" in outcome.body["detail"]
    winners = {
        customer.id: outcome.body["id"]
        for customer, outcome in zip(customers, outcomes, strict=True)
        if outcome.status == 201
    }

    def state(session):
        return {
            "stock": session.get(Product, product_id).stock,
            "ordered": session.scalar(select(func.sum(OrderItem.quantity))),
            "orders": dict(session.execute(select(Order.user_id, Order.id)).all()),
            "carts": session.scalar(select(func.count()).select_from(CartItem)),
            "violations": inventory_violations(session),
        }

    assert live_store.query(state) == {
        "stock": 0,
        "ordered": UNITS,
        "orders": winners,
        # Winners' carts were emptied; a failed checkout changed nothing.
        "carts": CUSTOMERS - UNITS,
        "violations": [],
    }
