"""Webhook subscriptions (admin API): the secret shown once, rotation, validation and the
SSRF guard. Delivery itself is tested with a real worker in tests/concurrency/."""

import pytest
from sqlalchemy import select

from app.platform.models import WebhookSubscription
from tests.helpers import assert_problem

URL = "http://127.0.0.1:9/hooks"
PUBLIC_FIELDS = {"id", "url", "events", "description", "active", "created_at", "updated_at"}


def create(client, auth, **payload):
    body = {"url": URL, "events": ["order.created"], **payload}
    return client.post("/api/admin/webhooks", json=body, headers=auth.admin)


def test_a_subscription_shows_its_secret_once(client, auth):
    response = create(client, auth, description="Warehouse")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == PUBLIC_FIELDS | {"secret"}
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert (body["url"], body["events"], body["active"]) == (URL, ["order.created"], True)
    assert response.headers["Location"].endswith(f"/api/admin/webhooks/{body['id']}")

    shown = client.get(f"/api/admin/webhooks/{body['id']}", headers=auth.admin).get_json()
    assert set(shown) == PUBLIC_FIELDS
    listed = client.get("/api/admin/webhooks", headers=auth.admin).get_json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert "secret" not in listed["items"][0]


def test_rotation_gives_a_new_secret_and_keeps_the_old_one_signing(client, auth, query):
    created = create(client, auth).get_json()
    response = client.post(f"/api/admin/webhooks/{created['id']}/rotate-secret", headers=auth.admin)
    assert response.status_code == 200
    rotated = response.get_json()["secret"]
    assert rotated.startswith("whsec_") and rotated != created["secret"]
    stored = query(lambda s: s.get(WebhookSubscription, created["id"]))
    assert (stored.secret, stored.previous_secret) == (rotated, created["secret"])
    assert stored.previous_secret_expires_at is not None


def test_a_subscription_is_changed_and_deleted(client, auth, query):
    created = create(client, auth).get_json()
    path = f"/api/admin/webhooks/{created['id']}"
    changes = {"events": ["order.paid", "order.shipped"], "active": False}
    response = client.patch(path, json=changes, headers=auth.admin)
    assert response.status_code == 200
    assert response.get_json()["events"] == ["order.paid", "order.shipped"]
    assert response.get_json()["active"] is False

    assert client.delete(path, headers=auth.admin).status_code == 204
    assert_problem(client.get(path, headers=auth.admin), 404)
    assert query(lambda s: s.scalars(select(WebhookSubscription)).all()) == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"events": ["order.teleported"]}, "events"),
        ({"events": []}, "events"),
        ({"events": ["order.paid", "order.paid"]}, "events"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "ftp://127.0.0.1/hooks"}, "url"),
        ({"url": "http://127.0.0.1/" + "a" * 2000}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "http:///no-host"}, "url"),
        ({"url": "http://[::1/hooks"}, "url"),
        ({"url": "http://127.0.0.1:99999/hooks"}, "url"),
        ({"secret": "whsec_mine"}, "secret"),
    ],
    ids=[
        "unknown-event",
        "no-event",
        "repeated-event",
        "file",
        "ftp",
        "too-long",
        "no-scheme",
        "no-host",
        "bad-ipv6",
        "bad-port",
        "own-secret",
    ],
)
def test_bad_input_is_422_and_changes_nothing(client, auth, query, payload, field):
    assert_problem(create(client, auth, **payload), 422, field)
    assert query(lambda s: s.scalars(select(WebhookSubscription)).all()) == []


@pytest.mark.parametrize("body", [[], "order.created", 7, None], ids=repr)
def test_a_body_that_is_not_an_object_is_422(client, auth, query, body):
    response = client.post("/api/admin/webhooks", json=body, headers=auth.admin)
    assert_problem(response, 422)
    assert query(lambda s: s.scalars(select(WebhookSubscription)).all()) == []


def test_a_second_subscription_to_the_same_url_is_422(client, auth, query):
    assert create(client, auth).status_code == 201
    assert_problem(create(client, auth, events=["order.paid"]), 422, "url")
    other = create(client, auth, url="http://127.0.0.1:9/other").get_json()
    path = f"/api/admin/webhooks/{other['id']}"
    assert_problem(client.patch(path, json={"url": URL}, headers=auth.admin), 422, "url")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://localhost:8080/hooks",
        "http://10.0.0.1/hooks",
        "http://192.168.1.20/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hooks",
        "http://[::ffff:10.0.0.1]/hooks",
        "http://0.0.0.0/hooks",
        "https://240.0.0.1/hooks",
    ],
)
def test_the_guard_refuses_internal_destinations(make_app, auth, url):
    """Decided from the resolved address: nothing is contacted."""
    client = make_app(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=False).test_client()
    assert_problem(create(client, auth, url=url), 422, "url")


def test_the_guard_allows_private_networks_when_told(client, auth):
    assert create(client, auth, url="http://10.0.0.1/hooks").status_code == 201


@pytest.mark.parametrize("who", ["anonymous", "customer"])
def test_only_admins_manage_webhooks(client, auth, who):
    headers = {} if who == "anonymous" else auth.customer
    response = client.post("/api/admin/webhooks", json={"url": URL, "events": []}, headers=headers)
    assert_problem(response, 401 if who == "anonymous" else 403)


def test_redelivering_an_unknown_delivery_is_404(client, auth):
    response = client.post("/api/admin/webhooks/deliveries/999/redeliver", headers=auth.admin)
    assert_problem(response, 404)
