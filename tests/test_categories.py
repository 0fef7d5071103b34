"""Categories: public reads (cached), admin create/update/delete, slugs, the tree's rules and
what a delete does to products and sub-categories."""

from datetime import datetime

import pytest
from sqlalchemy import select

from app.platform.models import Category, Product
from tests.helpers import assert_problem

CATEGORY_FIELDS = {"id", "name", "slug", "parent_id", "description", "created_at", "updated_at"}
EMPTY_PAGE = {"items": [], "page": 1, "per_page": 20, "total": 0, "pages": 0}
FORCE_HINT = "?force=true"


def create(client, auth, **payload) -> dict:
    """POST a category as an admin; the 201 body."""
    response = client.post("/api/categories", json=payload, headers=auth.admin)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def expected_category(body: dict, **fields) -> dict:
    """The category body with these fields; id and timestamps are taken from `body`."""
    assert set(body) == CATEGORY_FIELDS
    for stamp in ("created_at", "updated_at"):
        assert body[stamp].endswith("+00:00"), body
        assert datetime.fromisoformat(body[stamp]).utcoffset().total_seconds() == 0
    defaults = {"parent_id": None, "description": ""}
    stamps = {key: body[key] for key in ("id", "created_at", "updated_at")}
    return defaults | fields | stamps


def categories_in_db(query) -> list[tuple]:
    return query(
        lambda s: [
            (c.id, c.name, c.slug, c.parent_id, c.description)
            for c in s.scalars(select(Category).order_by(Category.id))
        ]
    )


def products_in_db(query) -> list[tuple]:
    return query(
        lambda s: [
            (p.id, p.name, p.category_id, p.deleted_at is not None)
            for p in s.scalars(select(Product).order_by(Product.id))
        ]
    )


# --- reads -----------------------------------------------------------------------------------


def test_list_categories_empty(client):
    response = client.get("/api/categories")
    assert response.status_code == 200
    assert response.get_json() == EMPTY_PAGE


def test_list_categories_is_public_and_ordered_by_id(client, auth):
    coffee = create(client, auth, name="Coffee")
    tea = create(client, auth, name="Tea", description="Leaves.")
    beans = create(client, auth, name="Beans", parent_id=coffee["id"])

    response = client.get("/api/categories")  # no token
    assert response.status_code == 200
    assert response.get_json() == {
        "items": [coffee, tea, beans],
        "page": 1,
        "per_page": 20,
        "total": 3,
        "pages": 1,
    }
    assert [c["id"] for c in (coffee, tea, beans)] == sorted(c["id"] for c in (coffee, tea, beans))


def test_list_categories_pagination(client, auth):
    made = [create(client, auth, name=f"Category {n}") for n in range(5)]
    response = client.get("/api/categories?page=2&per_page=2")
    assert response.status_code == 200
    assert response.get_json() == {
        "items": made[2:4],
        "page": 2,
        "per_page": 2,
        "total": 5,
        "pages": 3,
    }


@pytest.mark.parametrize(
    ("query_string", "field"),
    [("per_page=0", "per_page"), ("per_page=101", "per_page"), ("page=0", "page"), ("pg=1", "pg")],
)
def test_list_categories_invalid_query_is_422_naming_the_parameter(client, query_string, field):
    body = assert_problem(client.get(f"/api/categories?{query_string}"), 422, field)
    assert set(body["errors"]) == {field}


def test_list_categories_with_trailing_slash_is_served_without_redirect(client, auth):
    coffee = create(client, auth, name="Coffee")
    response = client.get("/api/categories/")
    assert response.status_code == 200
    assert response.get_json()["items"] == [coffee]


def test_get_category_is_public(client, auth):
    coffee = create(client, auth, name="Coffee", description="Beans, ground and whole.")
    response = client.get(f"/api/categories/{coffee['id']}")  # no token
    assert response.status_code == 200
    assert response.get_json() == coffee
    assert coffee == expected_category(
        coffee, name="Coffee", slug="coffee", description="Beans, ground and whole."
    )


@pytest.mark.parametrize("category_id", ["1000", str(2**63), "abc", "-1"])
def test_get_unknown_category_is_404(client, category_id):
    body = assert_problem(client.get(f"/api/categories/{category_id}"), 404)
    if category_id == "1000":
        assert body["detail"] == "Category 1000 was not found."


# --- caching ---------------------------------------------------------------------------------


@pytest.mark.parametrize("detail", [False, True], ids=["list", "detail"])
def test_public_reads_are_cacheable_and_conditional(client, auth, detail):
    coffee = create(client, auth, name="Coffee")
    url = f"/api/categories/{coffee['id']}" if detail else "/api/categories"

    first = client.get(url)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    assert etag
    body = first.get_json()
    assert (body if detail else body["items"][0]) == coffee

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag

    renamed = client.patch(
        f"/api/categories/{coffee['id']}", json={"name": "Coffee beans"}, headers=auth.admin
    )
    assert renamed.status_code == 200
    assert renamed.get_json()["name"] == "Coffee beans"

    after = client.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    assert after.headers["Cache-Control"] == "public, max-age=60"
    body = after.get_json()
    assert (body if detail else body["items"][0]) == renamed.get_json()


# --- create ----------------------------------------------------------------------------------


def test_create_category_returns_201_with_body_and_location(client, auth, query):
    response = client.post(
        "/api/categories",
        json={"name": "Coffee", "description": "Beans, ground and whole."},
        headers=auth.admin,
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body == expected_category(
        body, name="Coffee", slug="coffee", description="Beans, ground and whole."
    )
    assert response.headers["Location"].endswith(f"/api/categories/{body['id']}")
    detail = client.get(response.headers["Location"])
    assert detail.status_code == 200
    assert detail.get_json() == body
    assert categories_in_db(query) == [
        (body["id"], "Coffee", "coffee", None, "Beans, ground and whole.")
    ]


def test_create_category_with_parent_and_explicit_slug(client, auth):
    coffee = create(client, auth, name="Coffee")
    response = client.post(
        "/api/categories",
        json={"name": "Whole beans", "slug": "beans", "parent_id": coffee["id"]},
        headers=auth.admin,
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body == expected_category(body, name="Whole beans", slug="beans", parent_id=coffee["id"])


def test_create_category_with_trailing_slash_is_created_without_redirect(client, auth, query):
    response = client.post("/api/categories/", json={"name": "Coffee"}, headers=auth.admin)
    assert response.status_code == 201
    assert response.get_json()["slug"] == "coffee"
    assert len(categories_in_db(query)) == 1


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Coffee & Tea", "coffee-tea"),
        ("  Crème brûlée  ", "creme-brulee"),
        ("Über Kaffee", "uber-kaffee"),
        ("!!!", "category"),  # nothing left to make a slug of
    ],
)
def test_create_category_makes_the_slug_from_the_name(client, auth, name, slug):
    body = create(client, auth, name=name)
    assert body == expected_category(body, name=name, slug=slug)


def test_create_category_slug_from_a_taken_name_gets_a_number(client, auth, query):
    first = create(client, auth, name="Coffee")
    second = create(client, auth, name="Coffee")
    third = create(client, auth, name="coffee!")
    assert (first["slug"], second["slug"], third["slug"]) == ("coffee", "coffee-2", "coffee-3")
    assert [row[2] for row in categories_in_db(query)] == ["coffee", "coffee-2", "coffee-3"]


def test_create_category_explicit_slug_taken_is_409_naming_it(client, auth, query):
    create(client, auth, name="Coffee")
    before = categories_in_db(query)
    response = client.post(
        "/api/categories", json={"name": "Other", "slug": "coffee"}, headers=auth.admin
    )
    body = assert_problem(response, 409)
    assert body["detail"] == "Another category has the slug 'coffee'."
    assert categories_in_db(query) == before


def test_create_category_unknown_parent_is_422_naming_parent_id(client, auth, query):
    response = client.post(
        "/api/categories", json={"name": "Beans", "parent_id": 999}, headers=auth.admin
    )
    body = assert_problem(response, 422, "parent_id")
    assert body["errors"] == {"parent_id": ["No category has the id 999."]}
    assert categories_in_db(query) == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"name": None}, "name"),
        ({"name": "Coffee", "slug": "Coffee"}, "slug"),
        ({"name": "Coffee", "slug": "coffee beans"}, "slug"),
        ({"name": "Coffee", "slug": "-coffee"}, "slug"),
        ({"name": "Coffee", "slug": ""}, "slug"),
        ({"name": "Coffee", "slug": None}, "slug"),
        ({"name": "Coffee", "parent_id": 0}, "parent_id"),
        ({"name": "Coffee", "parent_id": "1"}, "parent_id"),
        ({"name": "Coffee", "parent_id": 2**63}, "parent_id"),
        ({"name": "Coffee", "description": None}, "description"),
        ({"name": "Coffee", "id": 5}, "id"),
        ({"name": "Coffee", "created_at": "2026-01-01T00:00:00+00:00"}, "created_at"),
        ({"name": "Coffee", "products": []}, "products"),
    ],
)
def test_create_category_invalid_input_is_422_and_creates_nothing(
    client, auth, query, payload, field
):
    response = client.post("/api/categories", json=payload, headers=auth.admin)
    assert_problem(response, 422, field)
    assert categories_in_db(query) == []


# --- update ----------------------------------------------------------------------------------


def test_patch_renames_and_keeps_the_slug(client, auth, query):
    coffee = create(client, auth, name="Coffee", description="Beans.")
    response = client.patch(
        f"/api/categories/{coffee['id']}", json={"name": "Coffee beans"}, headers=auth.admin
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body == expected_category(body, name="Coffee beans", slug="coffee", description="Beans.")
    assert body["id"] == coffee["id"] and body["created_at"] == coffee["created_at"]
    assert body["updated_at"] >= coffee["updated_at"]
    assert client.get(f"/api/categories/{coffee['id']}").get_json() == body
    assert categories_in_db(query) == [(coffee["id"], "Coffee beans", "coffee", None, "Beans.")]


def test_put_changes_the_given_fields_only(client, auth):
    coffee = create(client, auth, name="Coffee")
    drinks = create(client, auth, name="Drinks")
    response = client.put(
        f"/api/categories/{coffee['id']}",
        json={"slug": "coffee-beans", "parent_id": drinks["id"], "description": "Roasted."},
        headers=auth.admin,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body == expected_category(
        body, name="Coffee", slug="coffee-beans", parent_id=drinks["id"], description="Roasted."
    )


def test_update_can_move_a_category_to_the_top(client, auth):
    coffee = create(client, auth, name="Coffee")
    beans = create(client, auth, name="Beans", parent_id=coffee["id"])
    response = client.patch(
        f"/api/categories/{beans['id']}", json={"parent_id": None}, headers=auth.admin
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body == expected_category(body, name="Beans", slug="beans", parent_id=None)


def test_update_may_keep_its_own_slug(client, auth):
    coffee = create(client, auth, name="Coffee")
    response = client.put(
        f"/api/categories/{coffee['id']}",
        json={"name": "Café", "slug": "coffee"},
        headers=auth.admin,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body == expected_category(body, name="Café", slug="coffee")


def test_update_to_a_taken_slug_is_409_and_changes_nothing(client, auth, query):
    create(client, auth, name="Coffee")
    tea = create(client, auth, name="Tea")
    before = categories_in_db(query)
    response = client.patch(
        f"/api/categories/{tea['id']}", json={"name": "Tea!", "slug": "coffee"}, headers=auth.admin
    )
    body = assert_problem(response, 409)
    assert body["detail"] == "Another category has the slug 'coffee'."
    assert categories_in_db(query) == before


def test_update_to_an_unknown_parent_is_422_naming_parent_id(client, auth, query):
    coffee = create(client, auth, name="Coffee")
    before = categories_in_db(query)
    response = client.patch(
        f"/api/categories/{coffee['id']}", json={"parent_id": 999}, headers=auth.admin
    )
    body = assert_problem(response, 422, "parent_id")
    assert body["errors"] == {"parent_id": ["No category has the id 999."]}
    assert categories_in_db(query) == before


def test_a_category_cannot_be_its_own_parent(client, auth, query):
    coffee = create(client, auth, name="Coffee")
    before = categories_in_db(query)
    response = client.patch(
        f"/api/categories/{coffee['id']}", json={"parent_id": coffee["id"]}, headers=auth.admin
    )
    body = assert_problem(response, 422, "parent_id")
    assert body["errors"] == {"parent_id": ["A category cannot be its own parent."]}
    assert categories_in_db(query) == before


@pytest.mark.parametrize("below", ["child", "grandchild"])
def test_a_category_cannot_move_below_itself(client, auth, query, below):
    coffee = create(client, auth, name="Coffee")
    beans = create(client, auth, name="Beans", parent_id=coffee["id"])
    whole = create(client, auth, name="Whole", parent_id=beans["id"])
    target = beans if below == "child" else whole
    before = categories_in_db(query)
    response = client.put(
        f"/api/categories/{coffee['id']}", json={"parent_id": target["id"]}, headers=auth.admin
    )
    body = assert_problem(response, 422, "parent_id")
    assert body["errors"] == {
        "parent_id": [f"Category {target['id']} is below this category: it cannot be its parent."]
    }
    assert categories_in_db(query) == before


def test_a_category_may_move_below_a_sibling(client, auth):
    coffee = create(client, auth, name="Coffee")
    beans = create(client, auth, name="Beans", parent_id=coffee["id"])
    ground = create(client, auth, name="Ground", parent_id=coffee["id"])
    response = client.patch(
        f"/api/categories/{ground['id']}", json={"parent_id": beans["id"]}, headers=auth.admin
    )
    assert response.status_code == 200
    assert response.get_json()["parent_id"] == beans["id"]


def test_update_unknown_category_is_404(client, auth):
    response = client.patch("/api/categories/999", json={"name": "X"}, headers=auth.admin)
    body = assert_problem(response, 404)
    assert body["detail"] == "Category 999 was not found."


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"parent_id": 0}, "parent_id"),
        ({"id": 7}, "id"),
    ],
)
def test_update_invalid_input_is_422_and_changes_nothing(client, auth, query, payload, field):
    coffee = create(client, auth, name="Coffee")
    before = categories_in_db(query)
    response = client.patch(f"/api/categories/{coffee['id']}", json=payload, headers=auth.admin)
    assert_problem(response, 422, field)
    assert categories_in_db(query) == before


def test_renaming_a_category_changes_the_products_that_show_it(client, auth):
    coffee = create(client, auth, name="Coffee")
    made = client.post(
        "/api/products",
        json={"name": "Espresso beans", "price": "1.00", "category_id": coffee["id"]},
        headers=auth.admin,
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    product = made.get_json()
    assert product["category_id"] == coffee["id"]
    assert product["category"] == {"id": coffee["id"], "name": "Coffee", "slug": "coffee"}

    renamed = client.patch(
        f"/api/categories/{coffee['id']}", json={"name": "Coffee beans"}, headers=auth.admin
    )
    assert renamed.status_code == 200

    response = client.get(f"/api/products/{product['id']}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["category_id"] == coffee["id"]
    assert body["category"] == {"id": coffee["id"], "name": "Coffee beans", "slug": "coffee"}


# --- delete ----------------------------------------------------------------------------------


def test_delete_category_is_204_and_gone(client, auth, query):
    coffee = create(client, auth, name="Coffee")
    tea = create(client, auth, name="Tea")
    response = client.delete(f"/api/categories/{coffee['id']}", headers=auth.admin)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert_problem(client.get(f"/api/categories/{coffee['id']}"), 404)
    assert client.get("/api/categories").get_json()["items"] == [tea]
    assert [row[0] for row in categories_in_db(query)] == [tea["id"]]


def test_delete_unknown_category_is_404(client, auth):
    body = assert_problem(client.delete("/api/categories/999", headers=auth.admin), 404)
    assert body["detail"] == "Category 999 was not found."


def test_delete_with_an_invalid_force_is_422(client, auth, query):
    coffee = create(client, auth, name="Coffee")
    response = client.delete(f"/api/categories/{coffee['id']}?force=maybe", headers=auth.admin)
    assert_problem(response, 422, "force")
    assert len(categories_in_db(query)) == 1


def test_delete_with_products_is_409_and_changes_nothing(client, auth, make_product, query):
    coffee = create(client, auth, name="Coffee")
    make_product(name="Beans", category_id=coffee["id"])
    make_product(name="Hidden beans", category_id=coffee["id"], is_active=False)
    before = (categories_in_db(query), products_in_db(query))

    response = client.delete(f"/api/categories/{coffee['id']}", headers=auth.admin)
    body = assert_problem(response, 409)
    assert body["detail"] == (
        "Category 'Coffee' has 2 products and 0 sub-categories: delete it with ?force=true "
        "to move its products to no category and its sub-categories up to its parent."
    )
    assert (categories_in_db(query), products_in_db(query)) == before
    assert client.get(f"/api/categories/{coffee['id']}").get_json() == coffee


def test_delete_with_force_moves_products_to_no_category(client, auth, make_product, query):
    coffee = create(client, auth, name="Coffee")
    tea = create(client, auth, name="Tea")
    beans = make_product(name="Beans", category_id=coffee["id"])
    hidden = make_product(name="Hidden beans", category_id=coffee["id"], is_active=False)
    green = make_product(name="Green tea", category_id=tea["id"])

    response = client.delete(f"/api/categories/{coffee['id']}?force=true", headers=auth.admin)
    assert response.status_code == 204
    assert response.get_data() == b""

    assert_problem(client.get(f"/api/categories/{coffee['id']}"), 404)
    detail = client.get(f"/api/products/{beans.id}")
    assert detail.status_code == 200
    body = detail.get_json()
    assert (body["name"], body["category_id"], body["category"]) == ("Beans", None, None)
    assert products_in_db(query) == [
        (beans.id, "Beans", None, False),
        (hidden.id, "Hidden beans", None, False),
        (green.id, "Green tea", tea["id"], False),
    ]
    assert client.get(f"/api/products/{green.id}").get_json()["category"] == {
        "id": tea["id"],
        "name": "Tea",
        "slug": "tea",
    }


def test_deleted_products_do_not_hold_a_category(client, auth, make_product, query):
    coffee = create(client, auth, name="Coffee")
    gone = make_product(name="Old beans", category_id=coffee["id"])
    assert client.delete(f"/api/products/{gone.id}", headers=auth.admin).status_code == 204

    response = client.delete(f"/api/categories/{coffee['id']}", headers=auth.admin)
    assert response.status_code == 204
    assert response.get_data() == b""
    assert products_in_db(query) == [(gone.id, "Old beans", None, True)]
    assert categories_in_db(query) == []


def test_delete_with_sub_categories_is_409_and_changes_nothing(client, auth, query):
    coffee = create(client, auth, name="Coffee")
    create(client, auth, name="Beans", parent_id=coffee["id"])
    before = categories_in_db(query)

    response = client.delete(f"/api/categories/{coffee['id']}", headers=auth.admin)
    body = assert_problem(response, 409)
    assert body["detail"] == (
        "Category 'Coffee' has 0 products and 1 sub-category: delete it with ?force=true "
        "to move its products to no category and its sub-categories up to its parent."
    )
    assert FORCE_HINT in body["detail"]
    assert categories_in_db(query) == before


def test_delete_with_force_lifts_sub_categories_to_its_parent(client, auth, make_product, query):
    drinks = create(client, auth, name="Drinks")
    coffee = create(client, auth, name="Coffee", parent_id=drinks["id"])
    beans = create(client, auth, name="Beans", parent_id=coffee["id"])
    ground = create(client, auth, name="Ground", parent_id=coffee["id"])
    whole = create(client, auth, name="Whole", parent_id=beans["id"])
    mug = make_product(name="Mug", category_id=coffee["id"])

    response = client.delete(f"/api/categories/{coffee['id']}?force=true", headers=auth.admin)
    assert response.status_code == 204
    assert response.get_data() == b""

    listed = client.get("/api/categories").get_json()["items"]
    assert [(c["name"], c["parent_id"]) for c in listed] == [
        ("Drinks", None),
        ("Beans", drinks["id"]),
        ("Ground", drinks["id"]),
        ("Whole", beans["id"]),  # grandchildren stay where they are
    ]
    assert categories_in_db(query) == [
        (drinks["id"], "Drinks", "drinks", None, ""),
        (beans["id"], "Beans", "beans", drinks["id"], ""),
        (ground["id"], "Ground", "ground", drinks["id"], ""),
        (whole["id"], "Whole", "whole", beans["id"], ""),
    ]
    body = client.get(f"/api/products/{mug.id}").get_json()
    assert (body["category_id"], body["category"]) == (None, None)


def test_delete_top_category_with_force_makes_its_children_top_level(client, auth):
    coffee = create(client, auth, name="Coffee")
    beans = create(client, auth, name="Beans", parent_id=coffee["id"])
    response = client.delete(f"/api/categories/{coffee['id']}?force=true", headers=auth.admin)
    assert response.status_code == 204
    body = client.get(f"/api/categories/{beans['id']}").get_json()
    assert body == expected_category(body, name="Beans", slug="beans", parent_id=None)


def test_a_freed_slug_can_be_used_again(client, auth):
    coffee = create(client, auth, name="Coffee")
    assert client.delete(f"/api/categories/{coffee['id']}", headers=auth.admin).status_code == 204
    again = create(client, auth, name="Coffee")
    assert again == expected_category(again, name="Coffee", slug="coffee")


# --- who may write ---------------------------------------------------------------------------

WRITES = [
    ("POST", "/api/categories", {"name": "Tea"}),
    ("PUT", "/api/categories/{id}", {"name": "Tea"}),
    ("PATCH", "/api/categories/{id}", {"name": "Tea"}),
    ("DELETE", "/api/categories/{id}", None),
    ("DELETE", "/api/categories/{id}?force=true", None),
]


@pytest.mark.parametrize(("method", "path", "payload"), WRITES)
@pytest.mark.parametrize("caller", ["anonymous", "customer"])
def test_writes_need_catalog_write(client, auth, query, method, path, payload, caller):
    coffee = create(client, auth, name="Coffee")
    before = categories_in_db(query)
    headers = auth.customer if caller == "customer" else {}
    kwargs = {"json": payload} if payload is not None else {}
    response = client.open(path.format(id=coffee["id"]), method=method, headers=headers, **kwargs)
    if caller == "customer":
        body = assert_problem(response, 403)
        assert body["missing_permission"] == "catalog:write"
    else:
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert categories_in_db(query) == before
