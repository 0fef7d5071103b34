"""A payment webhook racing the expiry of its unpaid order, on a real 4-worker server: one
guarded update decides each order, so it ends paid or cancelled, never both and never
neither; a payment that lost to the expiry is queued for a refund. Repeated, under load."""

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import select

from app import create_app
from app.ordering.orders import expire_unpaid
from app.platform.db import db
from app.platform.models import Order, OrderStatusChange, PaymentAction
from tests.concurrency.live import call
from tests.fake_stripe import intent_event, signed
from tests.invariants import inventory_violations

ORDERS = 20
ROUNDS = 3
EXPIRERS = 3


def test_payment_or_expiry_never_both_never_neither(start_live_store, fake_stripe):
    store = start_live_store(RATELIMIT_ENABLED="false", **fake_stripe.settings())
    expiring = create_app(
        {"SQLALCHEMY_DATABASE_URI": store.database_url, "ORDER_PAYMENT_TIMEOUT_SECONDS": 0}
    )
    product_id = store.product(stock=ORDERS * ROUNDS, price="10.00")
    try:
        for round_ in range(ROUNDS):
            _race(store, expiring, fake_stripe, product_id, round_)
    finally:
        with expiring.app_context():
            db.engine.dispose()

    def outcome(session):
        orders = session.scalars(select(Order)).all()
        refunds = set(session.scalars(select(PaymentAction.order_id)))
        histories = {}
        for change in session.scalars(select(OrderStatusChange).order_by(OrderStatusChange.id)):
            histories.setdefault(change.order_id, []).append(change.status)
        return orders, refunds, histories, inventory_violations(session)

    orders, refunds, histories, violations = store.query(outcome)
    assert len(orders) == ORDERS * ROUNDS
    for order in orders:
        assert histories[order.id] in (["pending", "paid"], ["pending", "cancelled"]), order.id
        if order.status == "paid":
            assert (order.payment_status, order.id in refunds) == ("succeeded", False)
        else:
            # Paid too late: the money goes back (a refund action, with the intent's cancel).
            assert (order.status, order.payment_status) == ("cancelled", "succeeded")
            assert order.id in refunds
    assert violations == []


def _race(store, expiring, fake_stripe, product_id, round_):
    customers = store.users(ORDERS)
    orders = []
    with requests.Session() as http:
        for customer in customers:
            store.add_to_cart(customer.headers, product_id)
            placed = call(http, "POST", store.url("/api/orders"), "order", headers=customer.headers)
            assert placed.status == 201, placed.body
            orders.append(placed.body)
    events = [
        intent_event(
            f"evt_{round_}_{order['id']}",
            "payment_intent.succeeded",
            fake_stripe.intent(order["payment"]["reference"]) | {"status": "succeeded"},
        )
        for order in orders
    ]
    start = threading.Barrier(ORDERS + EXPIRERS)
    done = threading.Event()

    def deliver(event):
        payload, headers = signed(event)
        with requests.Session() as http:
            start.wait()
            while True:  # Stripe retries until it gets a 2xx
                answer = call(
                    http,
                    "POST",
                    store.url("/api/payments/stripe/webhook"),
                    "hook",
                    data=payload,
                    headers=headers,
                )
                if answer.status == 200:
                    return
                assert answer.status == 503, (answer.status, answer.body)

    def expire():
        start.wait()
        while not done.is_set():
            with expiring.app_context():
                expire_unpaid()

    with ThreadPoolExecutor(ORDERS + EXPIRERS) as pool:
        expirers = [pool.submit(expire) for _ in range(EXPIRERS)]
        list(pool.map(deliver, events))
        done.set()
        for expirer in expirers:
            expirer.result()
    with expiring.app_context():
        expire_unpaid()  # whatever the webhooks left pending


REPORTS = 20


def test_many_reports_of_a_late_payment_refund_it_once(start_live_store, fake_stripe):
    """A cancelled order, then 20 `payment_intent.succeeded` events for its intent at once,
    each with its own id (Stripe's retries and duplicates): one refund, in every round."""
    store = start_live_store(RATELIMIT_ENABLED="false", **fake_stripe.settings())
    product_id = store.product(stock=ROUNDS * 2, price="10.00")
    [customer] = store.users(1)
    with requests.Session() as http:
        for round_ in range(ROUNDS * 2):
            store.add_to_cart(customer.headers, product_id)
            order = call(
                http, "POST", store.url("/api/orders"), "order", headers=customer.headers
            ).body
            cancel = store.url(f"/api/orders/{order['id']}/cancel")
            assert call(http, "POST", cancel, "cancel", headers=customer.headers).status == 200
            intent = fake_stripe.intent(order["payment"]["reference"]) | {"status": "succeeded"}
            reports = [
                signed(intent_event(f"evt_late_{round_}_{n}", "payment_intent.succeeded", intent))
                for n in range(REPORTS)
            ]
            start = threading.Barrier(REPORTS)

            def report(signed_event, start=start):
                payload, headers = signed_event
                with requests.Session() as own:
                    start.wait()
                    url = store.url("/api/payments/stripe/webhook")
                    while True:
                        answer = call(own, "POST", url, "hook", data=payload, headers=headers)
                        if answer.status == 200:
                            return
                        assert answer.status == 503, (answer.status, answer.body)

            with ThreadPoolExecutor(REPORTS) as pool:
                list(pool.map(report, reports))
            refunds = store.query(
                lambda s, order_id=order["id"]: s.scalars(
                    select(PaymentAction.kind).where(
                        PaymentAction.order_id == order_id, PaymentAction.kind == "refund"
                    )
                ).all()
            )
            assert refunds == ["refund"], (round_, refunds)
