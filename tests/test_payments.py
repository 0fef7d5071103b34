"""Payments: the manual provider (an admin marks orders paid) and the Stripe provider against
localstripe (tests/fake_stripe.py), with webhooks signed by the stripe library's own helper.

What is checked: an order's payment is created with it (a PaymentIntent of the order's
amount in minor units, the order id in its metadata); only a verified
payment_intent.succeeded whose amount and currency match pays the order; bad, stale and
tampered signatures are 400s that change nothing; a redelivered event changes nothing; a
payment that fails leaves the order payable; refunds and cancellations reach the provider
through the worker's payment actions; unpaid orders expire.
"""

import time

import pytest
from sqlalchemy import func, select

from app.ordering.orders import expire_unpaid
from app.ordering.payments import claim_due_actions, perform, start_missing
from app.outbox.dispatch import dispatch_events
from app.platform.db import db
from app.platform.models import (
    Event,
    Order,
    OrderStatusChange,
    OutgoingEmail,
    PaymentAction,
    ProviderEvent,
)
from tests.fake_stripe import intent_event, signed
from tests.helpers import assert_problem, stock_of

WEBHOOK = "/api/payments/stripe/webhook"


@pytest.fixture
def stripe_app(make_app, fake_stripe):
    return make_app(**fake_stripe.settings())


@pytest.fixture
def shop(stripe_app, auth, make_product):
    """A customer with 2 x 12.50 in the cart, on the Stripe-configured app."""
    client = stripe_app.test_client()
    product = make_product(price="12.50", stock=10)

    def order(quantity: int = 2, **headers):
        line = {"product_id": product.id, "quantity": quantity}
        assert client.post("/api/cart", json=line, headers=auth.customer).status_code == 200
        placed = client.post("/api/orders", headers=auth.customer | headers)
        assert placed.status_code == 201, placed.get_data(as_text=True)
        return placed.get_json()

    shop = type("Shop", (), {})()
    shop.client, shop.product, shop.order = client, product, order
    return shop


def send(client, event: dict, **kwargs):
    payload, headers = signed(event, **kwargs)
    return client.post(WEBHOOK, data=payload, headers=headers)


def succeeded(order: dict, fake_stripe, event_id: str = "evt_paid", **changes) -> dict:
    intent = fake_stripe.intent(order["payment"]["reference"]) | changes
    return intent_event(event_id, "payment_intent.succeeded", intent)


def stored(stripe_app, order_id: int) -> Order:
    with stripe_app.app_context():
        order = db.session.get(Order, order_id)
        db.session.expunge(order)
        return order


def history(stripe_app, order_id: int) -> list[str]:
    with stripe_app.app_context():
        return db.session.scalars(
            select(OrderStatusChange.status)
            .where(OrderStatusChange.order_id == order_id)
            .order_by(OrderStatusChange.id)
        ).all()


def event_types(stripe_app) -> list[str]:
    with stripe_app.app_context():
        return db.session.scalars(select(Event.type).order_by(Event.id)).all()


def run_payment_actions(stripe_app) -> int:
    with stripe_app.app_context():
        ids = claim_due_actions()
        for action_id in ids:
            perform(action_id)
        return len(ids)


# --- an order's PaymentIntent -----------------------------------------------------------------


def test_placing_an_order_creates_its_payment_intent(shop, fake_stripe):
    order = shop.order()
    payment = order["payment"]
    assert (payment["provider"], payment["status"]) == ("stripe", "requires_payment")
    assert (payment["amount"], payment["currency"]) == ("25.00", "usd")
    assert payment["reference"].startswith("pi_")
    assert payment["client_secret"].startswith(payment["reference"] + "_secret_")
    intent = fake_stripe.intent(payment["reference"])
    assert (intent["amount"], intent["currency"]) == (2500, "usd")
    assert intent["metadata"] == {"order_id": str(order["id"])}


def test_the_client_secret_comes_with_an_idempotent_order_and_its_replay(shop, auth):
    key = {"Idempotency-Key": "stripe-checkout-1"}
    order = shop.order(**key)
    assert order["payment"]["client_secret"].startswith("pi_")
    replay = shop.client.post("/api/orders", headers=auth.customer | key)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == order


def test_an_intent_stripe_could_not_create_is_created_by_the_worker(
    make_app, fake_stripe, auth, make_product
):
    down = make_app(**fake_stripe.settings() | {"STRIPE_API_BASE": "http://127.0.0.1:9"})
    client = down.test_client()
    product = make_product(price="5.00", stock=5)
    client.post("/api/cart", json={"product_id": product.id}, headers=auth.customer)
    placed = client.post("/api/orders", headers=auth.customer)
    assert placed.status_code == 201  # the order stands; its payment comes later
    assert placed.get_json()["payment"]["client_secret"] is None

    up = make_app(**fake_stripe.settings())
    with up.app_context():
        assert start_missing() == 1
    order = up.test_client().get(f"/api/orders/{placed.get_json()['id']}", headers=auth.customer)
    assert order.get_json()["payment"]["client_secret"].startswith("pi_")


# --- the webhook --------------------------------------------------------------------------------


def test_a_verified_success_pays_the_order_once(shop, stripe_app, fake_stripe):
    order = shop.order()
    fake_stripe.pay(order["payment"]["reference"])
    event = succeeded(order, fake_stripe)

    first = send(shop.client, event)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json() == {"received": True}
    paid = stored(stripe_app, order["id"])
    assert (paid.status, paid.payment_status) == ("paid", "succeeded")

    again = send(shop.client, event)  # Stripe redelivers
    assert again.status_code == 200
    assert history(stripe_app, order["id"]) == ["pending", "paid"]
    assert event_types(stripe_app).count("order.paid") == 1


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "stale", "future", "tampered body", "no signature", "garbage header"],
)
def test_a_webhook_stripe_did_not_sign_is_a_400_and_changes_nothing(
    shop, stripe_app, fake_stripe, tamper
):
    order = shop.order()
    event = succeeded(order, fake_stripe, event_id=f"evt_{tamper.replace(' ', '_')}")
    if tamper == "wrong secret":
        payload, headers = signed(event, secret="whsec_someone_else")
    elif tamper == "stale":
        payload, headers = signed(event, timestamp=int(time.time()) - 301)
    elif tamper == "future":  # a signature made to be replayed for a year
        payload, headers = signed(event, timestamp=int(time.time()) + 365 * 86400)
    else:
        payload, headers = signed(event)
    if tamper == "tampered body":
        payload = payload.replace('"amount": 2500', '"amount": 1')
    elif tamper == "no signature":
        del headers["Stripe-Signature"]
    elif tamper == "garbage header":
        headers["Stripe-Signature"] = "t=abc,v1=zz"

    response = shop.client.post(WEBHOOK, data=payload, headers=headers)

    assert_problem(response, 400)
    assert stored(stripe_app, order["id"]).status == "pending"
    with stripe_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProviderEvent)) == 0


def test_an_amount_that_does_not_match_is_flagged_not_paid(shop, stripe_app, fake_stripe):
    order = shop.order()
    response = send(shop.client, succeeded(order, fake_stripe, amount=100, amount_received=100))
    assert response.status_code == 200
    flagged = stored(stripe_app, order["id"])
    assert (flagged.status, flagged.payment_status) == ("pending", "requires_payment")
    assert "100 usd" in flagged.payment_flagged and "2500 usd" in flagged.payment_flagged

    other_currency = succeeded(order, fake_stripe, event_id="evt_eur", currency="eur")
    assert send(shop.client, other_currency).status_code == 200
    assert stored(stripe_app, order["id"]).status == "pending"


def refund_actions(stripe_app) -> list[tuple]:
    with stripe_app.app_context():
        return db.session.execute(
            select(PaymentAction.kind, PaymentAction.reference).order_by(PaymentAction.id)
        ).all()


def test_a_mismatched_payment_is_shown_to_staff_and_refunded_once(
    shop, stripe_app, fake_stripe, auth
):
    order = shop.order()
    reference = order["payment"]["reference"]
    fake_stripe.pay(reference)  # the money arrived, but Stripe reports another amount
    for event_id in ("evt_short", "evt_short_again"):
        event = succeeded(order, fake_stripe, event_id, amount=100, amount_received=100)
        assert send(shop.client, event).status_code == 200
    assert refund_actions(stripe_app) == [("refund_intent", reference)]

    seen = shop.client.get(f"/api/orders/{order['id']}", headers=auth.admin).get_json()
    assert seen["status"] == "pending" and "not marked paid" in seen["payment"]["flagged"]
    listed = shop.client.get("/api/admin/orders?flagged=true", headers=auth.admin).get_json()
    assert [item["id"] for item in listed["items"]] == [order["id"]]
    others = shop.client.get("/api/admin/orders?flagged=false", headers=auth.admin).get_json()
    assert order["id"] not in [item["id"] for item in others["items"]]

    assert run_payment_actions(stripe_app) == 1
    after = stored(stripe_app, order["id"])
    assert "Refunded as re_" in after.payment_flagged
    assert (after.status, after.payment_status) == ("pending", "requires_payment")


def test_a_success_of_another_intent_never_pays_the_order(shop, stripe_app, fake_stripe):
    """An intent naming the order in its metadata but not the order's own: refunded, not
    taken as the order's payment, even with the right amount."""
    order = shop.order()
    foreign = shop.order()["payment"]["reference"]  # a real intent of the same amount
    fake_stripe.pay(foreign)
    intent = fake_stripe.intent(foreign) | {"metadata": {"order_id": str(order["id"])}}
    event = intent_event("evt_foreign", "payment_intent.succeeded", intent)
    assert send(shop.client, event).status_code == 200

    after = stored(stripe_app, order["id"])
    assert (after.status, after.payment_status) == ("pending", "requires_payment")
    assert f"not the order's intent ({order['payment']['reference']})" in after.payment_flagged
    assert refund_actions(stripe_app) == [("refund_intent", foreign)]


def test_staff_cannot_mark_a_stripe_order_paid(shop, stripe_app, auth):
    order = shop.order()
    path = f"/api/orders/{order['id']}"
    response = shop.client.patch(path, json={"status": "paid"}, headers=auth.admin)
    assert_problem(response, 409)
    assert stored(stripe_app, order["id"]).status == "pending"


def test_a_cancellation_stripe_refuses_is_logged_as_a_warning(
    shop, stripe_app, fake_stripe, auth, caplog
):
    order = shop.order()
    fake_stripe.pay(order["payment"]["reference"])  # succeeded at Stripe: no cancelling it
    shop.client.post(f"/api/orders/{order['id']}/cancel", headers=auth.customer)
    with caplog.at_level("INFO"):
        assert run_payment_actions(stripe_app) == 1
    [record] = [r for r in caplog.records if "did not cancel" in r.getMessage()]
    assert record.levelname == "WARNING"


def test_a_failed_payment_is_recorded_and_the_order_stays_payable(shop, stripe_app, fake_stripe):
    order = shop.order()
    reference = order["payment"]["reference"]
    with pytest.raises(Exception, match="declined"):
        fake_stripe.pay(reference, card="4000000000000341")
    failed = intent_event(
        "evt_failed", "payment_intent.payment_failed", fake_stripe.intent(reference)
    )
    assert send(shop.client, failed).status_code == 200
    after = stored(stripe_app, order["id"])
    assert (after.status, after.payment_status) == ("pending", "failed")
    assert "payment.failed" in event_types(stripe_app)

    # A second card works. (localstripe cannot confirm an intent again after a declined
    # charge: the success is the event Stripe sends then.)
    later = succeeded(order, fake_stripe, event_id="evt_second_card", status="succeeded")
    assert send(shop.client, later).status_code == 200
    assert stored(stripe_app, order["id"]).status == "paid"


def test_an_event_for_no_order_of_ours_is_acknowledged(shop, stripe_app):
    intent = {"id": "pi_elsewhere", "object": "payment_intent", "amount": 100, "metadata": {}}
    response = send(shop.client, intent_event("evt_other", "payment_intent.succeeded", intent))
    assert response.status_code == 200
    with stripe_app.app_context():
        assert db.session.get(ProviderEvent, "evt_other").order_id is None


def test_a_client_cannot_mark_its_order_paid(shop, auth):
    order = shop.order()
    response = shop.client.patch(
        f"/api/orders/{order['id']}", json={"status": "paid"}, headers=auth.customer
    )
    assert_problem(response, 403)


# --- refunds and cancellations ----------------------------------------------------------------


def test_cancelling_a_paid_order_refunds_it_through_stripe(
    shop, stripe_app, fake_stripe, auth, query
):
    order = shop.order()
    fake_stripe.pay(order["payment"]["reference"])
    send(shop.client, succeeded(order, fake_stripe))

    cancelled = shop.client.post(f"/api/orders/{order['id']}/cancel", headers=auth.customer)
    assert cancelled.status_code == 200
    assert cancelled.get_json()["payment"]["status"] == "succeeded"  # the refund is on its way
    assert run_payment_actions(stripe_app) == 1

    refunded = stored(stripe_app, order["id"])
    assert refunded.payment_status == "refunded" and refunded.refund_reference.startswith("re_")
    assert "order.refunded" in event_types(stripe_app)
    assert stock_of(query, shop.product.id) == 10  # the same database as stripe_app


def test_a_success_for_a_cancelled_order_is_refunded(shop, stripe_app, fake_stripe, auth):
    order = shop.order()
    shop.client.post(f"/api/orders/{order['id']}/cancel", headers=auth.customer)
    fake_stripe.pay(order["payment"]["reference"])  # the customer paid meanwhile

    assert send(shop.client, succeeded(order, fake_stripe)).status_code == 200

    after = stored(stripe_app, order["id"])
    assert (after.status, after.payment_status) == ("cancelled", "succeeded")
    assert history(stripe_app, order["id"]) == ["pending", "cancelled"]
    with stripe_app.app_context():
        kinds = db.session.scalars(select(PaymentAction.kind).order_by(PaymentAction.id)).all()
    assert kinds == ["cancel", "refund"]
    # Another event of the same success (a new id) refunds nothing more.
    assert send(shop.client, succeeded(order, fake_stripe, event_id="evt_again")).status_code == 200
    with stripe_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PaymentAction)) == 2
    run_payment_actions(stripe_app)
    assert stored(stripe_app, order["id"]).payment_status == "refunded"


def test_cancelling_an_unpaid_order_cancels_its_intent(shop, stripe_app, fake_stripe, auth):
    order = shop.order()
    shop.client.post(f"/api/orders/{order['id']}/cancel", headers=auth.customer)
    assert run_payment_actions(stripe_app) == 1
    assert fake_stripe.intent(order["payment"]["reference"])["status"] == "canceled"


def test_the_manual_provider_is_paid_by_an_admin_and_refunded_outside(
    client, app, auth, make_product
):
    product = make_product(price="5.00", stock=3)
    client.post("/api/cart", json={"product_id": product.id}, headers=auth.customer)
    order = client.post("/api/orders", headers=auth.customer).get_json()
    assert order["payment"]["provider"] == "manual"
    path = f"/api/orders/{order['id']}"
    paid = client.patch(path, json={"status": "paid"}, headers=auth.admin).get_json()
    assert paid["payment"]["status"] == "succeeded"
    client.post(f"{path}/cancel", headers=auth.customer)
    assert run_payment_actions(app) == 1
    body = client.get(path, headers=auth.customer).get_json()
    assert body["payment"]["status"] == "refunded"


# --- expiry ----------------------------------------------------------------------------------


def test_unpaid_orders_expire_and_give_their_stock_back(make_app, auth, make_product, query):
    product = make_product(price="5.00", stock=3)
    patient = make_app(ORDER_PAYMENT_TIMEOUT_SECONDS=3600)
    client = patient.test_client()
    client.post("/api/cart", json={"product_id": product.id, "quantity": 2}, headers=auth.customer)
    order = client.post("/api/orders", headers=auth.customer).get_json()
    with patient.app_context():
        assert expire_unpaid() == 0

    hasty = make_app(ORDER_PAYMENT_TIMEOUT_SECONDS=0)
    with hasty.app_context():
        assert expire_unpaid() == 1
    body = client.get(f"/api/orders/{order['id']}", headers=auth.customer).get_json()
    assert body["status"] == "cancelled"
    assert [change["status"] for change in body["status_history"]] == ["pending", "cancelled"]
    assert stock_of(query, product.id) == 3


def test_a_webhook_needs_stripe_enabled(client):
    payload, headers = signed(intent_event("evt_x", "payment_intent.succeeded", {}))
    body = assert_problem(client.post(WEBHOOK, data=payload, headers=headers), 400)
    assert "not enabled" in body["detail"]


def test_a_webhook_body_must_be_an_event_object(shop):
    payload, headers = signed([1, 2])  # type: ignore[arg-type]
    assert_problem(shop.client.post(WEBHOOK, data=payload, headers=headers), 422, "body")


def test_paid_failed_and_refunded_orders_email_the_customer(shop, stripe_app, fake_stripe, auth):
    order = shop.order()
    reference = order["payment"]["reference"]
    failed = intent_event("evt_no", "payment_intent.payment_failed", fake_stripe.intent(reference))
    send(shop.client, failed)
    fake_stripe.pay(reference)
    send(shop.client, succeeded(order, fake_stripe))
    shop.client.post(f"/api/orders/{order['id']}/cancel", headers=auth.customer)
    run_payment_actions(stripe_app)

    with stripe_app.app_context():
        while dispatch_events():
            pass
        subjects = db.session.scalars(select(OutgoingEmail.subject).order_by(OutgoingEmail.id))
        recipients = set(db.session.scalars(select(OutgoingEmail.recipient)))
        subjects = list(subjects)
    number = order["id"]
    assert subjects == [
        f"Order {number} confirmed",
        f"Payment failed for order {number}",
        f"Payment received for order {number}",
        f"Order {number} cancelled",
        f"Order {number} refunded",
    ]
    assert recipients == {auth.customer_user.email}


def test_signed_events_of_any_shape_never_fail_the_server(shop, stripe_app):
    """Signed by the secret holder but malformed: refused (400) or ignored (200), never 500."""
    shapes = {
        "no id": ({"type": "payment_intent.succeeded"}, 400),
        "numeric id": ({"id": 5, "type": "payment_intent.succeeded"}, 400),
        "no type": ({"id": "evt_shape_1"}, 400),
        "data a list": ({"id": "evt_shape_2", "type": "payment_intent.succeeded", "data": []}, 200),
        "metadata a list": (
            intent_event("evt_shape_3", "payment_intent.succeeded", {"metadata": ["1"]}),
            200,
        ),
        "lone surrogate in the id": (
            {"id": "evt_\udbe2", "type": "payment_intent.succeeded"},
            400,
        ),
        "NUL in the id": ({"id": "evt_\u0000", "type": "payment_intent.succeeded"}, 400),
        "NUL in the type": ({"id": "evt_shape_5", "type": "payment_intent.\u0000"}, 400),
        "huge order id": (
            intent_event(
                "evt_shape_4", "payment_intent.succeeded", {"metadata": {"order_id": "9" * 5000}}
            ),
            200,
        ),
    }
    for name, (event, status) in shapes.items():
        response = send(shop.client, event)
        assert response.status_code == status, (name, response.get_data(as_text=True))
