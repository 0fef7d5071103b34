"""Request ids, JSON request logs, Prometheus metrics and the readiness probe's timeout.

Metrics across gunicorn workers are checked on the real server in
tests/concurrency/test_entrypoint.py.
"""

import json
import re
import socket
import time
from pathlib import Path

import flask_migrate
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select

from app.platform.db import utcnow
from app.platform.models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from tests.helpers import assert_problem, sample

MIGRATIONS = ScriptDirectory(str(Path(__file__).resolve().parents[1] / "migrations"))
HEAD = MIGRATIONS.get_current_head()
PREVIOUS = MIGRATIONS.get_revision(HEAD).down_revision  # the one before the newest

GENERATED_ID = re.compile(r"[0-9a-f]{32}")
METRICS_TOKEN = "m" * 40


def log_lines(capsys) -> list[dict]:
    """The JSON lines written to stdout since the last call."""
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def request_lines(capsys) -> list[dict]:
    return [line for line in log_lines(capsys) if line["logger"] == "app.request"]


# --- request id ----------------------------------------------------------------------------


def test_request_id_from_the_client_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.2"})
    assert response.headers["X-Request-ID"] == "lb-7f3a.2"


@pytest.mark.parametrize("sent", [None, "", "has space", "x" * 129, 'quote"s', "naïve"])
def test_request_id_is_generated_when_missing_or_unsafe(client, sent):
    headers = {} if sent is None else {"X-Request-ID": sent}
    response = client.get("/healthz", headers=headers)
    assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])


def test_generated_request_ids_differ(client):
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(5)}
    assert len(ids) == 5


def test_errors_carry_the_request_id_too(client):
    response = client.get("/api/nowhere", headers={"X-Request-ID": "req-404"})
    assert_problem(response, 404)
    assert response.headers["X-Request-ID"] == "req-404"


# --- request log ---------------------------------------------------------------------------


def test_one_json_line_per_request(client, capsys):
    capsys.readouterr()
    client.get("/api/products?page=1", headers={"X-Request-ID": "abc-123"})
    (line,) = request_lines(capsys)
    assert line["method"] == "GET"
    assert line["path"] == "/api/products"  # no query string: it may carry secrets
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
    assert line["request_id"] == "abc-123"
    assert line["user_id"] is None
    assert line["level"] == "INFO"
    assert line["time"].endswith("+00:00")


def test_request_line_names_the_authenticated_user(client, auth, capsys):
    capsys.readouterr()
    client.get("/api/cart", headers=auth.customer)
    (line,) = request_lines(capsys)
    assert line["user_id"] == str(auth.customer_user.id)
    assert line["status"] == 200


def test_failed_requests_are_logged_with_their_status(client, auth, capsys):
    capsys.readouterr()
    client.get("/api/admin/orders", headers=auth.customer)
    client.post("/api/products", json={"name": "x"}, headers=auth.admin)
    statuses = [(line["path"], line["status"]) for line in request_lines(capsys)]
    assert statuses == [("/api/admin/orders", 403), ("/api/products", 422)]


def test_passwords_and_tokens_never_reach_the_logs(client, capsys):
    password = "Unique-pass-phrase-93!"
    credentials = {"username": "logged", "password": password}
    client.post("/api/auth/register", json={**credentials, "email": "logged@example.com"})
    tokens = client.post("/api/auth/login", json=credentials).get_json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    client.get("/api/cart", headers=bearer)
    client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    client.post("/api/auth/login", json={**credentials, "password": password + "-wrong"})
    out = capsys.readouterr().out
    assert "/api/auth/login" in out
    for secret in (password, tokens["access_token"], tokens["refresh_token"]):
        assert secret not in out
        assert secret.split(".")[-1] not in out  # not even a token's signature


@pytest.fixture
def broken_listing(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("listing exploded")

    monkeypatch.setattr("app.catalog.products.list_products", boom)


def test_unexpected_error_logs_its_traceback_with_the_request_id(client, broken_listing, capsys):
    capsys.readouterr()
    response = client.get("/api/products", headers={"X-Request-ID": "trace-me"})
    assert_problem(response, 500)
    lines = log_lines(capsys)
    (error,) = [line for line in lines if line["level"] == "ERROR"]
    assert error["request_id"] == "trace-me"
    assert "Traceback" in error["exc_info"]
    assert "RuntimeError: listing exploded" in error["exc_info"]
    (request_line,) = [line for line in lines if line["logger"] == "app.request"]
    assert (request_line["status"], request_line["request_id"]) == (500, "trace-me")


# --- metrics -------------------------------------------------------------------------------


def test_metrics_are_off_by_default(client):
    assert_problem(client.get("/metrics"), 404)


def test_metrics_count_requests_per_route_and_status(make_app, make_product):
    client = make_app(METRICS_ENABLED=True).test_client()
    product = make_product()
    for _ in range(3):
        client.get(f"/api/products/{product.id}")
    client.get("/api/products/999999")
    text = client.get("/metrics").get_data(as_text=True)
    route = "/api/products/<int:product_id>"
    assert sample(text, "flask_http_request_total", method="GET", status="200") == 3
    assert sample(text, "flask_http_request_total", method="GET", status="404") == 1
    count = "flask_http_request_duration_seconds_count"
    assert sample(text, count, method="GET", status="200", url_rule=route) == 3
    assert sample(text, count, method="GET", status="404", url_rule=route) == 1
    bucket = "flask_http_request_duration_seconds_bucket"
    assert sample(text, bucket, le="+Inf", method="GET", status="200", url_rule=route) == 3


def test_metrics_count_orders_and_checkout_conflicts(make_app, make_product, auth):
    client = make_app(METRICS_ENABLED=True).test_client()
    before = client.get("/metrics").get_data(as_text=True)
    product = make_product(stock=1)
    line = {"product_id": product.id, "quantity": 1}

    other = auth.user("other").headers
    for shopper in (auth.customer, other):
        assert client.post("/api/cart", json=line, headers=shopper).status_code == 200
    assert client.post("/api/orders", headers=auth.customer).status_code == 201
    assert client.post("/api/orders", headers=other).status_code == 409  # out of stock
    assert client.post("/api/orders", headers=auth.customer).status_code == 409  # empty cart

    after = client.get("/metrics").get_data(as_text=True)

    def grew(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("store_orders_placed_total") == 1
    assert grew("store_checkout_conflicts_total", reason="EmptyCart") == 1
    assert grew("store_checkout_conflicts_total", reason="OutOfStock") == 1


def test_a_checkout_rolled_back_by_its_idempotency_key_counts_nothing(
    make_app, make_product, auth, monkeypatch
):
    """The order is counted after the commit: when storing the response for the
    Idempotency-Key fails, the order, its stock and its count are all undone."""
    client = make_app(METRICS_ENABLED=True).test_client()
    product = make_product(stock=3)
    line = {"product_id": product.id, "quantity": 2}
    assert client.post("/api/cart", json=line, headers=auth.customer).status_code == 200
    before = client.get("/metrics").get_data(as_text=True)

    def storage_fails(*_args):
        raise RuntimeError("the idempotency row could not be written")

    monkeypatch.setattr("app.api.idempotency._store", storage_fails)
    headers = {**auth.customer, "Idempotency-Key": "rolled-back-checkout"}
    assert_problem(client.post("/api/orders", headers=headers), 500)

    after = client.get("/metrics").get_data(as_text=True)
    assert sample(after, "store_orders_placed_total") == sample(before, "store_orders_placed_total")
    assert client.get(f"/api/products/{product.id}").get_json()["stock"] == 3
    assert client.get("/api/orders/history", headers=auth.customer).get_json()["items"] == []
    assert client.get("/api/cart", headers=auth.customer).get_json()["items"][0]["quantity"] == 2


def test_metrics_token_is_required_when_set(make_app):
    client = make_app(METRICS_TOKEN=METRICS_TOKEN).test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
        response = client.get("/metrics", headers=headers)
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "flask_http_request_total" in response.get_data(as_text=True)


# --- readiness -----------------------------------------------------------------------------


@pytest.fixture
def silent_server():
    """A port that accepts TCP connections and never answers: a database that hangs."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


def test_readyz_gives_up_on_a_database_that_hangs(make_app, silent_server):
    app = make_app(
        SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://store@127.0.0.1:{silent_server}/store",
        DATABASE_CONNECT_TIMEOUT=1,
    )
    started = time.monotonic()
    response = app.test_client().get("/readyz")
    assert time.monotonic() - started < 5
    assert_problem(response, 503)
    assert response.headers["Retry-After"] == "5"


def test_readyz_is_503_when_the_database_is_not_migrated(make_app, tmp_path, caplog):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.db'}")

    body = assert_problem(app.test_client().get("/readyz"), 503)

    assert body["detail"] == (
        f"The database is not migrated to this version (no migration, not {HEAD}): "
        "run `flask --app app db upgrade`."
    )
    assert "Not ready: no migration applied" in caplog.text


def test_readyz_names_the_migration_a_database_is_behind_at(make_app, tmp_path, caplog):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'behind.db'}")
    with app.app_context():
        flask_migrate.upgrade(revision=PREVIOUS)

    body = assert_problem(app.test_client().get("/readyz"), 503)

    assert f"({PREVIOUS}, not {HEAD})" in body["detail"]
    assert f"Not ready: the schema is at {PREVIOUS}, the code needs {HEAD}" in caplog.text


def test_readyz_tells_an_unreachable_database_apart_and_logs_why(make_app, tmp_path, caplog):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}")

    body = assert_problem(app.test_client().get("/readyz"), 503)

    assert body["detail"] == "The database is not reachable."
    assert "Not ready: the database is not reachable: unable to open database file" in caplog.text


def test_metrics_show_the_outbox_and_the_webhook_attempts(make_app, auth, make_product, query):
    """Read from the database at each scrape: what the worker process did shows here."""
    client = make_app(METRICS_ENABLED=True).test_client()
    product = make_product(stock=3)
    line = {"product_id": product.id, "quantity": 1}
    assert client.post("/api/cart", json=line, headers=auth.customer).status_code == 200
    assert client.post("/api/orders", headers=auth.customer).status_code == 201

    metrics = client.get("/metrics").get_data(as_text=True)
    assert sample(metrics, "store_outbox_backlog") == 1  # the order.created not dispatched
    assert sample(metrics, "store_outbox_oldest_due_age_seconds") >= 0

    def log_attempts(session):
        hook = WebhookSubscription(url="http://127.0.0.1:9/h", events=["order.created"], secret="s")
        session.add(hook)
        session.flush()
        event = session.scalars(select(Event)).one()
        event.dispatched_at = utcnow()
        delivery = WebhookDelivery(event_id=event.id, subscription_id=hook.id, status="delivered")
        session.add(delivery)
        session.flush()
        for number, (status_code, error) in enumerate(
            [(None, "Timeout"), (500, None), (200, None)]
        ):
            session.add(
                WebhookAttempt(
                    delivery_id=delivery.id,
                    subscription_id=hook.id,
                    event_id=event.id,
                    attempt=number,
                    status_code=status_code,
                    error=error,
                    duration_ms=5,
                )
            )
        session.commit()

    query(log_attempts)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert sample(metrics, "store_outbox_backlog") == 0
    assert sample(metrics, "store_outbox_oldest_due_age_seconds") == 0
    for outcome in ("delivered", "refused", "failed"):
        assert sample(metrics, "store_webhook_attempts_total", outcome=outcome) == 1
