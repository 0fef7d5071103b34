"""The rendered catalog answers (app.api.caching): a kept copy is served only while the catalog
version it was rendered at is the committed one, whoever changed the catalog and through
whichever worker; staff-only answers are never kept."""

import pytest
from sqlalchemy import text

from app.api.caching import CatalogCache

# The kept answer and the rendered one differ only in their request id.
PER_REQUEST_HEADERS = {"X-Request-ID"}


def headers_of(response) -> dict:
    return {k: v for k, v in response.headers.items() if k not in PER_REQUEST_HEADERS}


def price_of(client, product_id: int) -> str:
    return client.get(f"/api/products/{product_id}").get_json()["price"]


@pytest.fixture
def product(make_product):
    return make_product(name="Coffee mug", price="9.99", stock=5)


@pytest.mark.parametrize(
    "path",
    [
        "/api/products/{id}",
        "/api/products/by-slug/coffee-mug",
        "/api/products?per_page=5",
        "/api/products?q=mug&sort=relevance",
        "/api/categories",
    ],
)
def test_a_kept_answer_is_the_rendered_one_without_a_query(client, product, statements, path):
    path = path.format(id=product.id)
    assert statements(client, path) >= 1
    first = client.get(path)
    # Only the version read, on a connection of its own (the session sends nothing).
    assert statements(client, path) == 0
    second = client.get(path)
    assert second.data == first.data
    assert headers_of(second) == headers_of(first)
    assert second.headers["Cache-Control"] == "public, max-age=60"


def test_a_kept_answer_still_honours_if_none_match(client, product):
    etag = client.get(f"/api/products/{product.id}").headers["ETag"]
    again = client.get(f"/api/products/{product.id}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_an_admin_change_shows_on_the_next_read(client, auth, product):
    assert price_of(client, product.id) == "9.99"
    client.get("/api/products?per_page=5")
    response = client.patch(
        f"/api/products/{product.id}", json={"price": "12.50"}, headers=auth.admin
    )
    assert response.status_code == 200
    assert price_of(client, product.id) == "12.50"
    listed = client.get("/api/products?per_page=5").get_json()["items"]
    assert [item["price"] for item in listed] == ["12.50"]


def test_a_checkout_shows_the_new_stock_on_the_next_read(client, auth, product):
    assert client.get(f"/api/products/{product.id}").get_json()["stock"] == 5
    line = {"product_id": product.id, "quantity": 2}
    assert client.post("/api/cart", json=line, headers=auth.customer).status_code == 200
    assert client.post("/api/orders", headers=auth.customer).status_code == 201
    assert client.get(f"/api/products/{product.id}").get_json()["stock"] == 3


def test_a_category_rename_shows_in_its_products(client, auth, make_product):
    category = client.post(
        "/api/categories", json={"name": "Coffee"}, headers=auth.admin
    ).get_json()
    mug = make_product(name="Mug", category_id=category["id"])
    assert client.get(f"/api/products/{mug.id}").get_json()["category"]["name"] == "Coffee"
    renamed = client.patch(
        f"/api/categories/{category['id']}", json={"name": "Tea"}, headers=auth.admin
    )
    assert renamed.status_code == 200
    assert client.get(f"/api/products/{mug.id}").get_json()["category"]["name"] == "Tea"
    assert client.get("/api/categories").get_json()["items"][0]["name"] == "Tea"


def test_a_deleted_product_is_gone_on_the_next_read(client, auth, product):
    assert client.get(f"/api/products/{product.id}").status_code == 200
    assert client.delete(f"/api/products/{product.id}", headers=auth.admin).status_code == 204
    assert client.get(f"/api/products/{product.id}").status_code == 404


def test_a_change_made_through_another_worker_shows_at_once(client, make_app, auth, product):
    """Two apps on one database are two workers: each keeps its own copies, and a write
    acknowledged by one is seen by the other's very next read."""
    other = make_app().test_client()
    assert price_of(client, product.id) == price_of(other, product.id) == "9.99"
    response = other.patch(
        f"/api/products/{product.id}", json={"price": "7.25"}, headers=auth.admin
    )
    assert response.status_code == 200
    assert price_of(client, product.id) == "7.25"


def test_a_change_made_outside_the_app_shows_at_once(client, query, product):
    """The version is the database's: a bulk import or psql counts like the API."""
    assert price_of(client, product.id) == "9.99"

    def reprice(session):
        session.execute(text("UPDATE products SET price = 4.00 WHERE id = :id"), {"id": product.id})
        session.commit()

    query(reprice)
    assert price_of(client, product.id) == "4.00"


def test_staff_answers_are_never_kept(client, auth, make_product):
    hidden = make_product(name="Secret", is_active=False)
    staff = client.get("/api/products?include_inactive=true", headers=auth.admin)
    assert [item["id"] for item in staff.get_json()["items"]] == [hidden.id]
    assert staff.headers["Cache-Control"] == "no-store"
    assert client.get("/api/products").get_json()["items"] == []
    assert client.get("/api/products?include_inactive=true").status_code == 401


def test_without_the_version_the_read_is_rendered(client, monkeypatch, product):
    """A version that cannot be read (the database restarting) only costs the copy."""
    assert price_of(client, product.id) == "9.99"
    monkeypatch.setattr(CatalogCache, "_connect", lambda self: 1 / 0)
    client.application.extensions["catalog_cache"]._drop_connection()
    response = client.get(f"/api/products/{product.id}")
    assert (response.status_code, response.get_json()["price"]) == (200, "9.99")


def test_the_copies_stay_within_their_budget(make_app, make_product):
    products = [make_product(name=f"Item {i}") for i in range(6)]
    app = make_app(CATALOG_CACHE_MAX_BYTES=1000)
    client = app.test_client()
    for item in products:
        assert client.get(f"/api/products/{item.id}").status_code == 200
    cache = app.extensions["catalog_cache"]
    assert 0 < cache.size <= 1000
    assert cache.size == sum(len(entry.body) for entry in cache.entries.values())
    assert len(cache.entries) < len(products)


def test_no_copies_are_kept_when_turned_off(make_app, product):
    app = make_app(CATALOG_CACHE_MAX_BYTES=0)
    assert app.test_client().get(f"/api/products/{product.id}").status_code == 200
    assert "catalog_cache" not in app.extensions
