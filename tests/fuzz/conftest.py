"""Schemathesis against the committed openapi.json, in-process through the WSGI app.

The document is the committed file (what frontends and Postman import); test_openapi.py
proves it is what the app serves. Budget: FUZZ_EXAMPLES per operation and role (default 30,
`make fuzz` raises it), with a fixed seed so a run is reproducible.
"""

import contextlib
import hashlib
import os
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from sqlalchemy import delete, select

from app.accounts.passwords import COMMON_PASSWORDS, MAX_LENGTH, MIN_LENGTH
from app.api.idempotency import HEADER, KEY_PATTERN
from app.cart.services import create_guest_cart
from app.platform.db import db, utcnow
from app.platform.models import Address, BuiltinRole, PasswordReset, ShippingMethod, User
from tests.factories import DEFAULT_PASSWORD, UserFactory

SPEC = Path(__file__).resolve().parents[2] / "openapi.json"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
SEED = int(os.environ.get("FUZZ_SEED", "20261125"))


class SessionApp:
    """A WSGI callable forwarding to the test session's app (bound later, by a fixture)."""

    app = None

    def __call__(self, environ, start_response):
        return SessionApp.app(environ, start_response)


def load_schema():
    """The committed document, with every request (the checks' probes too) sent in-process."""
    loaded = schemathesis.openapi.from_path(
        SPEC,
        config=schemathesis.Config.from_dict(
            {
                "seed": SEED,
                # Anonymous means no Authorization header at all, not a made-up one.
                "generation": {"with-security-parameters": False},
            }
        ),
    )
    loaded.app = SessionApp()
    return loaded


schema = load_schema()

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _sent_reset_token() -> str:
    token = uuid.uuid4().hex
    with SessionApp.app.app_context():
        user = db.session.scalar(select(User).where(User.username == "fuzz-reset"))
        if user is None:
            user = UserFactory(username="fuzz-reset")
        db.session.add(
            PasswordReset(
                user_id=user.id,
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                expires_at=utcnow() + timedelta(minutes=30),
            )
        )
        db.session.commit()
    return token


def respect_server_state(case) -> None:
    """Rules that depend on server state, which JSON Schema cannot say, applied to positive
    (schema-valid) examples, so "valid data is accepted" keeps its meaning:
    - a valid Idempotency-Key is made unique per example (reusing one with another body is
      the documented 422, tests/test_idempotency.py);
    - `current_password` is the caller's real one (a wrong one is the documented 422);
    - a new password that is common or repeats another field is replaced by one that passes
      the policy (tests/test_passwords.py covers the refusals);
    - a category reference (`parent_id`, `category_id`) is null: whether the id exists, or
      would put a category below itself, is the documented 422 (tests/test_categories.py);
    - `min_price` above `max_price` is swapped (the 422 for it: tests/test_catalog.py);
    - a webhook `url` is made unique per example (a second subscription to one URL is the
      documented 422, tests/test_webhooks.py);
    - a password-reset `token` is one the server sent (to a user of its own, so no caller's
      login ends); a wrong one is the documented 422 (tests/test_password_reset.py);
    - checkout ships to an address given in full with method 1 (the shop's, shipping
      everywhere), or is picked up, and names no code: an address not in the caller's book,
      an unknown method or code is the documented 422 (tests/test_checkout.py);
    - a discount `code` is unique per example, a value stays within 100 (a percentage), and
      the validity window is left open; a tax rate's region is unique per example (a second
      code or rate for the same key, a percentage over 100 and a window that ends before it
      starts are documented 422s: tests/test_discounts.py, tests/test_tax_rates.py);
    - a new address finds room in the book (a full one is the documented 422);
    - a merged `cart_token` is a live guest cart's (an unknown one is the documented 422);
    - the roles given to a user are built-in ones (an unknown name is the documented 422,
      tests/test_staff.py)."""
    if case.headers and KEY_PATTERN.fullmatch(case.headers.get(HEADER, "")):
        case.headers[HEADER] = uuid.uuid4().hex
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    body = case.body if isinstance(case.body, dict) and not negative else {}
    for field in ("parent_id", "category_id"):
        if isinstance(body.get(field), int):
            body[field] = None
    query = case.query if isinstance(case.query, dict) and not negative else {}
    low, high = query.get("min_price"), query.get("max_price")
    with contextlib.suppress(TypeError, ValueError, ArithmeticError):
        if low is not None and high is not None and Decimal(str(low)) > Decimal(str(high)):
            query["min_price"], query["max_price"] = high, low
    if isinstance(body.get("token"), str) and "new_password" in body:
        body["token"] = _sent_reset_token()
    if isinstance(body.get("url"), str):
        body["url"] = f"http://127.0.0.1:9/fuzzed/{uuid.uuid4().hex}"
    _checkout_state(case, body)
    if isinstance(body.get("current_password"), str):
        body["current_password"] = DEFAULT_PASSWORD
    for field in ("password", "new_password"):
        password = body.get(field)
        if isinstance(password, str) and MIN_LENGTH <= len(password) <= MAX_LENGTH:
            others = {str(value).lower() for key, value in body.items() if key != field}
            if password.lower() in COMMON_PASSWORDS | others:
                body[field] = f"Fuzzed-pass-{uuid.uuid4().hex[:8]}"


CHECKOUT_PATHS = {"/api/orders", "/api/checkout/preview"}
BUILTIN = [role.value for role in BuiltinRole]
SHOP_METHOD_ID = 1
ADDRESS = {
    "name": "Fuzz",
    "line1": "1 Main St",
    "city": "Austin",
    "postal_code": "73301",
    "country": "US",
}


def _checkout_state(case, body: dict) -> None:
    if case.path in CHECKOUT_PATHS and case.method.upper() == "POST":
        body.pop("shipping_address_id", None)
        body.pop("discount_code", None)
        if "shipping_address" in body or "shipping_method_id" in body:
            body.setdefault("shipping_address", ADDRESS)
            body["shipping_method_id"] = SHOP_METHOD_ID
    elif case.path.startswith("/api/admin/discounts"):
        if isinstance(body.get("code"), str):
            body["code"] = f"F{uuid.uuid4().hex}"
        with contextlib.suppress(TypeError, ValueError, ArithmeticError):
            if "value" in body and Decimal(str(body["value"])) > 100:
                body["value"] = "50"
        for field in ("starts_at", "ends_at"):
            if field in body:
                body[field] = None
    elif case.path.startswith("/api/admin/tax-rates"):
        if "country" in body or "region" in body:
            body["region"] = f"fuzz-{uuid.uuid4().hex}"
    elif case.path == "/api/admin/users/{user_id}/roles" and isinstance(body.get("roles"), list):
        body["roles"] = [BUILTIN[len(str(name)) % len(BUILTIN)] for name in body["roles"]]
    elif case.path == "/api/cart/merge" and isinstance(body.get("cart_token"), str):
        with SessionApp.app.app_context():
            body["cart_token"], _ = create_guest_cart()
    elif case.path == "/api/addresses" and case.method.upper() == "POST":
        with SessionApp.app.app_context():
            db.session.execute(delete(Address))
            db.session.commit()


@pytest.fixture(autouse=True)
def _bind_app(app):
    SessionApp.app = app


@pytest.fixture
def shop(app, make_product):
    """Something for the fuzzer to find: products 1-3 and shipping method 1 (ids restart
    with every test)."""
    for _ in range(3):
        make_product(stock=50)
    with app.app_context():
        db.session.add(ShippingMethod(name="Everywhere", price=Decimal("4.90"), countries=[]))
        db.session.commit()
