"""The address book: each user's own entries, ISO country codes, field limits."""

import pytest

from app.platform.models import Address
from tests.helpers import assert_problem, count_rows

HOME = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "Austin",
    "region": "TX",
    "postal_code": "73301",
    "country": "US",
}


def add(client, headers, **fields):
    return client.post("/api/addresses", json=HOME | fields, headers=headers)


def test_an_address_is_added_read_listed_changed_and_deleted(client, auth):
    created = add(client, auth.customer, phone="+1 512 555 0100")
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body | {"id": 0, "created_at": "", "updated_at": ""} == HOME | {
        "id": 0,
        "line2": None,
        "phone": "+1 512 555 0100",
        "created_at": "",
        "updated_at": "",
    }
    path = f"/api/addresses/{body['id']}"
    assert created.headers["Location"].endswith(path)
    assert client.get(path, headers=auth.customer).get_json() == body
    listed = client.get("/api/addresses", headers=auth.customer).get_json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]

    changed = client.patch(path, json={"line2": "Flat 4", "region": None}, headers=auth.customer)
    assert changed.status_code == 200
    assert (changed.get_json()["line2"], changed.get_json()["region"]) == ("Flat 4", None)
    assert changed.get_json()["city"] == "Austin"

    assert client.delete(path, headers=auth.customer).status_code == 204
    assert_problem(client.get(path, headers=auth.customer), 404)


def test_another_users_address_answers_like_a_missing_one(client, auth, query):
    mine = add(client, auth.customer).get_json()
    other = auth.user("other")
    path = f"/api/addresses/{mine['id']}"
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {"city": "Paris"}} if method == "patch" else {}
        response = client.open(path, method=method.upper(), headers=other.headers, **kwargs)
        body = assert_problem(response, 404)
        assert body["detail"] == f"Address {mine['id']} was not found."
    assert client.get("/api/addresses", headers=other.headers).get_json()["items"] == []
    assert client.get(path, headers=auth.customer).get_json() == mine
    assert_problem(client.get(path, headers=auth.admin), 404)  # an address book is private
    assert count_rows(query, Address) == 1


def test_the_address_book_needs_a_login(client):
    assert_problem(client.get("/api/addresses"), 401)
    assert_problem(client.post("/api/addresses", json=HOME), 401)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "us"}, "country"),
        ({"country": "USA"}, "country"),
        ({"country": None}, "country"),
        ({"name": "x" * 101}, "name"),
        ({"line1": "x" * 201}, "line1"),
        ({"line2": "x" * 201}, "line2"),
        ({"city": " "}, "city"),
        ({"postal_code": "1" * 21}, "postal_code"),
        ({"phone": "5" * 41}, "phone"),
        ({"name": "Ada\x07"}, "name"),
        ({"region": ["TX"]}, "region"),
    ],
)
def test_bad_fields_are_422s_naming_them_and_store_nothing(client, auth, query, fields, field):
    response = add(client, auth.customer, **fields)
    assert_problem(response, 422, field)
    assert count_rows(query, Address) == 0


def test_a_missing_required_field_is_named(client, auth):
    body = {key: value for key, value in HOME.items() if key != "postal_code"}
    response = client.post("/api/addresses", json=body, headers=auth.customer)
    assert_problem(response, 422, "postal_code")


def test_a_change_that_breaks_a_rule_changes_nothing(client, auth):
    created = add(client, auth.customer).get_json()
    path = f"/api/addresses/{created['id']}"
    assert_problem(
        client.patch(path, json={"country": "ZZ"}, headers=auth.customer), 422, "country"
    )
    assert_problem(client.patch(path, json={"city": None}, headers=auth.customer), 422, "city")
    assert client.get(path, headers=auth.customer).get_json() == created


def test_an_address_book_has_a_limit(client, auth, monkeypatch):
    monkeypatch.setattr("app.accounts.addresses.MAX_ADDRESSES", 2)
    for _ in range(2):
        assert add(client, auth.customer).status_code == 201
    assert_problem(add(client, auth.customer), 422, "address")
