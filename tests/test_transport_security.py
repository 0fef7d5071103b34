"""Security headers, CORS allow-list, production settings, secrets kept out of logs, and the
cart's upper bounds."""

import ast
import logging
from pathlib import Path

import pytest

import app as app_package
from app import create_app
from app.cart.services import MAX_CART_LINES, MAX_LINE_QUANTITY
from app.platform.models import CartItem
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import assert_problem, count_rows

ORIGIN = "https://shop.example.com"


# --- headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/api/products", "/api/nope", "/api/docs"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in response.headers  # plain http


def test_authenticated_responses_are_not_stored_by_caches(client, auth):
    assert client.get("/api/cart", headers=auth.customer).headers["Cache-Control"] == "no-store"
    assert_problem(client.get("/api/cart", headers={"Authorization": "Bearer x"}), 401)
    assert (
        client.get("/api/cart", headers={"Authorization": "Bearer x"}).headers["Cache-Control"]
        == "no-store"
    )
    assert "no-store" not in client.get("/api/products").headers.get("Cache-Control", "")


def test_answers_carrying_a_credential_are_not_stored_by_caches(client, auth):
    """A new cart token, a token pair, and whatever a guest's cart token opens."""
    created = client.post("/api/carts")
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    guest = {"X-Cart-Token": created.get_json()["cart_token"]}
    assert client.get("/api/cart", headers=guest).headers["Cache-Control"] == "no-store"
    login = client.post(
        "/api/auth/login",
        json={"username": auth.customer_user.username, "password": DEFAULT_PASSWORD},
    )
    assert login.status_code == 200 and login.headers["Cache-Control"] == "no-store"


def test_hsts_over_https(client):
    response = client.get("/healthz", base_url="https://store.example.com")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


# --- CORS -------------------------------------------------------------------------------------


def test_no_cross_origin_access_by_default(client):
    response = client.get("/api/products", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_allowed_origin_gets_cors_headers_and_preflight(make_app):
    client = make_app(CORS_ORIGINS=[ORIGIN]).test_client()
    response = client.get("/api/products", headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Location" in response.headers["Access-Control-Expose-Headers"]
    preflight = client.options(
        "/api/cart",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= {
        h.strip() for h in allowed.split(",")
    }


def test_other_origins_stay_refused(make_app):
    client = make_app(CORS_ORIGINS=[ORIGIN]).test_client()
    response = client.get("/api/products", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("origin", [ORIGIN, "https://evil.example", None])
def test_cacheable_responses_vary_on_origin_when_cors_is_on(make_app, make_product, origin):
    """A shared cache must not hand a copy made for one origin (or none) to another."""
    product = make_product()
    client = make_app(CORS_ORIGINS=[ORIGIN]).test_client()
    headers = {"Origin": origin} if origin else {}
    for path in ("/api/products", f"/api/products/{product.id}", "/api/categories"):
        response = client.get(path, headers=headers)
        assert response.cache_control.public, path
        assert "Origin" in response.vary, path
        again = client.get(path, headers={**headers, "If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304
        assert "Origin" in again.vary


def test_no_vary_on_origin_without_cors(client):
    assert "Origin" not in client.get("/api/products").vary


def test_a_204_has_no_content_type_nor_body(client, auth, make_product):
    product = make_product()
    response = client.delete(f"/api/products/{product.id}", headers=auth.admin)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert "Content-Type" not in response.headers
    assert "Content-Length" not in response.headers


def test_cors_origins_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", f"{ORIGIN}, https://admin.example.com ,")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["CORS_ORIGINS"] == [ORIGIN, "https://admin.example.com"]


# --- production -------------------------------------------------------------------------------


def test_production_settings(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 40)
    app = create_app("production")
    assert app.debug is False
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["RATELIMIT_ENABLED"] is True
    assert app.config["PASSWORD_HASH_METHOD"] == "scrypt"


def test_production_500_shows_no_internals(monkeypatch, app):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 40)
    prod = create_app("production")

    @prod.get("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    response = prod.test_client().get("/boom")
    body = assert_problem(response, 500)
    assert "hunter2" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert body["detail"] == "An unexpected error occurred."


# --- logs -------------------------------------------------------------------------------------


def test_logs_hold_no_password_or_token(client, auth, caplog):
    user = auth.user("bob")
    caplog.set_level(logging.DEBUG)
    response = client.post(
        "/api/auth/login", json={"username": "bob", "password": DEFAULT_PASSWORD}
    )
    tokens = response.get_json()
    client.post("/api/auth/login", json={"username": "bob", "password": "wrong-password-1"})
    client.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    client.post("/api/auth/logout", headers=user.headers)

    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (
        DEFAULT_PASSWORD,
        "wrong-password-1",
        tokens["access_token"],
        tokens["refresh_token"],
        user.headers["Authorization"],
    ):
        assert secret not in logged


# --- cart bounds ------------------------------------------------------------------------------


def test_a_cart_holds_a_bounded_number_of_products(client, auth, make_product, query):
    products = [make_product(stock=5) for _ in range(MAX_CART_LINES + 1)]
    for product in products[:MAX_CART_LINES]:
        added = client.post("/api/cart", json={"product_id": product.id}, headers=auth.customer)
        assert added.status_code == 200
    response = client.post("/api/cart", json={"product_id": products[-1].id}, headers=auth.customer)
    body = assert_problem(response, 422, "product_id")
    assert str(MAX_CART_LINES) in body["errors"]["product_id"][0]
    assert count_rows(query, CartItem) == MAX_CART_LINES
    # More of a product already there is still fine.
    more = client.post("/api/cart", json={"product_id": products[0].id}, headers=auth.customer)
    assert more.status_code == 200


def test_a_cart_line_holds_a_bounded_quantity(client, auth, make_product, query):
    product = make_product(stock=MAX_LINE_QUANTITY * 2)
    line = {"product_id": product.id, "quantity": MAX_LINE_QUANTITY}
    assert client.post("/api/cart", json=line, headers=auth.customer).status_code == 200
    more = {"product_id": product.id, "quantity": 1}
    # Valid on its own, too many with what the line holds: a conflict, like a stock shortage.
    body = assert_problem(client.post("/api/cart", json=more, headers=auth.customer), 409)
    assert f"at most {MAX_LINE_QUANTITY} units" in body["detail"]
    too_many = {"quantity": MAX_LINE_QUANTITY + 1}
    response = client.put(f"/api/cart/{product.id}", json=too_many, headers=auth.customer)
    assert_problem(response, 422, "quantity")
    assert count_rows(query, CartItem) == 1


# --- outbound calls ---------------------------------------------------------------------------

HTTP_CLIENTS = {"requests", "urllib", "urllib3", "httpx", "aiohttp", "http.client", "socket"}
# The one way out: outgoing webhooks, sent by the worker (deliveries.py) through destinations.py,
# whose `post` connects only to the addresses its SSRF guard `vet` resolved and let through.
OUTBOUND_MODULES = {"outbox/destinations.py", "outbox/deliveries.py"}


def test_webhooks_are_sent_only_past_the_guard():
    """Every function of deliveries.py that posts has the guard vet the URL first."""
    package = Path(app_package.__file__).parent
    tree = ast.parse((package / "outbox" / "deliveries.py").read_text())
    posting = 0
    for function in (node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)):
        lines: dict[str, list[int]] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                lines.setdefault(name, []).append(node.lineno)
        if "post" in lines:
            posting += 1
            guard = lines.get("vet", [])
            assert guard and min(guard) < min(lines["post"]), function.name
    assert posting == 1


def test_the_app_makes_no_outbound_requests():
    """No server-side request forgery and no unsafe consumption of other APIs: app/ opens no
    connections of its own (the database and Redis go through their drivers), but for the
    webhook modules named above."""
    package = Path(app_package.__file__).parent
    for source in package.rglob("*.py"):
        if source.relative_to(package).as_posix() in OUTBOUND_MODULES:
            continue
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {node.module or ""}
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in HTTP_CLIENTS and name not in HTTP_CLIENTS, (
                    f"{source}: imports {name}"
                )
