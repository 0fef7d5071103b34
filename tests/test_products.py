"""Catalog: listing, lookup, admin create/update/delete, validation and error format."""

import json
from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.platform.models import Product
from tests.helpers import PRODUCT_FIELDS, assert_problem

PAGE_FIELDS = {"items", "page", "per_page", "total", "pages"}


def product_count(query):
    return query(lambda s: s.scalar(select(func.count()).select_from(Product)))


def valid_payload(**overrides):
    payload = {"name": "Coffee mug", "description": "Stoneware, 350 ml.", "price": "12.50"}
    payload.update(overrides)
    return payload


def assert_utc_timestamp(value):
    assert isinstance(value, str)
    assert value.endswith("+00:00"), value
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset().total_seconds() == 0
    return parsed


# --- listing -------------------------------------------------------------------------------


def test_list_products_empty_catalog(client):
    response = client.get("/api/products")
    assert response.status_code == 200
    assert response.get_json() == {"items": [], "page": 1, "per_page": 20, "total": 0, "pages": 0}


def test_list_products_returns_products_with_defaults_page_1_per_page_20(client, make_product):
    product = make_product(name="Teapot", price="19.99", stock=5)
    response = client.get("/api/products")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == PAGE_FIELDS
    assert body["page"] == 1
    assert body["per_page"] == 20
    assert body["total"] == 1
    assert body["pages"] == 1
    assert body["items"] == [vars(product)]
    item = body["items"][0]
    assert set(item) == PRODUCT_FIELDS
    assert item["name"] == "Teapot"
    assert item["price"] == "19.99"
    assert item["stock"] == 5


def test_list_products_is_ordered_by_id(client, make_product):
    ids = [make_product(name=name).id for name in ("Zebra", "Apple", "Mango")]
    response = client.get("/api/products")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [item["id"] for item in items] == sorted(ids)
    assert [item["name"] for item in items] == ["Zebra", "Apple", "Mango"]


def test_list_products_pagination_math(client, make_product):
    ids = [make_product().id for _ in range(25)]

    pages = {}
    for page in (1, 2, 3):
        response = client.get(f"/api/products?page={page}&per_page=10")
        assert response.status_code == 200
        pages[page] = response.get_json()

    for page, body in pages.items():
        assert body["page"] == page
        assert body["per_page"] == 10
        assert body["total"] == 25
        assert body["pages"] == 3
    assert len(pages[1]["items"]) == 10
    assert len(pages[2]["items"]) == 10
    assert len(pages[3]["items"]) == 5
    listed = [item["id"] for page in (1, 2, 3) for item in pages[page]["items"]]
    assert listed == ids


def test_list_products_page_past_the_end_is_empty(client, make_product):
    make_product()
    response = client.get("/api/products?page=5&per_page=10")
    assert response.status_code == 200
    body = response.get_json()
    assert body["items"] == []
    assert body["page"] == 5
    assert body["total"] == 1
    assert body["pages"] == 1


@pytest.mark.parametrize("per_page", [1, 100])
def test_list_products_per_page_bounds_are_accepted(client, make_product, per_page):
    make_product()
    make_product()
    response = client.get(f"/api/products?per_page={per_page}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["per_page"] == per_page
    assert len(body["items"]) == min(per_page, 2)


@pytest.mark.parametrize(
    ("query_string", "field"),
    [
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=-1", "per_page"),
        ("per_page=abc", "per_page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
    ],
)
def test_list_products_invalid_pagination_is_422_naming_the_parameter(client, query_string, field):
    response = client.get(f"/api/products?{query_string}")
    body = assert_problem(response, 422, field)
    assert set(body["errors"]) == {field}


def test_list_products_does_not_list_deleted_products(client, auth, make_product):
    kept = make_product(name="Kept")
    gone = make_product(name="Gone")
    assert client.delete(f"/api/products/{gone.id}", headers=auth.admin).status_code == 204

    body = client.get("/api/products").get_json()
    assert [item["id"] for item in body["items"]] == [kept.id]
    assert body["total"] == 1


def test_list_products_with_trailing_slash_is_served_without_redirect(client, make_product):
    make_product()
    response = client.get("/api/products/")
    assert response.status_code == 200
    assert response.get_json() == client.get("/api/products").get_json()
    assert response.get_json()["total"] == 1


# --- detail --------------------------------------------------------------------------------


def test_get_product_returns_the_product(client, make_product):
    product = make_product(name="Teapot", description="Cast iron.", price="42.00", stock=3)
    response = client.get(f"/api/products/{product.id}")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == PRODUCT_FIELDS
    assert body == vars(product)
    assert body["name"] == "Teapot"
    assert body["description"] == "Cast iron."
    assert body["price"] == "42.00"
    assert body["stock"] == 3


def test_get_product_timestamps_are_iso_8601_utc(client, make_product):
    product = make_product()
    body = client.get(f"/api/products/{product.id}").get_json()
    created = assert_utc_timestamp(body["created_at"])
    updated = assert_utc_timestamp(body["updated_at"])
    assert created <= updated


def test_get_product_unknown_id_is_404(client, make_product):
    product = make_product()
    assert_problem(client.get(f"/api/products/{product.id + 1000}"), 404)


@pytest.mark.parametrize(
    "product_id",
    ["99999999999999999999999", str(2**63), "abc", "-1", "1.5"],
)
def test_get_product_out_of_range_or_non_numeric_id_is_404(client, product_id):
    assert_problem(client.get(f"/api/products/{product_id}"), 404)


# --- create --------------------------------------------------------------------------------


def test_create_product_returns_201_with_body_and_location(client, auth, query):
    response = client.post("/api/products", json=valid_payload(stock=7), headers=auth.admin)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == PRODUCT_FIELDS
    assert isinstance(body["id"], int)
    assert body["name"] == "Coffee mug"
    assert body["description"] == "Stoneware, 350 ml."
    assert body["price"] == "12.50"
    assert body["stock"] == 7
    assert_utc_timestamp(body["created_at"])
    assert_utc_timestamp(body["updated_at"])
    assert response.headers["Location"].endswith(f"/api/products/{body['id']}")
    assert product_count(query) == 1


def test_create_product_is_readable_at_its_location(client, auth):
    response = client.post("/api/products", json=valid_payload(), headers=auth.admin)
    assert response.status_code == 201
    detail = client.get(response.headers["Location"])
    assert detail.status_code == 200
    assert detail.get_json() == response.get_json()


def test_create_product_defaults_description_to_empty_and_stock_to_zero(client, auth):
    response = client.post(
        "/api/products", json={"name": "Spoon", "price": "1.00"}, headers=auth.admin
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["description"] == ""
    assert body["stock"] == 0


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (19.99, "19.99"),
        ("19.99", "19.99"),
        (10, "10.00"),
        ("5", "5.00"),
        ("7.5", "7.50"),
        (0, "0.00"),
        ("9999999999.99", "9999999999.99"),
        (0.1 + 0.2, "0.30"),  # a client's binary float one hair off the cent
        (0.57 * 1, "0.57"),
    ],
)
def test_create_product_accepts_money_as_number_or_string(client, auth, price, expected):
    response = client.post("/api/products", json=valid_payload(price=price), headers=auth.admin)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["price"] == expected
    detail = client.get(f"/api/products/{response.get_json()['id']}")
    assert detail.get_json()["price"] == expected


def test_create_product_accepts_name_of_200_characters(client, auth):
    name = "n" * 200
    response = client.post("/api/products", json=valid_payload(name=name), headers=auth.admin)
    assert response.status_code == 201
    assert response.get_json()["name"] == name


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": "1.999"}, "price"),
        ({"price": 1.999}, "price"),
        ({"price": "NaN"}, "price"),
        ({"price": "nan"}, "price"),
        ({"price": "Infinity"}, "price"),
        ({"price": "-Infinity"}, "price"),
        ({"price": "-0.01"}, "price"),
        ({"price": -5}, "price"),
        ({"price": "10000000000.00"}, "price"),
        ({"price": 1e20}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": "1e2"}, "price"),  # only plain decimals, as the OpenAPI pattern says
        ({"price": " 5.00"}, "price"),
        ({"price": "+5"}, "price"),
        ({"price": 0.301}, "price"),
        ({"price": ""}, "price"),
        ({"price": None}, "price"),
        ({"price": [1]}, "price"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "\t\n"}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"name": None}, "name"),
        ({"name": 123}, "name"),
        ({"stock": 1.5}, "stock"),
        ({"stock": "3"}, "stock"),
        ({"stock": -1}, "stock"),
        ({"stock": None}, "stock"),
        ({"description": None}, "description"),
        ({"id": 999}, "id"),
        ({"created_at": "2020-01-01T00:00:00+00:00"}, "created_at"),
        ({"updated_at": "2020-01-01T00:00:00+00:00"}, "updated_at"),
        ({"deleted_at": "2020-01-01T00:00:00+00:00"}, "deleted_at"),
        ({"is_admin": True}, "is_admin"),
    ],
)
def test_create_product_invalid_input_is_422_and_creates_nothing(
    client, auth, query, overrides, field
):
    response = client.post("/api/products", json=valid_payload(**overrides), headers=auth.admin)
    assert_problem(response, 422, field)
    assert product_count(query) == 0


def test_create_product_three_decimal_price_is_rejected_not_rounded(client, auth, query):
    response = client.post("/api/products", json=valid_payload(price="1.999"), headers=auth.admin)
    body = assert_problem(response, 422, "price")
    assert any("2 decimal" in message for message in body["errors"]["price"])
    assert product_count(query) == 0


@pytest.mark.parametrize("missing", ["name", "price"])
def test_create_product_missing_required_field_is_422(client, auth, query, missing):
    payload = valid_payload()
    del payload[missing]
    response = client.post("/api/products", json=payload, headers=auth.admin)
    assert_problem(response, 422, missing)
    assert product_count(query) == 0


def test_create_product_reports_every_invalid_field(client, auth):
    response = client.post(
        "/api/products", json={"name": " ", "price": "-1", "stock": 1.5}, headers=auth.admin
    )
    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"name", "price", "stock"}


def test_create_product_with_trailing_slash_is_created_without_redirect(client, auth, query):
    response = client.post("/api/products/", json=valid_payload(), headers=auth.admin)
    assert response.status_code == 201
    assert response.get_json()["name"] == "Coffee mug"
    assert product_count(query) == 1


def test_create_product_form_data_is_415(client, auth, query):
    response = client.post(
        "/api/products", data={"name": "Mug", "price": "1.00"}, headers=auth.admin
    )
    assert_problem(response, 415)
    assert product_count(query) == 0


def test_create_product_malformed_json_is_400(client, auth, query):
    response = client.post(
        "/api/products",
        data='{"name": "Mug", "price": ',
        content_type="application/json",
        headers=auth.admin,
    )
    assert_problem(response, 400)
    assert product_count(query) == 0


@pytest.mark.parametrize("payload", [[valid_payload()], "a string", 42, None])
def test_create_product_json_that_is_not_an_object_is_422(client, auth, query, payload):
    response = client.post(
        "/api/products",
        data=json.dumps(payload),
        content_type="application/json",
        headers=auth.admin,
    )
    assert_problem(response, 422)
    assert product_count(query) == 0


# --- update --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_product_changes_given_fields(client, auth, make_product, method):
    product = make_product(name="Old", description="Old text.", price="1.00", stock=1)
    changes = {"name": "New", "description": "New text.", "price": "2.50", "stock": 9}
    response = client.open(
        f"/api/products/{product.id}", method=method, json=changes, headers=auth.admin
    )
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == PRODUCT_FIELDS
    assert body["id"] == product.id
    assert {key: body[key] for key in changes} == changes
    assert body["created_at"] == product.created_at
    detail = client.get(f"/api/products/{product.id}").get_json()
    assert detail == body


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_product_omitted_fields_keep_their_value(client, auth, make_product, method):
    product = make_product(name="Mug", description="Blue.", price="3.00", stock=4)
    response = client.open(
        f"/api/products/{product.id}", method=method, json={"price": 4.25}, headers=auth.admin
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["price"] == "4.25"
    assert body["name"] == "Mug"
    assert body["description"] == "Blue."
    assert body["stock"] == 4


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_product_with_empty_object_changes_nothing(client, auth, make_product, method):
    product = make_product(name="Mug", price="3.00", stock=4)
    response = client.open(
        f"/api/products/{product.id}", method=method, json={}, headers=auth.admin
    )
    assert response.status_code == 200
    body = response.get_json()
    assert {k: body[k] for k in ("name", "description", "price", "stock")} == {
        "name": "Mug",
        "description": product.description,
        "price": "3.00",
        "stock": 4,
    }


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_product_does_not_reset_stock_or_description_to_defaults(
    client, auth, make_product, method
):
    product = make_product(description="Keep me.", stock=8)
    response = client.open(
        f"/api/products/{product.id}", method=method, json={"name": "Renamed"}, headers=auth.admin
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "Renamed"
    assert body["description"] == "Keep me."
    assert body["stock"] == 8


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_unknown_product_is_404(client, auth, make_product, method):
    product = make_product()
    response = client.open(
        f"/api/products/{product.id + 1000}", method=method, json={"stock": 1}, headers=auth.admin
    )
    assert_problem(response, 404)


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_deleted_product_is_404(client, auth, make_product, method):
    product = make_product()
    assert client.delete(f"/api/products/{product.id}", headers=auth.admin).status_code == 204
    response = client.open(
        f"/api/products/{product.id}", method=method, json={"stock": 1}, headers=auth.admin
    )
    assert_problem(response, 404)


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_product_id_beyond_64_bits_is_404(client, auth, method):
    response = client.open(
        "/api/products/99999999999999999999999",
        method=method,
        json={"stock": 1},
        headers=auth.admin,
    )
    assert_problem(response, 404)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price": "1.999"}, "price"),
        ({"price": "NaN"}, "price"),
        ({"price": "Infinity"}, "price"),
        ({"price": "-1.00"}, "price"),
        ({"price": "10000000000.00"}, "price"),
        ({"name": "   "}, "name"),
        ({"name": ""}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"stock": 1.5}, "stock"),
        ({"stock": "3"}, "stock"),
        ({"stock": -1}, "stock"),
        ({"id": 12345}, "id"),
        ({"created_at": "2020-01-01T00:00:00+00:00"}, "created_at"),
    ],
)
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_product_invalid_input_is_422_and_changes_nothing(
    client, auth, make_product, method, changes, field
):
    product = make_product(name="Mug", price="3.00", stock=4)
    response = client.open(
        f"/api/products/{product.id}", method=method, json=changes, headers=auth.admin
    )
    assert_problem(response, 422, field)
    assert client.get(f"/api/products/{product.id}").get_json() == vars(product)


def test_update_product_rejects_invalid_field_even_with_valid_ones(client, auth, make_product):
    product = make_product(name="Mug", price="3.00", stock=4)
    response = client.patch(
        f"/api/products/{product.id}",
        json={"name": "Renamed", "price": "1.999"},
        headers=auth.admin,
    )
    assert_problem(response, 422, "price")
    assert client.get(f"/api/products/{product.id}").get_json()["name"] == "Mug"


# --- delete --------------------------------------------------------------------------------


def test_delete_product_is_204_with_empty_body(client, auth, make_product):
    product = make_product()
    response = client.delete(f"/api/products/{product.id}", headers=auth.admin)
    assert response.status_code == 204
    assert response.get_data() == b""


def test_deleted_product_detail_is_404(client, auth, make_product):
    product = make_product()
    client.delete(f"/api/products/{product.id}", headers=auth.admin)
    assert_problem(client.get(f"/api/products/{product.id}"), 404)


def test_delete_product_leaves_other_products_alone(client, auth, make_product):
    kept = make_product()
    gone = make_product()
    client.delete(f"/api/products/{gone.id}", headers=auth.admin)
    response = client.get(f"/api/products/{kept.id}")
    assert response.status_code == 200
    assert response.get_json() == vars(kept)


def test_delete_product_removes_it_from_every_cart(client, auth, make_product):
    product = make_product(price="5.00", stock=10)
    other = make_product(price="2.00", stock=10)
    bob = auth.user("bob")
    for headers, quantity in ((auth.customer, 2), (bob.headers, 3)):
        response = client.post(
            "/api/cart", json={"product_id": product.id, "quantity": quantity}, headers=headers
        )
        assert response.status_code == 200
    response = client.post("/api/cart", json={"product_id": other.id}, headers=auth.customer)
    assert response.status_code == 200

    assert client.delete(f"/api/products/{product.id}", headers=auth.admin).status_code == 204

    customer_cart = client.get("/api/cart", headers=auth.customer).get_json()
    assert [line["product_id"] for line in customer_cart["items"]] == [other.id]
    assert customer_cart["total"] == "2.00"
    assert customer_cart["item_count"] == 1
    bob_cart = client.get("/api/cart", headers=bob.headers).get_json()
    assert bob_cart == {"items": [], "total": "0.00", "item_count": 0}


def test_delete_product_twice_is_404(client, auth, make_product):
    product = make_product()
    assert client.delete(f"/api/products/{product.id}", headers=auth.admin).status_code == 204
    assert_problem(client.delete(f"/api/products/{product.id}", headers=auth.admin), 404)


def test_delete_unknown_product_is_404(client, auth, make_product):
    product = make_product()
    assert_problem(client.delete(f"/api/products/{product.id + 1000}", headers=auth.admin), 404)
    assert client.get(f"/api/products/{product.id}").status_code == 200


def test_delete_product_id_beyond_64_bits_is_404(client, auth):
    response = client.delete("/api/products/99999999999999999999999", headers=auth.admin)
    assert_problem(response, 404)


# --- authorization -------------------------------------------------------------------------

WRITE_REQUESTS = [
    ("POST", "/api/products", valid_payload()),
    ("PUT", "/api/products/{id}", {"name": "Hacked"}),
    ("PATCH", "/api/products/{id}", {"name": "Hacked"}),
    ("DELETE", "/api/products/{id}", None),
]


def _snapshot(client):
    return client.get("/api/products?per_page=100").get_json()


@pytest.mark.parametrize(("method", "url", "payload"), WRITE_REQUESTS)
def test_admin_routes_without_token_are_401(client, make_product, method, url, payload):
    product = make_product()
    before = _snapshot(client)
    response = client.open(url.format(id=product.id), method=method, json=payload)
    assert_problem(response, 401)
    assert _snapshot(client) == before


@pytest.mark.parametrize(("method", "url", "payload"), WRITE_REQUESTS)
def test_admin_routes_with_invalid_token_are_401(client, make_product, method, url, payload):
    product = make_product()
    before = _snapshot(client)
    response = client.open(
        url.format(id=product.id),
        method=method,
        json=payload,
        headers={"Authorization": "Bearer not-a-jwt"},
    )
    assert_problem(response, 401)
    assert _snapshot(client) == before


@pytest.mark.parametrize(("method", "url", "payload"), WRITE_REQUESTS)
def test_admin_routes_with_customer_token_are_403(client, auth, make_product, method, url, payload):
    product = make_product()
    before = _snapshot(client)
    response = client.open(
        url.format(id=product.id), method=method, json=payload, headers=auth.customer
    )
    assert_problem(response, 403)
    assert _snapshot(client) == before


@pytest.mark.parametrize(
    ("method", "url"),
    [("POST", "/api/products"), ("PUT", "/api/products/{id}"), ("PATCH", "/api/products/{id}")],
)
def test_invalid_body_from_customer_is_403_not_422(client, auth, make_product, method, url):
    product = make_product()
    response = client.open(
        url.format(id=product.id),
        method=method,
        json={"name": "", "price": "1.999", "stock": -1, "id": 5},
        headers=auth.customer,
    )
    assert_problem(response, 403)


def test_invalid_body_without_token_is_401_not_422(client, query):
    response = client.post("/api/products", json={"price": "NaN"})
    assert_problem(response, 401)
    assert product_count(query) == 0


def test_customer_update_of_unknown_product_is_403_not_404(client, auth):
    response = client.patch("/api/products/123456", json={"stock": 1}, headers=auth.customer)
    assert_problem(response, 403)


def test_reading_products_needs_no_token(client, make_product):
    product = make_product()
    assert client.get("/api/products").status_code == 200
    assert client.get(f"/api/products/{product.id}").status_code == 200
