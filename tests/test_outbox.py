"""The worker's steps, run in this process (tests/concurrency/ runs them in a real worker):
fan-out, leases, one webhook attempt and its outcome, one email."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.outbox import mail
from app.outbox.deliveries import attempt, claim_due
from app.outbox.dispatch import dispatch_events
from app.platform.db import utcnow
from app.platform.models import (
    Event,
    OutgoingEmail,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from tests.concurrency.worker import Receiver


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def order_placed(client, auth, make_product):
    product = make_product(stock=5)
    line = {"product_id": product.id, "quantity": 1}
    assert client.post("/api/cart", json=line, headers=auth.customer).status_code == 200
    return client.post("/api/orders", headers=auth.customer).get_json()


def subscribe(client, auth, url, events=("order.created",)):
    response = client.post(
        "/api/admin/webhooks", json={"url": url, "events": list(events)}, headers=auth.admin
    )
    assert response.status_code == 201
    return response.get_json()


def in_app(app, fn):
    with app.app_context():
        return fn()


def test_an_event_fans_out_to_matching_active_subscriptions_and_the_customer(
    app, client, auth, order_placed, receiver, query
):
    wanted = subscribe(client, auth, receiver.url("/a"))
    subscribe(client, auth, receiver.url("/b"), ["order.paid"])
    paused = subscribe(client, auth, receiver.url("/c"))
    client.patch(f"/api/admin/webhooks/{paused['id']}", json={"active": False}, headers=auth.admin)

    assert in_app(app, dispatch_events) == 1
    assert in_app(app, dispatch_events) == 0  # dispatched once

    deliveries = query(lambda s: s.scalars(select(WebhookDelivery)).all())
    assert [d.subscription_id for d in deliveries] == [wanted["id"]]
    [email] = query(lambda s: s.scalars(select(OutgoingEmail)).all())
    assert (email.recipient, email.subject) == (
        auth.customer_user.email,
        f"Order {order_placed['id']} confirmed",
    )
    assert query(lambda s: s.scalars(select(Event.dispatched_at)).one()) is not None


def test_a_lease_keeps_a_delivery_from_a_second_claim_until_it_runs_out(
    app, client, auth, order_placed, receiver, query
):
    subscribe(client, auth, receiver.url("/a"))
    in_app(app, dispatch_events)
    first = in_app(app, claim_due)
    assert len(first) == 1
    assert in_app(app, claim_due) == []
    query(
        lambda s: (
            s.execute(update(WebhookDelivery).values(lease_until=utcnow() - timedelta(seconds=1))),
            s.commit(),
        )
    )
    assert in_app(app, claim_due) == first  # its worker died: claimed again


def test_a_subscription_has_one_attempt_in_flight_at_a_time(
    app, client, auth, make_product, receiver, query
):
    """A slow receiver holds one sender: its next delivery waits for the one in flight."""
    subscribe(client, auth, receiver.url("/a"))
    subscribe(client, auth, receiver.url("/b"))
    for _ in range(3):
        product = make_product(stock=5)
        line = {"product_id": product.id, "quantity": 1}
        assert client.post("/api/cart", json=line, headers=auth.customer).status_code == 200
        assert client.post("/api/orders", headers=auth.customer).status_code == 201
    in_app(app, dispatch_events)

    assert len(in_app(app, lambda: claim_due(limit=1))) == 1  # as many as there are senders
    second = in_app(app, claim_due)
    assert len(second) == 1  # the other subscription's first; the first is in flight
    assert in_app(app, claim_due) == []
    in_app(app, lambda: attempt(second[0]))  # answered: its subscription is free again
    [third] = in_app(app, claim_due)
    subscriptions = query(
        lambda s: [s.get(WebhookDelivery, i).subscription_id for i in (second[0], third)]
    )
    assert subscriptions[0] == subscriptions[1] and third > second[0]


@pytest.mark.parametrize(
    ("answer", "status", "active", "retry"),
    [(200, "delivered", True, False), (500, "pending", True, True), (410, "failed", False, False)],
)
def test_one_attempt_and_its_outcome(
    app, client, auth, order_placed, receiver, query, answer, status, active, retry
):
    hook = subscribe(client, auth, receiver.url("/a"))
    receiver.secrets["/a"] = [hook["secret"]]
    receiver.plans["/a"] = [answer]
    in_app(app, dispatch_events)
    [delivery_id] = in_app(app, claim_due)

    in_app(app, lambda: attempt(delivery_id))

    [request] = receiver.at("/a")
    assert request.verified_with == [hook["secret"]]
    assert request.body["data"]["order"]["id"] == order_placed["id"]
    delivery = query(lambda s: s.get(WebhookDelivery, delivery_id))
    assert (delivery.status, delivery.attempts, delivery.lease_until) == (status, 1, None)
    assert (delivery.next_attempt_at > utcnow()) is retry
    assert query(lambda s: s.get(WebhookSubscription, hook["id"]).active) is active
    [logged] = query(lambda s: s.scalars(select(WebhookAttempt)).all())
    assert (logged.attempt, logged.status_code, logged.error) == (1, answer, None)


def test_a_subscription_disabled_after_dispatch_fails_its_delivery_without_a_call(
    app, client, auth, order_placed, receiver, query
):
    hook = subscribe(client, auth, receiver.url("/a"))
    in_app(app, dispatch_events)
    [delivery_id] = in_app(app, claim_due)
    client.patch(f"/api/admin/webhooks/{hook['id']}", json={"active": False}, headers=auth.admin)

    in_app(app, lambda: attempt(delivery_id))

    assert receiver.received == []
    assert query(lambda s: s.get(WebhookDelivery, delivery_id).status) == "failed"


def test_an_email_without_a_server_lands_in_the_mail_folder(
    make_app, client, auth, order_placed, query, tmp_path
):
    worker_app = make_app(MAIL_FOLDER=str(tmp_path))
    in_app(worker_app, dispatch_events)
    [email_id] = in_app(worker_app, mail.claim_due)

    in_app(worker_app, lambda: mail.send(email_id))

    [path] = list(tmp_path.glob("*.eml"))
    assert f"Order {order_placed['id']} confirmed" in path.read_text()
    sent = query(lambda s: s.get(OutgoingEmail, email_id))
    assert (sent.status, sent.attempts) == ("delivered", 1)


def test_an_email_the_server_refuses_is_retried_later(make_app, client, auth, order_placed, query):
    worker_app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=1)  # nothing listens there
    in_app(worker_app, dispatch_events)
    [email_id] = in_app(worker_app, mail.claim_due)

    in_app(worker_app, lambda: mail.send(email_id))

    email = query(lambda s: s.get(OutgoingEmail, email_id))
    assert (email.status, email.attempts, email.lease_until) == ("pending", 1, None)
    assert email.last_error and email.next_attempt_at > utcnow()


def test_every_retried_job_follows_its_schedule_setting(
    make_app, client, auth, order_placed, query
):
    """Emails on EMAIL_RETRY_SCHEDULE (as deliveries on theirs, app.outbox.engine): after its last
    wait the job has failed, and says when."""
    worker_app = make_app(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=1, EMAIL_RETRY_SCHEDULE=(0.0,)
    )  # nothing listens there; one retry, at once
    in_app(worker_app, dispatch_events)
    for tried in (1, 2):
        [email_id] = in_app(worker_app, mail.claim_due)
        in_app(worker_app, lambda email_id=email_id: mail.send(email_id))
        email = query(lambda s, email_id=email_id: s.get(OutgoingEmail, email_id))
        assert email.attempts == tried
    assert (email.status, email.finished_at is not None) == ("failed", True)
    assert in_app(worker_app, mail.claim_due) == []
