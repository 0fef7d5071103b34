"""Webhooks end to end: the app writes events, a real worker process delivers them to a real
receiver on loopback, which verifies every signature with the `standardwebhooks` package."""

import time

import pytest
import redis
from sqlalchemy import select

from app.platform.models import (
    DeliveryStatus,
    Event,
    Order,
    OutgoingEmail,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from tests.concurrency.worker import wait_for
from tests.databases import TEST_DATABASE
from tests.helpers import redis_database_url

ORDER_EVENTS = ["order.created", "order.paid", "order.shipped", "order.cancelled"]


def subscribe(client, auth, receiver, path, events) -> dict:
    response = client.post(
        "/api/admin/webhooks",
        json={"url": receiver.url(path), "events": events},
        headers=auth.admin,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    hook = response.get_json()
    receiver.secrets[path] = [hook["secret"]]
    return hook


def place_order(client, auth, make_product) -> dict:
    product = make_product(stock=10)
    line = {"product_id": product.id, "quantity": 1}
    assert client.post("/api/cart", json=line, headers=auth.customer).status_code == 200
    response = client.post("/api/orders", headers=auth.customer)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def set_status(client, auth, order_id, status) -> None:
    response = client.patch(f"/api/orders/{order_id}", json={"status": status}, headers=auth.admin)
    assert response.status_code == 200, response.get_data(as_text=True)


def as_get_returns(client, auth, order_id) -> dict:
    return client.get(f"/api/orders/{order_id}", headers=auth.customer).get_json()


def settled(query) -> bool:
    """Every event dispatched and no delivery left pending."""

    def read(s):
        undispatched = s.scalar(select(Event.id).where(Event.dispatched_at.is_(None)).limit(1))
        pending = s.scalar(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING)
            .limit(1)
        )
        return undispatched is None and pending is None

    return query(read)


def test_each_order_event_reaches_every_matching_subscription_once(
    client, auth, make_product, query, receiver, start_worker
):
    subscribe(client, auth, receiver, "/everything", ORDER_EVENTS)
    subscribe(client, auth, receiver, "/payments", ["order.paid"])
    start_worker()

    order = place_order(client, auth, make_product)
    seen = {"order.created": as_get_returns(client, auth, order["id"])}
    wait_for(lambda: len(receiver.at("/everything")) == 1, what="order.created")
    for status in ("paid", "shipped"):
        set_status(client, auth, order["id"], status)
        seen[f"order.{status}"] = as_get_returns(client, auth, order["id"])
    other = place_order(client, auth, make_product)
    response = client.post(f"/api/orders/{other['id']}/cancel", headers=auth.customer)
    assert response.status_code == 200
    wait_for(lambda: len(receiver.at("/everything")) == 5, what="five deliveries")
    time.sleep(1)  # anything more would be a duplicate
    wait_for(lambda: settled(query), what="no pending delivery")

    # Deliveries run in parallel: they may arrive out of order (each carries its created_at).
    everything = sorted(receiver.at("/everything"), key=lambda r: r.body["created_at"])
    assert [(r.body["type"], r.body["data"]["order"]["id"]) for r in everything] == [
        ("order.created", order["id"]),
        ("order.paid", order["id"]),
        ("order.shipped", order["id"]),
        ("order.created", other["id"]),
        ("order.cancelled", other["id"]),
    ]
    for request in everything[:3]:
        assert request.body["data"]["order"] == seen[request.body["type"]]
    assert everything[4].body["data"]["order"] == response.get_json()
    payments = receiver.at("/payments")
    assert [r.body["type"] for r in payments] == ["order.paid"]
    for request in receiver.received:
        assert request.verified_with, request.headers  # signed with the subscription's secret
        assert request.headers["webhook-id"] == request.body["id"]
        assert request.body["id"].startswith("evt_")
    assert len({r.body["id"] for r in everything}) == 5
    assert payments[0].body["id"] == everything[1].body["id"]  # one event, one id


def test_failed_attempts_are_retried_with_the_same_id_and_logged(
    client, auth, make_product, query, receiver, start_worker
):
    hook = subscribe(client, auth, receiver, "/flaky", ["order.created"])
    receiver.plans["/flaky"] = [500, 500, 200]
    start_worker()
    place_order(client, auth, make_product)

    wait_for(lambda: len(receiver.at("/flaky")) == 3, what="three attempts")
    wait_for(lambda: settled(query), what="the delivery settled")
    ids = {request.headers["webhook-id"] for request in receiver.at("/flaky")}
    assert len(ids) == 1
    log = client.get(f"/api/admin/webhooks/{hook['id']}/deliveries", headers=auth.admin)
    attempts = log.get_json()["items"]
    assert [(a["attempt"], a["status_code"]) for a in attempts] == [(3, 200), (2, 500), (1, 500)]
    assert {a["event_id"] for a in attempts} == ids
    delivery = query(lambda s: s.scalars(select(WebhookDelivery)).one())
    assert (delivery.status, delivery.attempts) == ("delivered", 3)


def test_a_410_disables_the_subscription(client, auth, make_product, query, receiver, start_worker):
    hook = subscribe(client, auth, receiver, "/gone", ["order.created"])
    receiver.plans["/gone"] = [410]
    start_worker()
    place_order(client, auth, make_product)

    wait_for(lambda: settled(query), what="the delivery settled")
    assert len(receiver.at("/gone")) == 1
    assert query(lambda s: s.get(WebhookSubscription, hook["id"]).active) is False
    shown = client.get(f"/api/admin/webhooks/{hook['id']}", headers=auth.admin).get_json()
    assert shown["active"] is False


def test_a_receiver_that_never_answers_costs_one_timeout_per_attempt_and_nothing_else(
    client, auth, make_product, query, receiver, start_worker
):
    subscribe(client, auth, receiver, "/hangs", ["order.created"])
    receiver.plans["/hangs"] = [("sleep", 3)] * 4  # longer than the 1 s timeout, every time
    start_worker()

    started = time.perf_counter()
    place_order(client, auth, make_product)
    assert time.perf_counter() - started < 1  # the request never waits on the receiver

    wait_for(lambda: settled(query), timeout=30, what="the schedule ran out")
    attempts = query(lambda s: s.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all())
    assert len(attempts) == 4  # the first and three retries
    for attempt in attempts:
        assert attempt.status_code is None and "Timeout" in attempt.error
        assert 900 <= attempt.duration_ms < 2500
    delivery = query(lambda s: s.scalars(select(WebhookDelivery)).one())
    assert delivery.status == "failed"


def test_a_worker_killed_mid_delivery_loses_nothing(
    client, auth, make_product, query, receiver, start_worker
):
    subscribe(client, auth, receiver, "/slow", ["order.created"])
    # The first request stalls (and times out); the ones after the restart are answered.
    receiver.plans["/slow"] = [("sleep", 3)]
    worker = start_worker(WEBHOOK_TIMEOUT_SECONDS="5")
    orders = [place_order(client, auth, make_product) for _ in range(3)]

    wait_for(lambda: receiver.at("/slow"), what="the first delivery to start")
    worker.kill()  # SIGKILL, mid-delivery
    start_worker()

    def all_delivered():
        delivered = {r.body["data"]["order"]["id"] for r in receiver.at("/slow")}
        return delivered == {order["id"] for order in orders} and settled(query)

    wait_for(all_delivered, timeout=30, what="every event after the restart")
    by_event: dict[str, set[int]] = {}
    for request in receiver.at("/slow"):
        by_event.setdefault(request.headers["webhook-id"], set()).add(
            request.body["data"]["order"]["id"]
        )
    # Duplicates (the one in flight) carry the same webhook-id as the first send.
    assert len(by_event) == 3
    assert all(len(order_ids) == 1 for order_ids in by_event.values())


def test_after_a_rotation_both_secrets_sign(
    client, auth, make_product, query, receiver, start_worker
):
    hook = subscribe(client, auth, receiver, "/rotated", ["order.created"])
    rotated = client.post(f"/api/admin/webhooks/{hook['id']}/rotate-secret", headers=auth.admin)
    receiver.secrets["/rotated"] = [hook["secret"], rotated.get_json()["secret"]]
    worker = start_worker()
    place_order(client, auth, make_product)

    wait_for(lambda: receiver.at("/rotated"), what="the delivery")
    assert worker.stop() == 0  # SIGTERM: the pump stops polling, the worker exits cleanly
    [request] = receiver.at("/rotated")
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert request.verified_with == receiver.secrets["/rotated"]


# A database of its own per engine: the two runs of `make test` never share a queue.
REDIS_DATABASE = redis_database_url(13 if TEST_DATABASE == "sqlite" else 14)


def test_the_redis_queue_delivers_too(
    client, auth, make_product, query, receiver, start_worker, tmp_path
):
    queue = redis.Redis.from_url(REDIS_DATABASE)
    try:
        queue.flushdb()
    except redis.ConnectionError:  # pragma: no cover - the machine runs Redis
        pytest.fail(f"Redis must answer at {REDIS_DATABASE} (TEST_REDIS_URL) for the queue tests")
    subscribe(client, auth, receiver, "/redis", ["order.created"])
    start_worker(REDIS_URL=REDIS_DATABASE)
    order = place_order(client, auth, make_product)

    wait_for(lambda: receiver.at("/redis"), what="the delivery through Redis")
    assert receiver.at("/redis")[0].body["data"]["order"]["id"] == order["id"]
    assert not (tmp_path / "queue.db").exists()  # the queue lived in Redis
    queue.flushdb()


def test_the_guard_refuses_at_delivery_too(
    client, auth, make_product, query, receiver, start_worker
):
    """A URL allowed when the subscription was made (or whose DNS changed since) is checked
    again before every attempt: the receiver on loopback is never contacted."""
    subscribe(client, auth, receiver, "/internal", ["order.created"])
    start_worker(WEBHOOKS_ALLOW_PRIVATE_NETWORKS="false")
    place_order(client, auth, make_product)

    wait_for(lambda: settled(query), timeout=30, what="the schedule ran out")
    attempts = query(lambda s: s.scalars(select(WebhookAttempt)).all())
    assert len(attempts) == 4
    assert all("loopback" in attempt.error and attempt.status_code is None for attempt in attempts)
    assert receiver.received == []


def test_a_stalling_receiver_holds_up_nothing_else(
    client, auth, make_product, query, receiver, start_worker, tmp_path
):
    """One receiver trickles its answer a byte at a time, forever; another answers at once.
    Within 15 s every healthy delivery, every email and every due expiry still happens, and
    the stalling one costs one bounded attempt at a time."""
    subscribe(client, auth, receiver, "/stall", ["order.created"])
    subscribe(client, auth, receiver, "/healthy", ["order.created"])
    receiver.plans["/stall"] = [("trickle", 60)] * 20
    start_worker(ORDER_PAYMENT_TIMEOUT_SECONDS="2", MAIL_FOLDER=str(tmp_path / "mail"))
    orders = [place_order(client, auth, make_product) for _ in range(6)]
    ids = {order["id"] for order in orders}

    def all_flowed():
        healthy = {r.body["data"]["order"]["id"] for r in receiver.at("/healthy")}
        emails = query(
            lambda s: s.scalars(
                select(OutgoingEmail.status).where(OutgoingEmail.subject.like("%confirmed"))
            ).all()
        )
        statuses = query(lambda s: s.scalars(select(Order.status).where(Order.id.in_(ids))).all())
        return (
            healthy == ids and emails == ["delivered"] * len(ids) and set(statuses) == {"cancelled"}
        )

    wait_for(all_flowed, timeout=15, what="healthy deliveries, emails and expiries")
    stalled = query(
        lambda s: s.scalars(
            select(WebhookAttempt)
            .join(WebhookSubscription)
            .where(WebhookSubscription.url.like("%/stall"))
        ).all()
    )
    assert all("Timeout" in attempt.error and attempt.duration_ms < 2500 for attempt in stalled)
