"""Shipping methods: admin CRUD, and the public list filtered by country."""

import pytest

from app.platform.models import ShippingMethod
from tests.helpers import assert_problem, count_rows

STANDARD = {"name": "Standard", "price": "4.90", "free_over": "50.00", "countries": ["US", "CA"]}


def create(client, auth, **fields):
    return client.post("/api/admin/shipping-methods", json=STANDARD | fields, headers=auth.admin)


def test_a_method_is_created_read_changed_and_deleted(client, auth):
    created = create(client, auth)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert {key: body[key] for key in STANDARD} == STANDARD
    assert body["active"] is True
    path = f"/api/admin/shipping-methods/{body['id']}"
    assert created.headers["Location"].endswith(path)
    assert client.get(path, headers=auth.admin).get_json() == body

    changed = client.patch(
        path, json={"price": 5.9, "free_over": None, "countries": []}, headers=auth.admin
    )
    assert changed.status_code == 200
    assert {key: changed.get_json()[key] for key in ("price", "free_over", "countries")} == {
        "price": "5.90",
        "free_over": None,
        "countries": [],
    }
    assert client.delete(path, headers=auth.admin).status_code == 204
    assert_problem(client.get(path, headers=auth.admin), 404)


def test_the_public_list_shows_active_methods_that_ship_to_the_country(client, auth):
    us = create(client, auth).get_json()
    everywhere = create(client, auth, name="Courier", countries=[]).get_json()
    create(client, auth, name="Paused", active=False)
    create(client, auth, name="Germany only", countries=["DE"])

    def names(query=""):
        response = client.get(f"/api/shipping-methods{query}")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=60"
        return [item["name"] for item in response.get_json()["items"]]

    assert names("?country=US") == [us["name"], everywhere["name"]]
    assert names("?country=FR") == [everywhere["name"]]
    assert names() == ["Standard", "Courier", "Germany only"]
    page = client.get("/api/shipping-methods?per_page=1&page=2").get_json()
    assert (page["total"], [item["name"] for item in page["items"]]) == (3, ["Courier"])
    assert_problem(client.get("/api/shipping-methods?country=ZZ"), 422, "country")
    admin_list = client.get("/api/admin/shipping-methods", headers=auth.admin).get_json()
    assert admin_list["total"] == 4  # inactive ones too


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"price": "4.999"}, "price"),
        ({"price": "-1"}, "price"),
        ({"free_over": "1e3"}, "free_over"),
        ({"countries": ["US", "US"]}, "countries"),
        ({"name": ""}, "name"),
        ({"active": "yes"}, "active"),
    ],
)
def test_bad_fields_are_422s_and_store_nothing(client, auth, query, fields, field):
    assert_problem(create(client, auth, **fields), 422, field)
    assert count_rows(query, ShippingMethod) == 0


def test_an_unknown_country_is_named_with_its_position(client, auth, query):
    body = assert_problem(create(client, auth, countries=["US", "Germany"]), 422)
    assert body["errors"] == {
        "countries": {
            "1": ["'Germany' is not an ISO 3166-1 alpha-2 country code (such as \"US\")."]
        }
    }
    assert count_rows(query, ShippingMethod) == 0


def test_only_admins_manage_methods(client, auth):
    response = client.post("/api/admin/shipping-methods", json=STANDARD, headers=auth.customer)
    assert_problem(response, 403)
    assert_problem(client.post("/api/admin/shipping-methods", json=STANDARD), 401)
