"""Discount codes (admin): validation across fields, case-insensitive codes, usage counts."""

import pytest

from app.platform.models import Discount
from tests.helpers import assert_problem, count_rows

WELCOME = {"code": "WELCOME10", "kind": "percentage", "value": "10"}


def create(client, auth, **fields):
    return client.post("/api/admin/discounts", json=WELCOME | fields, headers=auth.admin)


def test_a_code_is_created_read_changed_and_deleted(client, auth):
    created = create(client, auth, min_subtotal="20", usage_limit=100, per_customer_limit=1)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body | {"id": 0, "created_at": "", "updated_at": ""} == {
        "id": 0,
        "code": "WELCOME10",
        "kind": "percentage",
        "value": "10.00",
        "min_subtotal": "20.00",
        "starts_at": None,
        "ends_at": None,
        "usage_limit": 100,
        "per_customer_limit": 1,
        "used": 0,
        "active": True,
        "created_at": "",
        "updated_at": "",
    }
    path = f"/api/admin/discounts/{body['id']}"
    assert created.headers["Location"].endswith(path)
    assert client.get(path, headers=auth.admin).get_json() == body
    changed = client.patch(path, json={"kind": "fixed", "value": "150"}, headers=auth.admin)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert (changed.get_json()["kind"], changed.get_json()["value"]) == ("fixed", "150.00")
    listed = client.get("/api/admin/discounts", headers=auth.admin).get_json()
    assert [item["code"] for item in listed["items"]] == ["WELCOME10"]
    assert client.delete(path, headers=auth.admin).status_code == 204
    assert_problem(client.get(path, headers=auth.admin), 404)


def test_codes_are_unique_whatever_the_case(client, auth, query):
    assert create(client, auth).status_code == 201
    assert_problem(create(client, auth, code="welcome10"), 422, "code")
    other = create(client, auth, code="SPRING").get_json()
    response = client.patch(
        f"/api/admin/discounts/{other['id']}", json={"code": "Welcome10"}, headers=auth.admin
    )
    assert_problem(response, 422, "code")
    assert count_rows(query, Discount) == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"value": "101"}, "value"),
        ({"value": "-1"}, "value"),
        ({"value": "10.001"}, "value"),
        ({"kind": "bogo"}, "kind"),
        ({"code": "SPACE CODE"}, "code"),
        ({"code": "x" * 51}, "code"),
        ({"usage_limit": 0}, "usage_limit"),
        ({"per_customer_limit": "1"}, "per_customer_limit"),
        ({"min_subtotal": "5.555"}, "min_subtotal"),
        ({"starts_at": "2026-01-01T00:00:00"}, "starts_at"),
        (
            {"starts_at": "2026-02-01T00:00:00+00:00", "ends_at": "2026-01-01T00:00:00+00:00"},
            "ends_at",
        ),
    ],
)
def test_bad_fields_are_422s_and_store_nothing(client, auth, query, fields, field):
    assert_problem(create(client, auth, **fields), 422, field)
    assert count_rows(query, Discount) == 0


def test_a_change_is_checked_against_the_stored_values(client, auth):
    fixed = create(client, auth, kind="fixed", value="150").get_json()
    path = f"/api/admin/discounts/{fixed['id']}"
    assert_problem(
        client.patch(path, json={"kind": "percentage"}, headers=auth.admin), 422, "value"
    )
    assert client.get(path, headers=auth.admin).get_json() == fixed


def test_only_admins_manage_codes(client, auth):
    assert_problem(client.post("/api/admin/discounts", json=WELCOME, headers=auth.customer), 403)
    assert_problem(client.get("/api/admin/discounts"), 401)
