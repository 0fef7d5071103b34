"""50 concurrent checkouts on 4 workers: exactly 50 order.created events, one per order,
and none for the checkouts that were refused."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import select

from app.platform.models import Event, Order
from tests.concurrency.live import call

WINNERS = 50
LOSERS = 10


def test_concurrent_checkouts_emit_one_event_per_order(live_store):
    product_id = live_store.product(stock=WINNERS, name="Event mug")
    customers = live_store.users(WINNERS + LOSERS)

    with ThreadPoolExecutor(8) as pool:
        filled = pool.map(lambda c: live_store.add_to_cart(c.headers, product_id), customers)
        assert {outcome.status for outcome in filled} == {200}

    start = threading.Barrier(len(customers))

    def checkout(customer):
        with requests.Session() as http:
            start.wait()
            return call(
                http, "POST", live_store.url("/api/orders"), "checkout", headers=customer.headers
            )

    with ThreadPoolExecutor(len(customers)) as pool:
        outcomes = list(pool.map(checkout, customers))
    assert Counter(o.status for o in outcomes) == {201: WINNERS, 409: LOSERS}

    def state(session):
        created = session.scalars(select(Event).where(Event.type == "order.created")).all()
        return {
            "orders": sorted(session.scalars(select(Order.id))),
            "events": sorted(event.data["order"]["id"] for event in created),
            "other events": session.scalars(
                select(Event.type).where(Event.type != "order.created")
            ).all(),
        }

    placed = sorted(o.body["id"] for o in outcomes if o.status == 201)
    assert live_store.query(state) == {"orders": placed, "events": placed, "other events": []}
