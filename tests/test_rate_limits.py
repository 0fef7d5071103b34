"""Rate limits: login and sign-up per IP and per username, writes per user, 429 problem+json
with Retry-After, Redis storage shared by app instances, and the proxy setting that decides
which address counts. (tests/concurrency/ proves the Redis budget across gunicorn workers.)"""

import random
import uuid

import pytest
import redis

from app import create_app
from tests import helpers
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import assert_problem, redis_database_url

REDIS_URL = redis_database_url(0)


@pytest.fixture
def limited_app(make_app):
    """An app with limits on and small budgets: `limited_app(**settings)`."""

    def make(**settings):
        defaults = {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_LOGIN": "3 per minute",
            "RATELIMIT_REGISTER": "2 per minute",
            "RATELIMIT_WRITES": "4 per minute",
        }
        return make_app(**{**defaults, **settings})

    return make


def wrong_login(client, username, ip="10.0.0.1", **headers):
    """A login with a wrong password, from `ip`."""
    return helpers.login(
        client, username, "wrong-password", environ_base={"REMOTE_ADDR": ip}, headers=headers
    )


def register(client, username, ip="10.0.0.1"):
    body = {"username": username, "email": f"{username}@example.com", "password": "k9!vR2pw-x"}
    return client.post("/api/auth/register", json=body, environ_base={"REMOTE_ADDR": ip})


def assert_limited(response):
    body = assert_problem(response, 429)
    assert "Too many requests" in body["detail"]
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["X-RateLimit-Remaining"] == "0"


# --- login and sign-up ------------------------------------------------------------------------


def test_login_is_limited_per_username_across_addresses(limited_app, auth):
    auth.user("bob")
    client = limited_app().test_client()
    for n in range(3):
        assert wrong_login(client, "bob", ip=f"10.0.1.{n}").status_code == 401
    assert_limited(wrong_login(client, "BOB", ip="10.0.1.99"))  # same account, another address
    assert wrong_login(client, "carol", ip="10.0.1.99").status_code == 401


def test_login_is_limited_per_address_across_usernames(limited_app):
    client = limited_app().test_client()
    for n in range(3):
        assert wrong_login(client, f"user{n}", ip="10.0.2.1").status_code == 401
    assert_limited(wrong_login(client, "someone-else", ip="10.0.2.1"))
    assert wrong_login(client, "someone-else", ip="10.0.2.2").status_code == 401


def test_a_limited_login_does_not_check_the_password(limited_app, auth):
    auth.user("bob")
    client = limited_app().test_client()
    for _ in range(3):
        wrong_login(client, "bob")
    right = client.post(
        "/api/auth/login",
        json={"username": "bob", "password": DEFAULT_PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.3.1"},
    )
    assert_limited(right)  # even the right password: no oracle while limited


def test_sign_up_is_limited_per_address(limited_app, query):
    client = limited_app().test_client()
    assert register(client, "first").status_code == 201
    assert register(client, "second").status_code == 201
    assert_limited(register(client, "third"))
    assert register(client, "third", ip="10.9.9.9").status_code == 201


def test_limits_can_be_tuned_from_the_environment(monkeypatch, limited_app):
    monkeypatch.setenv("RATELIMIT_LOGIN", "1 per minute")
    monkeypatch.setenv("RATELIMIT_ENABLED", "true")
    monkeypatch.setenv("RATELIMIT_KEY_PREFIX", "shop-eu")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["RATELIMIT_LOGIN"] == "1 per minute"
    assert app.config["RATELIMIT_ENABLED"] is True
    assert app.config["RATELIMIT_KEY_PREFIX"] == "shop-eu"


# --- writes -----------------------------------------------------------------------------------


def test_writes_are_limited_per_user(limited_app, auth, make_product):
    product = make_product(stock=100)
    client = limited_app().test_client()
    add = {"product_id": product.id, "quantity": 1}
    for _ in range(4):
        assert client.post("/api/cart", json=add, headers=auth.customer).status_code == 200
    assert_limited(client.post("/api/cart", json=add, headers=auth.customer))
    # Reads go on, and another user has a budget of its own.
    assert client.get("/api/cart", headers=auth.customer).status_code == 200
    assert client.post("/api/cart", json=add, headers=auth.admin).status_code == 200


def test_a_limited_write_changes_nothing(limited_app, auth, make_product, query):
    product = make_product(stock=100)
    client = limited_app().test_client()
    add = {"product_id": product.id, "quantity": 1}
    for _ in range(4):
        client.post("/api/cart", json=add, headers=auth.customer)
    before = client.get("/api/cart", headers=auth.customer).get_json()
    assert_limited(client.post("/api/orders", headers=auth.customer))
    assert client.get("/api/cart", headers=auth.customer).get_json() == before


def test_limits_are_off_when_disabled(limited_app, auth):
    auth.user("bob")
    client = limited_app(RATELIMIT_ENABLED=False).test_client()
    assert all(wrong_login(client, "bob").status_code == 401 for _ in range(10))


# --- storage ----------------------------------------------------------------------------------


def test_redis_storage_is_one_budget_for_every_app_instance(limited_app):
    redis.Redis.from_url(REDIS_URL).ping()  # the machine's Redis is part of the test set-up
    # Redis outlives the test run: a name and an address of this run only, for a fresh budget.
    name, ip = (
        f"dave-{uuid.uuid4().hex[:8]}",
        f"10.{random.randrange(256)}.{random.randrange(256)}.7",
    )
    first = limited_app(RATELIMIT_STORAGE_URI=REDIS_URL)
    second = limited_app(RATELIMIT_STORAGE_URI=REDIS_URL)
    for client in (first.test_client(), second.test_client(), first.test_client()):
        assert wrong_login(client, name, ip=ip).status_code == 401
    assert_limited(wrong_login(second.test_client(), name, ip=ip))


def test_redis_url_selects_redis_storage(monkeypatch):
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["RATELIMIT_STORAGE_URI"] == REDIS_URL


# --- which address counts -----------------------------------------------------------------------


def test_forwarded_for_is_ignored_without_trusted_proxies(limited_app):
    client = limited_app().test_client()
    for n in range(3):
        wrong_login(client, f"user{n}", ip="10.0.5.1", **{"X-Forwarded-For": f"203.0.113.{n}"})
    # Spoofing the header does not buy a new budget.
    assert_limited(
        wrong_login(client, "other", ip="10.0.5.1", **{"X-Forwarded-For": "198.51.100.7"})
    )


def test_forwarded_for_counts_behind_one_trusted_proxy(limited_app):
    client = limited_app(TRUSTED_PROXIES=1).test_client()
    proxy = "10.0.6.1"
    for n in range(3):
        wrong_login(client, f"user{n}", ip=proxy, **{"X-Forwarded-For": "203.0.113.5"})
    assert_limited(wrong_login(client, "other", ip=proxy, **{"X-Forwarded-For": "203.0.113.5"}))
    # Another client behind the same proxy has its own budget.
    assert (
        wrong_login(client, "other", ip=proxy, **{"X-Forwarded-For": "203.0.113.6"}).status_code
        == 401
    )


# --- one budget per account (issue 12) ----------------------------------------------------------


def test_one_login_budget_per_account_whatever_name_is_typed(limited_app, auth):
    auth.user("bob")  # bob@example.com
    client = limited_app().test_client()
    typed = ["bob", "BOB@Example.com", "\uff42\uff4f\uff42"]  # the last one fullwidth
    for n, name in enumerate(typed):
        assert wrong_login(client, name, ip=f"10.0.7.{n}").status_code == 401
    assert_limited(wrong_login(client, "bob@example.com", ip="10.0.7.99"))
    assert wrong_login(client, "carol", ip="10.0.7.99").status_code == 401


def test_unknown_names_share_a_budget_by_their_normalised_form(limited_app):
    client = limited_app().test_client()
    for n, name in enumerate(["ghost", "GHOST", "\uff47host"]):
        assert wrong_login(client, name, ip=f"10.0.8.{n}").status_code == 401
    assert_limited(wrong_login(client, " Ghost ", ip="10.0.8.99"))


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/auth/login", {"password": "wrong-password"}),
        ("/api/auth/register", {"email": "x@example.com", "password": "k9!vR2pw-x"}),
    ],
    ids=["login", "register"],
)
def test_a_request_without_a_username_counts_once_against_the_address(limited_app, path, body):
    client = limited_app(RATELIMIT_LOGIN="3 per minute", RATELIMIT_REGISTER="3 per minute")
    client = client.test_client()
    for _ in range(3):
        response = client.post(path, json=body, environ_base={"REMOTE_ADDR": "10.0.9.1"})
        assert_problem(response, 422, "username")
    assert_limited(client.post(path, json=body, environ_base={"REMOTE_ADDR": "10.0.9.1"}))


# --- malformed bodies and the limiter's storage (issue 12) --------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000
MALFORMED_BODIES = {
    "deep-nesting": DEEP.encode(),
    "deep-username": ('{"username": ' + DEEP + ', "password": "x"}').encode(),
    "lone-surrogate": b'{"username": "\\ud800x", "password": "wrong-password"}',
    "surrogate-email": b'{"username": "a@\\udbe2.com", "password": "wrong-password"}',
    "not-an-object": b'["bob", "wrong-password"]',
    "username-not-a-string": b'{"username": {"$ne": null}, "password": "x"}',
    "huge-username": b'{"username": "' + b"x" * 900_000 + b'", "password": "x"}',
    "broken-json": b'{"username": "bob", ',
    "not-utf-8": '{"username": "b\xf6b", "password": "x"}'.encode("latin-1"),
    "empty": b"",
}


@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_a_malformed_body_is_a_4xx_and_keeps_the_limiter_on_its_storage(limited_app, body):
    from app.api.extensions import limiter

    app = limited_app(
        RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}"
    )
    client = app.test_client()
    for path in ("/api/auth/login", "/api/auth/register"):
        response = client.post(path, data=body, content_type="application/json")
        assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
        assert response.headers["Content-Type"] == "application/problem+json"
        # Flask-Limiter takes an exception in a key function for a storage outage: it would
        # then count in this worker's memory, off the budget every worker shares.
        assert limiter.limiter.storage is limiter.storage


def test_key_functions_never_raise(app, monkeypatch):
    from app.api import limits

    def broken(_name):
        raise RuntimeError("database down")

    monkeypatch.setattr(limits, "find_user_id", broken)
    with app.test_request_context(
        "/api/auth/login", method="POST", json={"username": "bob"}, headers={"Authorization": "x"}
    ):
        assert limits.account_in_body().startswith("acct:unresolved:")
        assert limits.user_or_ip().startswith("ip:")


def test_every_limit_uses_a_key_function_that_never_raises(app):
    from app.api.extensions import limiter

    # Limit groups as registered by the decorators (Flask-Limiter keeps no public list).
    manager = limiter.limit_manager
    groups = [*manager._decorated_limits.values(), *manager._blueprint_limits.values()]
    limits = [limit for group in groups for limit in group]
    assert limits
    for limit in limits:
        if limit.key_function is not None:  # else the Limiter's default, the remote address
            assert getattr(limit.key_function, "never_raises", False), limit


# --- headers ------------------------------------------------------------------------------------


def test_retry_after_only_on_refusals(limited_app, auth, make_product):
    product = make_product(stock=100)
    client = limited_app().test_client()
    add = {"product_id": product.id, "quantity": 1}
    accepted = client.post("/api/cart", json=add, headers=auth.customer)
    assert accepted.status_code == 200
    # The budget headers stay on every limited response; "retry after" only on a refusal.
    assert accepted.headers["X-RateLimit-Remaining"] == "3"
    assert "Retry-After" not in accepted.headers
    assert "Retry-After" not in client.delete("/api/cart", headers=auth.customer).headers
    assert "Retry-After" not in wrong_login(client, "nobody").headers  # a 401
