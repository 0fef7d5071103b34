"""Staff management (/api/admin/users, /api/admin/roles): who may give which roles, custom
roles, the last admin, deactivation, and that every change applies to tokens already issued.

A refused change is checked twice: the answer (status, problem body, the permission named)
and the database (`snapshot`: users' roles and active flags, the roles, the live logins).
"""

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from app.platform.models import (
    Order,
    PaymentAction,
    PaymentActionKind,
    Permission,
    Role,
    TokenFamily,
    User,
)
from tests.factories import UserFactory
from tests.helpers import assert_problem, bearer, count_rows, login

ALL_PERMISSIONS = sorted(Permission)
USER_KEYS = {"id", "username", "email", "is_admin", "active", "roles", "permissions", "created_at"}
PAGE_KEYS = {"items", "page", "per_page", "total", "pages"}


# --- helpers ----------------------------------------------------------------------------


def put_roles(client, headers, user_id, *roles):
    return client.put(
        f"/api/admin/users/{user_id}/roles", json={"roles": list(roles)}, headers=headers
    )


def deactivate(client, headers, user_id):
    return client.post(f"/api/admin/users/{user_id}/deactivate", headers=headers)


def activate(client, headers, user_id):
    return client.post(f"/api/admin/users/{user_id}/activate", headers=headers)


def post_role(client, headers, name, *permissions):
    return client.post(
        "/api/admin/roles", json={"name": name, "permissions": list(permissions)}, headers=headers
    )


def make_role(client, auth, name, *permissions):
    """A custom role, made by the admin."""
    made = post_role(client, auth.admin, name, *permissions)
    assert made.status_code == 201, made.get_data(as_text=True)


def add_user(query, username, email):
    return query(lambda s: UserFactory(username=username, email=email).id)


def ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def refused(response) -> str:
    """A 403; returns the permission it names."""
    return assert_problem(response, 403)["missing_permission"]


def grants(body) -> tuple:
    """What a user body says he holds."""
    return body["roles"], body["permissions"], body["is_admin"], body["active"]


def snapshot(query):
    """What a refused change must leave as it was."""

    def read(session):
        users = {u.id: (u.active, u.role_names) for u in session.scalars(select(User))}
        roles = {r.name: (sorted(r.permissions), r.builtin) for r in session.scalars(select(Role))}
        live = session.scalar(
            select(func.count()).select_from(TokenFamily).where(TokenFamily.revoked_at.is_(None))
        )
        return users, roles, live

    return query(read)


def place_order(client, buyer, product_id) -> int:
    added = client.post(
        "/api/cart", json={"product_id": product_id, "quantity": 1}, headers=buyer.headers
    )
    assert added.status_code == 200, added.get_data(as_text=True)
    return ok(client.post("/api/orders", headers=buyer.headers), 201)["id"]


def paid_order(client, auth, buyer, product_id) -> int:
    """An order of `buyer`'s, paid (the manual provider: the admin marks it paid)."""
    order_id = place_order(client, buyer, product_id)
    paid = ok(client.patch(f"/api/orders/{order_id}", json={"status": "paid"}, headers=auth.admin))
    assert (paid["status"], paid["payment"]["status"]) == ("paid", "succeeded")
    return order_id


def order_state(query, order_id):
    """The order's status, and the refunds queued for it."""
    status = query(lambda s: s.scalar(select(Order.status).where(Order.id == order_id)))
    refunds = count_rows(
        query,
        PaymentAction,
        PaymentAction.order_id == order_id,
        PaymentAction.kind == PaymentActionKind.REFUND,
    )
    return status, refunds


def cancel(client, headers, order_id):
    return client.post(f"/api/orders/{order_id}/cancel", headers=headers)


# --- escalation -------------------------------------------------------------------------


@pytest.fixture
def staff(client, auth):
    """The staffer holds staff:write and the catalog permissions (a custom role the admin made
    and gave him); the others hold permissions he lacks, or none."""
    make_role(client, auth, "catalog_staff", "catalog:write", "inventory:write", "staff:write")
    make_role(client, auth, "pages", "catalog:write")
    make_role(client, auth, "order_desk", "orders:read", "orders:write")
    users = SimpleNamespace(
        admin=auth.admin_user,
        customer=auth.customer_user,
        staffer=auth.user("staffer"),
        catalog_manager=auth.user("catalog", roles=("catalog_manager",)),
        order_manager=auth.user("orders", roles=("order_manager",)),
    )
    ok(put_roles(client, auth.admin, users.staffer.id, "catalog_staff"))
    users.ids = {name: user.id for name, user in vars(users).items()}
    return users


# (caller, method, path, body, the permission the 403 names: the first by name he lacks)
REFUSED = {
    # The case: catalog_manager has no staff:write at all.
    "catalog manager gives himself order_manager": (
        "catalog_manager",
        "PUT",
        "/api/admin/users/{catalog_manager}/roles",
        {"roles": ["catalog_manager", "order_manager"]},
        "staff:write",
    ),
    "catalog manager gives a customer order_manager": (
        "catalog_manager",
        "PUT",
        "/api/admin/users/{customer}/roles",
        {"roles": ["order_manager"]},
        "staff:write",
    ),
    "catalog manager makes a role he lacks": (
        "catalog_manager",
        "POST",
        "/api/admin/roles",
        {"name": "reader", "permissions": ["orders:read"]},
        "staff:write",
    ),
    "catalog manager deactivates an admin": (
        "catalog_manager",
        "POST",
        "/api/admin/users/{admin}/deactivate",
        None,
        "staff:write",
    ),
    # staff:write is not enough: every role given must hold only what the giver holds.
    "staffer gives a customer order_manager": (
        "staffer",
        "PUT",
        "/api/admin/users/{customer}/roles",
        {"roles": ["customer", "order_manager"]},
        "customers:read",
    ),
    "staffer gives himself order_manager": (
        "staffer",
        "PUT",
        "/api/admin/users/{staffer}/roles",
        {"roles": ["catalog_staff", "order_manager"]},
        "customers:read",
    ),
    "staffer gives a custom role he lacks": (
        "staffer",
        "PUT",
        "/api/admin/users/{customer}/roles",
        {"roles": ["order_desk"]},
        "orders:read",
    ),
    "staffer makes a role with orders:read": (
        "staffer",
        "POST",
        "/api/admin/roles",
        {"name": "reader", "permissions": ["orders:read"]},
        "orders:read",
    ),
    "staffer makes a role with several he lacks": (
        "staffer",
        "POST",
        "/api/admin/roles",
        {"name": "mixed", "permissions": ["catalog:write", "orders:read", "audit:read"]},
        "audit:read",
    ),
    "staffer adds orders:read to a custom role": (
        "staffer",
        "PATCH",
        "/api/admin/roles/pages",
        {"permissions": ["catalog:write", "orders:read"]},
        "orders:read",
    ),
    "staffer renames a custom role holding more": (
        "staffer",
        "PATCH",
        "/api/admin/roles/order_desk",
        {"name": "desk"},
        "orders:read",
    ),
    "staffer empties a custom role holding more": (
        "staffer",
        "PATCH",
        "/api/admin/roles/order_desk",
        {"permissions": []},
        "orders:read",
    ),
    "staffer deletes a custom role holding more": (
        "staffer",
        "DELETE",
        "/api/admin/roles/order_desk",
        None,
        "orders:read",
    ),
    "staffer demotes an admin": (
        "staffer",
        "PUT",
        "/api/admin/users/{admin}/roles",
        {"roles": ["customer"]},
        "audit:read",
    ),
    "staffer deactivates an admin": (
        "staffer",
        "POST",
        "/api/admin/users/{admin}/deactivate",
        None,
        "audit:read",
    ),
    "staffer changes an order manager's roles": (
        "staffer",
        "PUT",
        "/api/admin/users/{order_manager}/roles",
        {"roles": ["customer"]},
        "customers:read",
    ),
    "staffer deactivates an order manager": (
        "staffer",
        "POST",
        "/api/admin/users/{order_manager}/deactivate",
        None,
        "customers:read",
    ),
    "staffer activates an order manager": (
        "staffer",
        "POST",
        "/api/admin/users/{order_manager}/activate",
        None,
        "customers:read",
    ),
}


@pytest.mark.parametrize("case", REFUSED.values(), ids=REFUSED.keys())
def test_nobody_grants_or_touches_what_he_does_not_hold(client, staff, query, case):
    caller, method, path, body, missing = case
    before = snapshot(query)
    response = client.open(
        path.format(**staff.ids),
        method=method,
        json=body,
        headers=getattr(staff, caller).headers,
    )
    assert refused(response) == missing
    assert snapshot(query) == before


def test_a_staffer_manages_customers_within_his_permissions(client, staff, query):
    headers, customer = staff.staffer.headers, staff.customer.id
    given = ok(put_roles(client, headers, customer, "customer", "catalog_manager"))
    assert grants(given) == (
        ["catalog_manager", "customer"],
        ["catalog:write", "inventory:write"],
        False,
        True,
    )
    assert ok(deactivate(client, headers, customer))["active"] is False
    assert ok(activate(client, headers, customer))["active"] is True
    users, _, _ = snapshot(query)
    assert users[customer] == (True, ["catalog_manager", "customer"])
    # Not even his own account, whatever he holds.
    assert (
        "own account"
        in assert_problem(deactivate(client, headers, staff.staffer.id), 409)["detail"]
    )


def test_a_role_is_given_whole(client, auth, query):
    """catalog_manager also grants inventory:write: holding catalog:write is not enough."""
    make_role(client, auth, "catalog_writer", "catalog:write", "staff:write")
    writer, customer = auth.user("writer", roles=("catalog_writer",)), auth.customer_user
    before = snapshot(query)
    response = put_roles(client, writer.headers, customer.id, "catalog_manager")
    assert refused(response) == "inventory:write"
    assert snapshot(query) == before


def test_a_staffer_makes_and_edits_roles_within_his_permissions(client, staff, query):
    headers = staff.staffer.headers
    made = ok(post_role(client, headers, "shelf", "inventory:write", "catalog:write"), 201)
    assert made == {
        "name": "shelf",
        "permissions": ["catalog:write", "inventory:write"],
        "builtin": False,
    }
    renamed = ok(client.patch("/api/admin/roles/pages", json={"name": "web"}, headers=headers))
    assert renamed == {"name": "web", "permissions": ["catalog:write"], "builtin": False}
    assert client.delete("/api/admin/roles/shelf", headers=headers).status_code == 204
    _, roles, _ = snapshot(query)
    assert {"web", "order_desk"} <= set(roles)
    assert "shelf" not in roles and "pages" not in roles


# --- changes apply to tokens already issued ---------------------------------------------


def test_a_new_order_manager_refunds_with_the_token_he_already_had(
    client, auth, query, make_product
):
    product = make_product(stock=5)
    buyer, clerk = auth.user("buyer"), auth.user("clerk")
    order_id = paid_order(client, auth, buyer, product.id)
    # Not his order, and no role to see it: the same 404 as a missing order.
    assert_problem(cancel(client, clerk.headers, order_id), 404)
    assert order_state(query, order_id) == ("paid", 0)

    ok(put_roles(client, auth.admin, clerk.id, "order_manager"))
    cancelled = ok(cancel(client, clerk.headers, order_id))
    assert cancelled["status"] == "cancelled"
    # The manual provider's refund is queued for the worker; the payment shows it once made.
    assert cancelled["payment"]["provider"] == "manual"
    assert order_state(query, order_id) == ("cancelled", 1)

    another = paid_order(client, auth, buyer, product.id)
    ok(put_roles(client, auth.admin, clerk.id, "customer"))
    assert_problem(cancel(client, clerk.headers, another), 404)
    assert order_state(query, another) == ("paid", 0)


def test_cancelling_a_paid_order_needs_payments_refund(client, auth, query, make_product):
    make_role(client, auth, "order_desk", "orders:read", "orders:write")
    product = make_product(stock=5)
    buyer, clerk = auth.user("buyer"), auth.user("clerk", roles=("order_desk",))
    order_id = paid_order(client, auth, buyer, product.id)
    assert refused(cancel(client, clerk.headers, order_id)) == "payments:refund"
    assert order_state(query, order_id) == ("paid", 0)
    # A pending order has no payment to send back: orders:write is enough.
    pending = place_order(client, buyer, product.id)
    assert ok(cancel(client, clerk.headers, pending))["status"] == "cancelled"
    assert order_state(query, pending) == ("cancelled", 0)


# --- /api/auth/me -----------------------------------------------------------------------


def test_me_shows_the_union_of_the_roles(client, auth):
    user = auth.user("mixed", roles=("support", "catalog_manager"))
    me = ok(client.get("/api/auth/me", headers=user.headers))
    assert set(me) == USER_KEYS
    assert grants(me) == (
        ["catalog_manager", "support"],
        ["audit:read", "catalog:write", "customers:read", "inventory:write", "orders:read"],
        False,
        True,
    )
    admin = ok(client.get("/api/auth/me", headers=auth.admin))
    assert grants(admin) == (["admin"], ALL_PERMISSIONS, True, True)


def test_every_permission_without_the_admin_role_is_not_an_admin(client, auth):
    make_role(client, auth, "almighty", *Permission)
    user = auth.user("almighty", roles=("almighty",))
    me = ok(client.get("/api/auth/me", headers=user.headers))
    assert grants(me) == (["almighty"], ALL_PERMISSIONS, False, True)


# --- the last admin ---------------------------------------------------------------------


def test_the_only_admin_keeps_the_admin_role(client, auth, query):
    admin = auth.admin_user
    before = snapshot(query)
    for roles in (["customer"], ["support", "order_manager"], []):
        response = put_roles(client, admin.headers, admin.id, *roles)
        assert "last active admin" in assert_problem(response, 409)["detail"]
    assert snapshot(query) == before
    kept = ok(put_roles(client, admin.headers, admin.id, "admin", "support"))
    assert grants(kept)[0] == ["admin", "support"]


def test_of_two_admins_one_demotes_the_other_but_not_then_himself(client, auth, query):
    first, second = auth.admin_user, auth.user("second", admin=True)
    demoted = ok(put_roles(client, first.headers, second.id, "customer"))
    assert grants(demoted) == (["customer"], [], False, True)
    # The demotion applies to his token at once.
    assert refused(put_roles(client, second.headers, first.id, "customer")) == "staff:write"
    before = snapshot(query)
    assert_problem(put_roles(client, first.headers, first.id, "customer"), 409)
    assert snapshot(query) == before


def test_deactivated_admins_do_not_count(client, auth, query):
    first, second = auth.admin_user, auth.user("second", admin=True)
    before = snapshot(query)
    own = assert_problem(deactivate(client, first.headers, first.id), 409)
    assert "own account" in own["detail"]
    assert snapshot(query) == before

    assert ok(deactivate(client, first.headers, second.id))["active"] is False
    before = snapshot(query)
    assert_problem(put_roles(client, first.headers, first.id, "customer"), 409)
    assert_problem(deactivate(client, first.headers, first.id), 409)
    assert snapshot(query) == before

    # Active again, the second admin counts again.
    assert ok(activate(client, first.headers, second.id))["active"] is True
    assert grants(ok(put_roles(client, first.headers, first.id, "customer")))[2] is False


def test_every_permission_without_the_admin_role_cannot_remove_the_only_admin(client, auth, query):
    make_role(client, auth, "almighty", *Permission)
    almighty, admin = auth.user("almighty", roles=("almighty",)), auth.admin_user
    before = snapshot(query)
    assert_problem(put_roles(client, almighty.headers, admin.id, "customer"), 409)
    assert_problem(deactivate(client, almighty.headers, admin.id), 409)
    assert snapshot(query) == before


# --- deactivation -----------------------------------------------------------------------


def test_deactivation_ends_every_login_until_activated(client, auth):
    user = auth.user("dora")
    other = bearer(ok(login(client, "dora"))["access_token"])
    ok(client.get("/api/auth/me", headers=user.headers))

    assert ok(deactivate(client, auth.admin, user.id))["active"] is False
    for headers in (user.headers, other):
        assert_problem(client.get("/api/auth/me", headers=headers), 401)
    assert_problem(client.post("/api/auth/refresh", headers=user.refresh_headers), 401)
    refusal = assert_problem(login(client, "dora"), 401)
    assert "deactivated" in refusal["detail"]
    # Only who knows the password learns the account is deactivated.
    wrong = assert_problem(login(client, "dora", "not-the-password"), 401)
    assert "deactivated" not in wrong["detail"]
    shown = ok(client.get(f"/api/admin/users/{user.id}", headers=auth.admin))
    assert (shown["username"], shown["active"]) == ("dora", False)

    assert ok(activate(client, auth.admin, user.id))["active"] is True
    # The logins it ended stay ended; a new one works.
    assert_problem(client.get("/api/auth/me", headers=user.headers), 401)
    me = ok(client.get("/api/auth/me", headers=bearer(ok(login(client, "dora"))["access_token"])))
    assert (me["id"], me["active"]) == (user.id, True)


def test_the_token_check_reads_active_too(client, auth, query):
    """A login made as the deactivation committed escapes its revocation: still refused."""
    user = auth.user("dora")

    def deactivate_behind_the_apis_back(session):
        session.execute(update(User).where(User.id == user.id).values(active=False))
        session.commit()

    query(deactivate_behind_the_apis_back)
    assert_problem(client.get("/api/auth/me", headers=user.headers), 401)
    assert_problem(client.post("/api/auth/refresh", headers=user.refresh_headers), 401)


# --- bad input --------------------------------------------------------------------------


@pytest.fixture
def roles_world(client, auth):
    """Two custom roles, `editor` held by the customer and `spare` by nobody."""
    make_role(client, auth, "editor", "catalog:write")
    make_role(client, auth, "spare", "inventory:write")
    customer = auth.user("held", roles=("customer", "editor"))
    return SimpleNamespace(admin=auth.admin, customer=customer, ids={"customer": customer.id})


# (method, path, body, status, the fields a 422 names: "permissions[1]" is the list's item)
BAD = {
    "unknown role given": (
        "PUT",
        "/api/admin/users/{customer}/roles",
        {"roles": ["customer", "wizard"]},
        422,
        ("roles",),
    ),
    "bad role name given": (
        "PUT",
        "/api/admin/users/{customer}/roles",
        {"roles": ["Bad-Name"]},
        422,
        ("roles[0]",),
    ),
    "no roles field": ("PUT", "/api/admin/users/{customer}/roles", {}, 422, ("roles",)),
    "unknown user": ("PUT", "/api/admin/users/999999/roles", {"roles": ["customer"]}, 404, ()),
    "unknown user read": ("GET", "/api/admin/users/999999", None, 404, ()),
    "unknown user deactivated": ("POST", "/api/admin/users/999999/deactivate", None, 404, ()),
    "unknown user activated": ("POST", "/api/admin/users/999999/activate", None, 404, ()),
    "unknown permission": (
        "POST",
        "/api/admin/roles",
        {"name": "ok_name", "permissions": ["catalog:write", "root"]},
        422,
        ("permissions[1]",),
    ),
    "bad role name": (
        "POST",
        "/api/admin/roles",
        {"name": "Bad Name", "permissions": []},
        422,
        ("name",),
    ),
    "one-letter role name": (
        "POST",
        "/api/admin/roles",
        {"name": "x", "permissions": []},
        422,
        ("name",),
    ),
    "built-in name taken": (
        "POST",
        "/api/admin/roles",
        {"name": "support", "permissions": []},
        409,
        (),
    ),
    "custom name taken": (
        "POST",
        "/api/admin/roles",
        {"name": "spare", "permissions": []},
        409,
        (),
    ),
    "built-in role renamed": ("PATCH", "/api/admin/roles/support", {"name": "helpdesk"}, 409, ()),
    "built-in role changed": ("PATCH", "/api/admin/roles/support", {"permissions": []}, 409, ()),
    "built-in role deleted": ("DELETE", "/api/admin/roles/support", None, 409, ()),
    "admin role deleted": ("DELETE", "/api/admin/roles/admin", None, 409, ()),
    "renamed to a built-in name": ("PATCH", "/api/admin/roles/spare", {"name": "support"}, 409, ()),
    "renamed to a custom name": ("PATCH", "/api/admin/roles/spare", {"name": "editor"}, 409, ()),
    "custom role still held deleted": ("DELETE", "/api/admin/roles/editor", None, 409, ()),
    "unknown permission patched": (
        "PATCH",
        "/api/admin/roles/spare",
        {"permissions": ["root"]},
        422,
        ("permissions[0]",),
    ),
    "unknown role patched": ("PATCH", "/api/admin/roles/nosuch", {"name": "other"}, 404, ()),
    "unknown role deleted": ("DELETE", "/api/admin/roles/nosuch", None, 404, ()),
    "impossible role name in the path": ("DELETE", "/api/admin/roles/Bad-Name", None, 404, ()),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_requests_change_nothing(client, roles_world, query, case):
    method, path, body, status, fields = case
    before = snapshot(query)
    response = client.open(
        path.format(**roles_world.ids), method=method, json=body, headers=roles_world.admin
    )
    body = assert_problem(response, status)
    for field in fields:
        name, _, index = field.removesuffix("]").partition("[")
        messages = body["errors"][name][index] if index else body["errors"][name]
        assert messages and all(isinstance(message, str) for message in messages), body
    assert snapshot(query) == before


def test_a_custom_role_is_deleted_once_nobody_holds_it(client, auth, roles_world, query):
    path = "/api/admin/roles/editor"
    assert_problem(client.delete(path, headers=auth.admin), 409)
    ok(put_roles(client, auth.admin, roles_world.customer.id, "customer"))
    response = client.delete(path, headers=auth.admin)
    assert response.status_code == 204, response.get_data(as_text=True)
    _, roles, _ = snapshot(query)
    assert "editor" not in roles and "spare" in roles


# --- the users list ---------------------------------------------------------------------


def find(client, headers, **args):
    return client.get("/api/admin/users", query_string=args, headers=headers)


def usernames(response):
    return [user["username"] for user in ok(response)["items"]]


def test_users_are_found_by_part_of_name_or_address(client, auth, query):
    auth.user("alice")
    auth.user("MALIKA")
    add_user(query, "bob", "bob.alias@shop.test")
    add_user(query, "under_score", "u1@example.com")
    add_user(query, "underXscore", "u2@example.com")
    headers = auth.admin

    assert usernames(find(client, headers, q="ALI")) == ["alice", "MALIKA", "bob"]
    # LIKE's wildcards are plain characters here.
    assert usernames(find(client, headers, q="r_s")) == ["under_score"]
    assert usernames(find(client, headers, q="%")) == []
    assert usernames(find(client, headers, q="ali", per_page=2)) == ["alice", "MALIKA"]

    page = ok(find(client, headers, q="ali", per_page=2, page=2))
    assert set(page) == PAGE_KEYS
    assert (page["page"], page["per_page"], page["total"], page["pages"]) == (2, 2, 3, 2)
    assert [user["username"] for user in page["items"]] == ["bob"]
    assert set(page["items"][0]) == USER_KEYS


def test_users_are_found_by_role(client, auth):
    support = auth.user("helper", roles=("support",))
    auth.user("both", roles=("customer", "support"))
    auth.user("alice")
    assert usernames(find(client, auth.admin, role="support")) == ["helper", "both"]
    assert usernames(find(client, auth.admin, role="support", q="hel")) == ["helper"]
    assert usernames(find(client, auth.admin, role="order_manager")) == []
    # Support reads customers: he may look users up, but not change them.
    assert usernames(find(client, support.headers, role="support")) == ["helper", "both"]
    assert refused(put_roles(client, support.headers, support.id, "support")) == "staff:write"


def test_listing_users_needs_customers_read(client, auth):
    catalog = auth.user("catalog", roles=("catalog_manager",))
    assert refused(find(client, catalog.headers)) == "customers:read"
    assert refused(client.get(f"/api/admin/users/{catalog.id}", headers=catalog.headers)) == (
        "customers:read"
    )
    assert refused(find(client, auth.customer)) == "customers:read"


# --- a custom role's life ---------------------------------------------------------------


def new_product(client, headers):
    return client.post(
        "/api/products", json={"name": "Mug", "price": "9.50", "stock": 3}, headers=headers
    )


def test_a_custom_role_applies_to_its_holders_at_once(client, auth):
    admin, editor = auth.admin, auth.user("editor")
    made = ok(post_role(client, admin, "content_editor", "catalog:write", "catalog:write"), 201)
    assert made == {"name": "content_editor", "permissions": ["catalog:write"], "builtin": False}
    listed = ok(client.get("/api/admin/roles", headers=admin))
    assert set(listed) == PAGE_KEYS
    assert {role["name"]: role["builtin"] for role in listed["items"]} == {
        "admin": True,
        "catalog_manager": True,
        "content_editor": False,
        "customer": True,
        "order_manager": True,
        "support": True,
    }

    held = ok(put_roles(client, admin, editor.id, "content_editor"))
    assert grants(held) == (["content_editor"], ["catalog:write"], False, True)
    ok(new_product(client, editor.headers), 201)

    emptied = ok(
        client.patch("/api/admin/roles/content_editor", json={"permissions": []}, headers=admin)
    )
    assert emptied == {"name": "content_editor", "permissions": [], "builtin": False}
    assert refused(new_product(client, editor.headers)) == "catalog:write"

    path = "/api/admin/roles/content_editor"
    renamed = ok(client.patch(path, json={"name": "page_editor"}, headers=admin))
    assert renamed["name"] == "page_editor"
    shown = ok(client.get(f"/api/admin/users/{editor.id}", headers=admin))
    assert grants(shown) == (["page_editor"], [], False, True)
    assert_problem(client.patch(path, json={"name": "other"}, headers=admin), 404)


# --- rules checked on the effect of a role edit ---------------------------------------------


@pytest.fixture
def shared_role(client, auth):
    """A staff manager (staff:write, customers:read) and an order manager (orders:write
    through one role, customers:read through a role they share)."""
    make_role(client, auth, "staffing", "staff:write", "customers:read")
    make_role(client, auth, "fulfilment", "orders:read", "orders:write")
    make_role(client, auth, "shared", "customers:read")
    return SimpleNamespace(
        manager=auth.user("manager", roles=("staffing", "shared")),
        orders=auth.user("orders", roles=("fulfilment", "shared")),
    )


@pytest.mark.parametrize(
    "permissions",
    [[], ["customers:read", "staff:write"]],
    ids=["taking-away", "granting"],
)
def test_a_role_edit_that_changes_a_holder_above_the_editor_is_refused(
    client, auth, shared_role, query, permissions
):
    """Changing the order manager's roles directly is refused; so is changing his
    permissions through a role he shares."""
    refused = put_roles(client, shared_role.manager.headers, shared_role.orders.id, "shared")
    assert_problem(refused, 403)
    response = client.patch(
        "/api/admin/roles/shared",
        json={"permissions": permissions},
        headers=shared_role.manager.headers,
    )
    body = assert_problem(response, 403)
    assert body["missing_permission"] == "orders:read"
    assert f"user {shared_role.orders.id}" in body["detail"]
    me = client.get("/api/auth/me", headers=shared_role.orders.headers).get_json()
    assert "customers:read" in me["permissions"] and "staff:write" not in me["permissions"]


def test_a_role_edit_that_changes_no_one_above_the_editor_is_allowed(client, auth, shared_role):
    # The order manager keeps customers:read through another role: his permissions do not
    # change, nor the editor's.
    make_role(client, auth, "also_reads", "customers:read")
    roles = ("fulfilment", "shared", "also_reads")
    assert put_roles(client, auth.admin, shared_role.orders.id, *roles).status_code == 200
    response = client.patch(
        "/api/admin/roles/shared",
        json={"permissions": []},
        headers=shared_role.manager.headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    me = client.get("/api/auth/me", headers=shared_role.orders.headers).get_json()
    assert me["roles"] == ["also_reads", "fulfilment", "shared"]
    assert "customers:read" in me["permissions"]
