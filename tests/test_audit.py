"""The audit log: every staff write leaves exactly one entry with the right diff, a refused or
failed write none, and entries are never changed.

`test_each_staff_write_leaves_one_entry` walks every staff write of the document (an
operation with `x-permission` and a write method) in the world of tests/test_authorization.py,
as the admin, and compares the one new entry with `AUDITED`: action, target, and the changed
fields (exactly, or at least those named for a creation or a deletion, which list every field).
Refusals (401, 403) leave the database as it was, audit log included: the authorization table
checks that for every caller.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.platform.models import AuditEntry, WebhookSubscription
from tests.helpers import assert_problem
from tests.test_authorization import (
    ADMIN,
    CUSTOM_ROLE,
    CUSTOMER_A,
    CUSTOMER_B,
    OPENAPI,
    OPERATIONS,
    ORDER_MANAGER,
    World,
    build_world,
    documented_operations,
    operation_doc,
)

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def world(client, auth, make_product, query) -> World:
    return build_world(client, auth, make_product, query)


def change(old, new) -> dict:
    return {"old": old, "new": new}


def created(**fields) -> dict:
    return {name: change(None, value) for name, value in fields.items()}


def removed(**fields) -> dict:
    return {name: change(value, None) for name, value in fields.items()}


@dataclass(frozen=True)
class Audited:
    action: str
    target: Callable[[World, dict], object]  # (world, response body) -> the target's id
    changes: Callable[[World], dict]
    exact: bool = True  # False: `changes` lists some of the entry's changes (all fields)


def new_id(w, body):
    return body["id"]


def mug(w, body):
    return w.mug


def mugs(w, body):
    return w.mugs


def hook(w, body):
    return w.hook


def a_order(w, body):
    return w.a_order["id"]


def customer_a(w, body):
    return w.users[CUSTOMER_A].id


AUDITED = {
    ("POST", "/api/products"): Audited(
        "product.create",
        new_id,
        lambda w: created(name="Teapot", price="34.00", stock=5, slug="teapot"),
        exact=False,
    ),
    ("PUT", "/api/products/{product_id}"): Audited(
        "product.update",
        mug,
        lambda w: {"name": change("Mug", "Big mug"), "price": change("19.99", "21.00")},
    ),
    ("PATCH", "/api/products/{product_id}"): Audited(
        "product.update", mug, lambda w: {"price": change("19.99", "21.00")}
    ),
    ("DELETE", "/api/products/{product_id}"): Audited(
        "product.delete", mug, lambda w: removed(name="Mug", price="19.99"), exact=False
    ),
    ("POST", "/api/products/{product_id}/stock"): Audited(
        "product.adjust_stock",
        mug,
        lambda w: {"stock": change(10, 15), "reason": change(None, "restock from supplier")},
    ),
    ("POST", "/api/categories"): Audited(
        "category.create", new_id, lambda w: created(name="Kettles", slug="kettles"), exact=False
    ),
    ("PUT", "/api/categories/{category_id}"): Audited(
        "category.update",
        mugs,
        lambda w: {"name": change("Mugs", "Cups"), "slug": change("mugs", "cups")},
    ),
    ("PATCH", "/api/categories/{category_id}"): Audited(
        "category.update", mugs, lambda w: {"description": change("", "Stoneware.")}
    ),
    ("DELETE", "/api/categories/{category_id}"): Audited(
        "category.delete", mugs, lambda w: removed(name="Mugs", slug="mugs"), exact=False
    ),
    ("PATCH", "/api/orders/{order_id}"): Audited(
        "order.change_status", a_order, lambda w: {"status": change("pending", "paid")}
    ),
    ("POST", "/api/admin/webhooks"): Audited(
        "webhook.create",
        new_id,
        lambda w: (
            created(url="http://127.0.0.1:9/paid", events=["order.paid"])
            | {"secret": change("[redacted]", "[redacted]")}
        ),
        exact=False,
    ),
    ("PATCH", "/api/admin/webhooks/{subscription_id}"): Audited(
        "webhook.update", hook, lambda w: {"active": change(True, False)}
    ),
    ("DELETE", "/api/admin/webhooks/{subscription_id}"): Audited(
        "webhook.delete", hook, lambda w: removed(url="http://127.0.0.1:9/hooks"), exact=False
    ),
    ("POST", "/api/admin/webhooks/{subscription_id}/rotate-secret"): Audited(
        "webhook.rotate_secret",
        hook,
        lambda w: {
            "secret": change("[redacted]", "[redacted]"),
            "previous_secret": change("[redacted]", "[redacted]"),
        },
        exact=False,
    ),
    ("POST", "/api/admin/webhooks/deliveries/{delivery_id}/redeliver"): Audited(
        "webhook_delivery.redeliver",
        lambda w, body: w.delivery,
        lambda w: {"status": change("failed", "pending")},
        exact=False,
    ),
    ("POST", "/api/admin/shipping-methods"): Audited(
        "shipping_method.create",
        new_id,
        lambda w: created(name="Express", price="14.90", countries=["US"]),
        exact=False,
    ),
    ("PATCH", "/api/admin/shipping-methods/{method_id}"): Audited(
        "shipping_method.update",
        lambda w, body: w.method,
        lambda w: {"price": change("4.90", "5.90")},
    ),
    ("DELETE", "/api/admin/shipping-methods/{method_id}"): Audited(
        "shipping_method.delete",
        lambda w, body: w.method,
        lambda w: removed(name="Standard", price="4.90"),
        exact=False,
    ),
    ("POST", "/api/admin/tax-rates"): Audited(
        "tax_rate.create", new_id, lambda w: created(country="DE", rate="0.1900"), exact=False
    ),
    ("PATCH", "/api/admin/tax-rates/{rate_id}"): Audited(
        "tax_rate.update", lambda w, body: w.rate, lambda w: {"rate": change("0.0500", "0.0600")}
    ),
    ("DELETE", "/api/admin/tax-rates/{rate_id}"): Audited(
        "tax_rate.delete",
        lambda w, body: w.rate,
        lambda w: removed(country="US", rate="0.0500"),
        exact=False,
    ),
    ("POST", "/api/admin/discounts"): Audited(
        "discount.create",
        new_id,
        lambda w: created(code="SPRING", kind="fixed", value="5.00"),
        exact=False,
    ),
    ("PATCH", "/api/admin/discounts/{discount_id}"): Audited(
        "discount.update", lambda w, body: w.discount, lambda w: {"active": change(True, False)}
    ),
    ("DELETE", "/api/admin/discounts/{discount_id}"): Audited(
        "discount.delete", lambda w, body: w.discount, lambda w: removed(code="TEN"), exact=False
    ),
    ("PUT", "/api/admin/users/{user_id}/roles"): Audited(
        "user.set_roles",
        customer_a,
        lambda w: {"roles": change(["customer"], ["customer", "support"])},
    ),
    ("POST", "/api/admin/users/{user_id}/deactivate"): Audited(
        "user.deactivate", customer_a, lambda w: {"active": change(True, False)}
    ),
    # A is active already: the write is recorded, and it changed nothing.
    ("POST", "/api/admin/users/{user_id}/activate"): Audited(
        "user.activate", customer_a, lambda w: {}
    ),
    ("POST", "/api/admin/roles"): Audited(
        "role.create",
        lambda w, body: w.query(role_id("writer")),
        lambda w: created(name="writer", permissions=["catalog:write"], builtin=False),
    ),
    ("PATCH", "/api/admin/roles/{name}"): Audited(
        "role.update",
        lambda w, body: w.custom_role_id,
        lambda w: {
            "permissions": change(["inventory:write"], ["catalog:write", "inventory:write"])
        },
    ),
    ("DELETE", "/api/admin/roles/{name}"): Audited(
        "role.delete",
        lambda w, body: w.custom_role_id,
        lambda w: removed(name=CUSTOM_ROLE, permissions=["inventory:write"], builtin=False),
    ),
}


def role_id(name: str):
    from app.platform.models import Role

    return lambda s: s.scalar(select(Role.id).where(Role.name == name))


def staff_writes() -> list[tuple[str, str]]:
    return [
        operation
        for operation in documented_operations()
        if operation[0] in WRITE_METHODS and "x-permission" in operation_doc(operation)
    ]


def entries_after(w: World, last_id: int) -> list[AuditEntry]:
    def read(s):
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id)
        ).all()
        s.expunge_all()
        return entries

    return w.query(read)


def last_entry_id(w: World) -> int:
    return w.query(lambda s: s.scalar(select(func.coalesce(func.max(AuditEntry.id), 0))))


def test_every_staff_write_is_walked():
    assert set(staff_writes()) == set(AUDITED)
    assert OPENAPI["paths"]  # the committed document, which test_openapi.py proves current


@pytest.mark.parametrize("operation", staff_writes(), ids=" ".join)
def test_each_staff_write_leaves_one_entry(world, operation):
    audited = AUDITED[operation]
    world.custom_role_id = world.query(role_id(CUSTOM_ROLE))
    before = last_entry_id(world)

    response = world.send(operation, ADMIN)

    assert response.status_code == OPERATIONS[operation].granted.status, response.get_json()
    entries = entries_after(world, before)
    assert len(entries) == 1, [(entry.action, entry.changes) for entry in entries]
    entry = entries[0]
    body = response.get_json(silent=True) or {}
    assert (entry.action, entry.target_type, entry.target_id) == (
        audited.action,
        audited.action.split(".")[0],
        str(audited.target(world, body)),
    )
    assert entry.actor_id == world.users[ADMIN].id
    assert entry.request_id == response.headers["X-Request-ID"]
    expected = audited.changes(world)
    if audited.exact:
        assert entry.changes == expected
    else:
        assert entry.changes.items() >= expected.items(), entry.changes
    assert_no_secret_in(world, entry)


def assert_no_secret_in(w: World, entry: AuditEntry) -> None:
    written = json.dumps(entry.changes)
    secrets = w.query(
        lambda s: [
            value
            for row in s.execute(
                select(WebhookSubscription.secret, WebhookSubscription.previous_secret)
            )
            for value in row
            if value
        ]
    )
    assert "whsec_" not in written and not any(secret in written for secret in secrets)
    assert "password" not in written and "pbkdf2" not in written


# --- writes that fail, and writes that are not staff writes ---------------------------------

FAILED_WRITES = [
    # (method, path, body): refused by the service after the permission check
    ("DELETE", "/api/categories/{mugs}", None),  # it holds the mug: 409 without force
    ("POST", "/api/products/{mug}/stock", {"delta": -11, "reason": "count"}),  # below 0: 409
    ("PATCH", "/api/orders/{order}", {"status": "delivered"}),  # not from pending: 409
    ("PUT", "/api/admin/users/{admin}/roles", {"roles": ["customer"]}),  # last admin: 409
    ("POST", "/api/admin/users/{admin}/deactivate", None),  # himself: 409
    ("PATCH", "/api/admin/roles/support", {"permissions": []}),  # built-in: 409
    ("PUT", "/api/admin/users/{a}/roles", {"roles": ["nobody"]}),  # unknown role: 422
]


@pytest.mark.parametrize(("method", "path", "body"), FAILED_WRITES)
def test_a_failed_write_leaves_no_entry(world, method, path, body):
    before = last_entry_id(world)
    url = path.format(
        mugs=world.mugs,
        mug=world.mug,
        order=world.a_order["id"],
        admin=world.users[ADMIN].id,
        a=world.users[CUSTOMER_A].id,
    )
    kwargs = {"json": body} if body is not None else {}

    response = world.client.open(url, method=method, headers=world.headers(ADMIN), **kwargs)

    assert response.status_code in (409, 422), response.get_json()
    assert_problem(response, response.status_code)
    assert entries_after(world, before) == []


def test_a_customer_cancelling_his_own_order_is_not_a_staff_write(world):
    before = last_entry_id(world)
    order = world.a_order["id"]
    cancelled = world.client.post(f"/api/orders/{order}/cancel", headers=world.headers(CUSTOMER_A))
    assert cancelled.status_code == 200
    assert entries_after(world, before) == []


def test_staff_cancelling_another_users_order_is_audited(world):
    before = last_entry_id(world)
    order = world.a_order["id"]
    cancelled = world.client.post(
        f"/api/orders/{order}/cancel", headers=world.headers(ORDER_MANAGER)
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    [entry] = entries_after(world, before)
    assert (entry.action, entry.target_id, entry.actor_id) == (
        "order.change_status",
        str(order),
        world.users[ORDER_MANAGER].id,
    )
    assert entry.changes == {"status": change("pending", "cancelled")}


# --- reading the log ------------------------------------------------------------------------


def test_the_log_filters_by_actor_action_and_target(world):
    admin = world.headers(ADMIN)
    renamed = world.client.patch(f"/api/products/{world.mug}", json={"name": "Cup"}, headers=admin)
    assert renamed.status_code == 200
    admin_id = world.users[ADMIN].id

    def listed(**query):
        response = world.client.get("/api/admin/audit", query_string=query, headers=admin)
        assert response.status_code == 200, response.get_json()
        return [(entry["action"], entry["target_id"]) for entry in response.get_json()["items"]]

    mug = str(world.mug)
    assert listed(target_type="product", target_id=mug) == [
        ("product.update", mug),
        ("product.create", mug),
    ]
    assert listed(action="product.update") == [("product.update", mug)]
    assert listed(actor_id=admin_id, target_type="product") == [("product.update", mug)]
    assert listed(actor_id=world.users[CUSTOMER_B].id) == []
    entry = world.client.get(
        "/api/admin/audit", query_string={"action": "product.update"}, headers=admin
    ).get_json()["items"][0]
    assert set(entry) == {
        "id",
        "at",
        "actor_id",
        "action",
        "target_type",
        "target_id",
        "changes",
        "request_id",
    }
    assert entry["changes"] == {"name": change("Mug", "Cup")}
    assert entry["request_id"] == renamed.headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"action": "product.explode"}, "action"),
        ({"target_type": "spaceship"}, "target_type"),
        ({"actor_id": "0"}, "actor_id"),
        ({"actor_id": "x"}, "actor_id"),
    ],
)
def test_bad_filters_are_422_naming_the_parameter(world, params, field):
    response = world.client.get(
        "/api/admin/audit", query_string=params, headers=world.headers(ADMIN)
    )
    assert_problem(response, 422, field)


def test_the_database_refuses_to_change_an_entry(world):
    def tamper(s):
        s.execute(text("UPDATE audit_log SET action = 'nothing.happened'"))

    with pytest.raises(DBAPIError, match="append-only"):
        world.query(tamper)
    actions = world.query(lambda s: s.scalars(select(AuditEntry.action)).all())
    assert "nothing.happened" not in actions


def test_webhook_urls_are_logged_without_credentials_or_query_values(client, auth, query):
    """A receiver's credentials (in the URL's user info or its query) stay out of the log;
    a change of them alone still shows as a change."""
    secret_url = "http://user:hunter2@127.0.0.1:9/hooks?token=s3cr3t&v=1"
    created = client.post(
        "/api/admin/webhooks",
        json={"url": secret_url, "events": ["order.created"]},
        headers=auth.admin,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    path = f"/api/admin/webhooks/{created.get_json()['id']}"
    rotated = "http://user:other-password@127.0.0.1:9/hooks?token=n3w&v=1"
    assert client.patch(path, json={"url": rotated}, headers=auth.admin).status_code == 200
    logged = query(
        lambda s: s.scalars(
            select(AuditEntry.changes)
            .where(AuditEntry.target_type == "webhook")
            .order_by(AuditEntry.id)
        ).all()
    )
    text_of_log = json.dumps(logged)
    for leaked in ("hunter2", "s3cr3t", "other-password", "n3w", "user:"):
        assert leaked not in text_of_log
    shown = "http://[redacted]@127.0.0.1:9/hooks?token=[redacted]&v=[redacted]"
    assert logged[0]["url"] == {"old": None, "new": shown}
    assert logged[1]["url"] == {"old": shown, "new": shown}
