"""One customer's checkout sent 8 times at once with one Idempotency-Key: one order, ever."""

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import select

from app.platform.models import Order, Product
from tests.invariants import inventory_violations

COPIES = 8


def test_simultaneous_retries_with_one_key_place_one_order(live_store):
    product_id = live_store.product(stock=10)
    (customer,) = live_store.users(1)
    headers = {**customer.headers, "Idempotency-Key": "checkout-race-1"}
    added = live_store.add_to_cart(customer.headers, product_id, quantity=2)
    assert added.status == 200

    start = threading.Barrier(COPIES)

    def checkout(_):
        with requests.Session() as http:
            start.wait()
            response = http.post(live_store.url("/api/orders"), headers=headers, timeout=30)
            return response.status_code, response.headers.get("Idempotent-Replayed"), response

    with ThreadPoolExecutor(COPIES) as pool:
        answers = list(pool.map(checkout, range(COPIES)))

    firsts = [r for status, replayed, r in answers if status == 201 and replayed is None]
    replays = [r for status, replayed, r in answers if status == 201 and replayed == "true"]
    in_progress = [r for status, _, r in answers if status == 409]
    assert len(firsts) == 1, [(s, r.text) for s, _, r in answers]
    assert len(firsts) + len(replays) + len(in_progress) == COPIES
    order_id = firsts[0].json()["id"]
    assert {r.json()["id"] for r in replays} <= {order_id}
    for response in in_progress:
        assert response.headers["Content-Type"] == "application/problem+json"
        assert "in progress" in response.json()["detail"]

    def state(session):
        return {
            "orders": session.scalars(select(Order.id)).all(),
            "stock": session.scalar(select(Product.stock).where(Product.id == product_id)),
            "violations": inventory_violations(session),
        }

    assert live_store.query(state) == {"orders": [order_id], "stock": 8, "violations": []}

    # Once the first request is done, a late retry replays it.
    with requests.Session() as http:
        late = http.post(live_store.url("/api/orders"), headers=headers, timeout=30)
    assert (late.status_code, late.headers["Idempotent-Replayed"]) == (201, "true")
    assert late.json() == firsts[0].json()
