"""The outbox: every order change writes its event in the same transaction, with the order
exactly as GET /api/orders/<id> returns it; a change that is refused or rolled back writes
none."""

import pytest
from sqlalchemy import select

from app.platform.models import Event
from tests.helpers import assert_problem


def events(query) -> list[tuple[str, dict]]:
    rows = query(lambda s: s.scalars(select(Event).order_by(Event.id)).all())
    return [(event.type, event.data) for event in rows]


@pytest.fixture
def place(client, auth, make_product):
    def place(stock=5, quantity=2) -> dict:
        product = make_product(stock=stock)
        line = {"product_id": product.id, "quantity": quantity}
        assert client.post("/api/cart", json=line, headers=auth.customer).status_code == 200
        response = client.post("/api/orders", headers=auth.customer)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    return place


def as_get_returns(client, auth, order_id) -> dict:
    response = client.get(f"/api/orders/{order_id}", headers=auth.customer)
    assert response.status_code == 200
    return response.get_json()


def test_placing_an_order_writes_order_created_with_the_order_as_get_returns_it(
    client, auth, place, query
):
    order = place()
    [(event_type, data)] = events(query)
    assert event_type == "order.created"
    assert data == {"order": as_get_returns(client, auth, order["id"])}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (["paid"], ["order.paid"]),
        (["paid", "shipped"], ["order.paid", "order.shipped"]),
        (["paid", "shipped", "delivered"], ["order.paid", "order.shipped", "order.delivered"]),
        (["cancelled"], ["order.cancelled"]),
        (["paid", "cancelled"], ["order.paid", "order.cancelled"]),
    ],
    ids=lambda value: "-".join(value),
)
def test_every_status_change_writes_its_event(client, auth, place, query, path, expected):
    order = place()
    for status in path:
        response = client.patch(
            f"/api/orders/{order['id']}", json={"status": status}, headers=auth.admin
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        _, latest = events(query)[-1]
        assert latest == {"order": as_get_returns(client, auth, order["id"])}
    assert [event_type for event_type, _ in events(query)] == ["order.created", *expected]


def test_a_customer_cancel_writes_order_cancelled(client, auth, place, query):
    order = place()
    response = client.post(f"/api/orders/{order['id']}/cancel", headers=auth.customer)
    assert response.status_code == 200
    assert events(query)[-1] == ("order.cancelled", {"order": response.get_json()})


def test_a_refused_checkout_writes_no_event(client, auth, make_product, query):
    product = make_product(stock=1)
    line = {"product_id": product.id, "quantity": 1}
    other = auth.user("other").headers
    for headers in (auth.customer, other):
        assert client.post("/api/cart", json=line, headers=headers).status_code == 200
    assert client.post("/api/orders", headers=auth.customer).status_code == 201
    assert_problem(client.post("/api/orders", headers=other), 409)
    assert_problem(client.post("/api/orders", headers=auth.customer), 409)  # empty cart
    assert [event_type for event_type, _ in events(query)] == ["order.created"]


def test_a_refused_status_change_writes_no_event(client, auth, place, query):
    order = place()
    response = client.patch(
        f"/api/orders/{order['id']}", json={"status": "delivered"}, headers=auth.admin
    )
    assert_problem(response, 409)
    assert [event_type for event_type, _ in events(query)] == ["order.created"]


def test_a_checkout_rolled_back_by_its_idempotency_key_writes_no_event(
    client, auth, make_product, query, monkeypatch
):
    product = make_product(stock=3)
    line = {"product_id": product.id, "quantity": 1}
    assert client.post("/api/cart", json=line, headers=auth.customer).status_code == 200

    def storage_fails(*_args):
        raise RuntimeError("the idempotency row could not be written")

    monkeypatch.setattr("app.api.idempotency._store", storage_fails)
    headers = {**auth.customer, "Idempotency-Key": "no-event"}
    assert_problem(client.post("/api/orders", headers=headers), 500)
    assert events(query) == []


def test_a_cancel_that_fails_midway_writes_no_event(client, auth, place, query, monkeypatch):
    order = place()

    def broken(*args, **kwargs):
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr("app.catalog.inventory._record", broken)
    assert_problem(client.post(f"/api/orders/{order['id']}/cancel", headers=auth.customer), 500)
    assert [event_type for event_type, _ in events(query)] == ["order.created"]
