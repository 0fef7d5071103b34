"""The document's examples are real: each is valid against its own schema, and each request
built only from them (path, query, headers and body, as Postman and Swagger UI build it) is
accepted by the server, on the store that `make run` seeds.

The store for each operation: the seed catalog and checkout settings, the customer of the
examples (registered and logged in with the example bodies themselves) holding a cart line of
product 1, a pending order 1 and address 1, an admin (user 1; the customer is user 2), the
custom role content_editor, webhook subscription 1 with its
delivery 1 of order 1's event, a guest cart of the example token, and a reset token (the
example's) sent to the customer. Staff operations (`x-permission`) are called by the admin,
and again by that customer: 403.
"""

import hashlib
import json
from datetime import timedelta

import pytest
import stripe
from openapi_schema_validator import OAS30Validator
from sqlalchemy import select

from app.api.auth.schemas import RESET_TOKEN_EXAMPLE
from app.api.cart.schemas import CART_TOKEN_EXAMPLE
from app.platform.db import db, utcnow
from app.platform.models import GuestCart, PasswordReset, User, WebhookDelivery
from seed_data import seed_catalog, seed_checkout, seed_roles
from tests.test_openapi import COMMITTED_SPEC, METHODS, operations, resolve

CUSTOMER = "customer"
ADMIN = "admin"


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/api/openapi.json").get_json()


def example_of(spec, schema):
    """The value a client builds from the document's examples (properties one by one)."""
    schema = resolve(spec, schema)
    if "example" in schema:
        return schema["example"]
    if "allOf" in schema:
        return example_of(spec, schema["allOf"][0])
    if schema.get("type") == "array":
        return [example_of(spec, schema["items"])]
    if "properties" in schema:
        return {name: example_of(spec, prop) for name, prop in schema["properties"].items()}
    raise AssertionError(f"no example for {schema}")


def parameters_of(spec, path, method):
    item = spec["paths"][path]
    return [
        resolve(spec, p) for p in item.get("parameters", []) + item[method].get("parameters", [])
    ]


def request_from_examples(spec, path, method) -> dict:
    url, query, headers = path, {}, {}
    for parameter in parameters_of(spec, path, method):
        value = parameter.get("example", parameter["schema"].get("example"))
        if value is None:
            continue  # no example (If-None-Match): clients leave it out
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", str(value))
        elif parameter["in"] == "query":
            query[parameter["name"]] = str(value).lower() if isinstance(value, bool) else value
        elif parameter["in"] == "header":
            headers[parameter["name"]] = value
    request = {"path": url, "method": method.upper(), "query_string": query, "headers": headers}
    body = spec["paths"][path][method].get("requestBody")
    if body:
        # The body's own example when it has one (as Postman takes it), else the fields'.
        content = body["content"]["application/json"]
        request["json"] = content.get("example") or example_of(spec, content["schema"])
    return request


def caller_of(operation) -> str | None:
    """Who may call it: nobody signs in for public reads (an admin option aside)."""
    security = operation.get("security")
    if not security or {} in security:
        return None
    return ADMIN if "x-permission" in operation else CUSTOMER


def all_operations():
    """From the committed document, which test_openapi.py proves is the served one."""
    spec = json.loads(COMMITTED_SPEC.read_text())
    return [(path, method) for path, method, _ in operations(spec)]


@pytest.fixture
def store(app, client, auth, spec):
    """The seeded store, and the example customer's tokens (once registered)."""

    def build(*, with_customer: bool = True) -> dict:
        with app.app_context():
            seed_catalog(12)
            seed_checkout()
            seed_roles()
            db.session.commit()
        tokens = {ADMIN: auth.admin_user.headers}
        if not with_customer:
            return tokens
        register = request_from_examples(spec, "/api/auth/register", "post")
        assert client.open(**register).status_code == 201
        login = client.open(**request_from_examples(spec, "/api/auth/login", "post"))
        assert login.status_code == 200, login.get_json()
        pair = login.get_json()
        tokens[CUSTOMER] = {"Authorization": f"Bearer {pair['access_token']}"}
        tokens["refresh"] = {"Authorization": f"Bearer {pair['refresh_token']}"}
        for _ in range(2):  # order 1, then a cart line of product 1 for the cart operations
            added = client.post(
                "/api/cart", json={"product_id": 1, "quantity": 2}, headers=tokens[CUSTOMER]
            )
            assert added.status_code == 200, added.get_json()
            if "order" not in tokens:
                assert client.post("/api/orders", headers=tokens[CUSTOMER]).status_code == 201
                tokens["order"] = True
        # Address 1 of the customer's book, the one the checkout examples ship to.
        address = request_from_examples(spec, "/api/addresses", "post")
        address["headers"] |= tokens[CUSTOMER]
        assert client.open(**address).status_code == 201
        # Webhook subscription 1 (at another URL than the example's), and delivery 1: order
        # 1's order.created for it, as the worker records it.
        hook = {"url": "http://127.0.0.1:9/hooks", "events": ["order.created"]}
        made = client.post("/api/admin/webhooks", json=hook, headers=tokens[ADMIN])
        assert made.status_code == 201, made.get_json()
        with app.app_context():
            db.session.add(WebhookDelivery(event_id=1, subscription_id=made.get_json()["id"]))
            # The reset email's token of the example body, sent to the example customer.
            customer = db.session.scalar(select(User).where(User.username == "alice"))
            # The guest cart of the examples' token, for the merge.
            db.session.add(
                GuestCart(
                    token_hash=hashlib.sha256(CART_TOKEN_EXAMPLE.encode()).hexdigest(),
                    expires_at=utcnow() + timedelta(days=1),
                )
            )
            db.session.add(
                PasswordReset(
                    user_id=customer.id,
                    token_hash=hashlib.sha256(RESET_TOKEN_EXAMPLE.encode()).hexdigest(),
                    expires_at=utcnow() + timedelta(minutes=30),
                )
            )
            db.session.commit()
        return tokens

    return build


# Operations a payment provider calls, signing the body: the example, signed with the
# store's webhook secret, as the provider would send it.
SIGNED_BY_STRIPE = {("/api/payments/stripe/webhook", "post")}
WEBHOOK_SECRET = "whsec_examples"


def test_a_provider_sends_the_example_event(spec, make_app):
    for path, method in SIGNED_BY_STRIPE:
        request = request_from_examples(spec, path, method)
        payload = json.dumps(request.pop("json"))
        request["headers"]["Stripe-Signature"] = stripe.WebhookSignature.generate_signature_header(
            payload, WEBHOOK_SECRET
        )
        stripe_app = make_app(
            PAYMENT_PROVIDER="stripe",
            STRIPE_SECRET_KEY="sk_test_examples",
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        )
        response = stripe_app.test_client().open(
            **request, data=payload, content_type="application/json"
        )
        assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    ("path", "method"), [op for op in all_operations() if op not in SIGNED_BY_STRIPE]
)
def test_the_request_built_from_the_examples_is_accepted(spec, client, store, path, method):
    operation = spec["paths"][path][method]
    tokens = store(with_customer=(path, method) != ("/api/auth/register", "post"))
    request = request_from_examples(spec, path, method)
    caller = caller_of(operation)
    if (path, method) == ("/api/auth/refresh", "post"):
        caller = "refresh"
    if caller == ADMIN:  # first the customer, whose refusal changes nothing
        refused = client.open(**request | {"headers": request["headers"] | tokens[CUSTOMER]})
        assert refused.status_code == 403, (request, refused.get_json())
    if caller:
        request["headers"] = {**request["headers"], **tokens[caller]}

    response = client.open(**request)

    assert 200 <= response.status_code < 300, (request, response.get_json())


def examples_with_schemas(spec, node, where=""):
    """(where, example, schema) for every example that sits beside its schema."""
    if isinstance(node, dict):
        if "example" in node and "schema" in node:  # a parameter or a media type
            yield where, node["example"], node["schema"]
        elif "example" in node and ({"type", "oneOf", "allOf"} & set(node)):
            yield where, node["example"], {k: v for k, v in node.items() if k != "example"}
        for key, value in node.items():
            yield from examples_with_schemas(spec, value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from examples_with_schemas(spec, value, f"{where}/{i}")


def test_every_example_is_valid_against_its_own_schema(spec):
    found = list(
        examples_with_schemas(spec, {"paths": spec["paths"], "components": spec["components"]})
    )
    assert len(found) > 100
    for where, example, schema in found:
        validator = OAS30Validator({**schema, "components": spec["components"]})
        errors = [error.message for error in validator.iter_errors(example)]
        assert not errors, f"{where}: {example!r}: {errors}"


def test_every_operation_is_exercised():
    assert len(all_operations()) >= 30
    assert all(method in METHODS for _, method in all_operations())
