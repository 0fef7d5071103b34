"""The catalog: SKUs, slugs, categories on products, images, the active flag, search, filters,
sorting, cacheable reads, the same answers on SQLite and PostgreSQL, and bounded queries."""

import http.client
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import flask_migrate
import pytest
from sqlalchemy import update
from werkzeug.serving import make_server

from app import create_app
from app.catalog.products import create_product
from app.platform.db import db
from app.platform.models import Category, Product
from tests.databases import fresh_database
from tests.factories import roles_named
from tests.helpers import assert_problem

# --- a small catalog, loaded the same way into every database that needs it ------------------

CATEGORIES = [  # slug, name, parent slug
    ("coffee", "Coffee", None),
    ("beans", "Beans", "coffee"),
    ("ground", "Ground coffee", "coffee"),
    ("equipment", "Equipment", None),
    ("grinders", "Grinders", "equipment"),
    ("brewers", "Brewers", "equipment"),
    ("tea", "Tea", None),
]
PRODUCTS = [  # name, sku, description, price, stock, category slug
    ("Espresso beans dark roast", "BEA-001", "Whole beans from Brazil", "24.90", 25, "beans"),
    ("Filter beans light roast", "BEA-002", "Whole beans with citrus notes", "21.50", 0, "beans"),
    ("House blend ground coffee", "GRD-001", "Ground coffee for filter brewing", "12.00", 40,
     "ground"),
    ("Decaf ground coffee", "GRD-002", "Swiss water decaf", "13.50", 5, "ground"),
    ("Conical burr grinder", "GRN-001", "Hand grinder with ceramic burrs", "89.00", 8, "grinders"),
    ("Electric burr grinder", "GRN-002", "Flat burrs and forty settings", "199.00", 0, "grinders"),
    ("Ceramic dripper", "BRW-001", "Cone dripper for pour over coffee", "19.99", 30, "brewers"),
    ("French press", "BRW-002", "Glass press for coffee or tea", "34.00", 12, "brewers"),
    ("Gooseneck kettle", "KTL-001", "Pour over kettle with thermometer", "39.00", 10,
     "equipment"),
    ("Green tea sencha", "TEA-001", "Loose leaf green tea from Japan", "15.00", 50, "tea"),
    ("Black tea assam", "TEA-002", "Strong breakfast tea", "11.00", 0, "tea"),
    ("coffee mug", "MUG-001", "Stoneware mug for coffee and tea", "12.50", 60, None),
    ("Travel mug", "MUG-002", "Insulated mug keeps coffee hot", "24.00", 15, None),
    ("Paper filters", "FLT-100", "Unbleached paper filters for the dripper", "4.99", 200,
     "brewers"),
    ("Coffee scale", "SCL-001", "Scale with timer for brewing", "45.00", 3, "equipment"),
    ("Discontinued grinder", "GRN-000", "Old hand grinder", "9.00", 4, "grinders"),
]  # fmt: skip
INACTIVE_SKU = "GRN-000"
BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


def load_catalog() -> dict[str, int]:
    """Inside an app context: the categories and products above; returns product ids by SKU.
    created_at is fixed (1 hour apart, newest last), so every database sorts alike."""
    ids = {}
    for slug, name, parent in CATEGORIES:
        category = Category(name=name, slug=slug, parent_id=ids.get(parent))
        db.session.add(category)
        db.session.flush()
        ids[slug] = category.id
    db.session.commit()
    skus = {}
    for position, (name, sku, description, price, stock, category) in enumerate(PRODUCTS):
        product = create_product(
            {
                "name": name,
                "sku": sku,
                "description": description,
                "price": Decimal(price),
                "stock": stock,
                "category_id": ids.get(category),
                "is_active": sku != INACTIVE_SKU,
            }
        )
        skus[sku] = product.id
        created = BASE_TIME + timedelta(hours=position)
        db.session.execute(
            update(Product).where(Product.id == product.id).values(created_at=created)
        )
    db.session.commit()
    return skus


@pytest.fixture
def catalog(app):
    with app.app_context():
        return load_catalog()


def skus_of(body) -> list[str]:
    return [item["sku"] for item in body["items"]]


def listing(client, query: str = "", headers=None) -> dict:
    response = client.get(f"/api/products?{query}", headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# --- product fields ------------------------------------------------------------------------


def test_product_body_carries_the_catalog_fields(client, catalog):
    body = client.get(f"/api/products/{catalog['BEA-001']}").get_json()
    assert body["sku"] == "BEA-001"
    assert body["slug"] == "espresso-beans-dark-roast"
    assert body["category"] == {"id": body["category_id"], "name": "Beans", "slug": "beans"}
    assert body["images"] == []
    assert body["is_active"] is True


def test_old_clients_still_create_products_with_the_old_fields(client, auth):
    response = client.post(
        "/api/products", json={"name": "Plain mug", "price": "5.00"}, headers=auth.admin
    )
    assert response.status_code == 201
    body = response.get_json()
    assert (body["sku"], body["slug"], body["category"], body["images"], body["is_active"]) == (
        None,
        "plain-mug",
        None,
        [],
        True,
    )


def test_create_with_every_catalog_field(client, auth, catalog, query):
    tea = query(lambda s: s.query(Category).filter_by(slug="tea").one().id)
    images = [
        {"url": "https://cdn.example.com/teapot-1.jpg", "alt": "Teapot, front"},
        {"url": "http://cdn.example.com/teapot-2.jpg", "alt": ""},
    ]
    payload = {
        "name": "Cast iron teapot",
        "price": "45.00",
        "sku": "POT-001",
        "slug": "teapot",
        "category_id": tea,
        "images": images,
        "is_active": True,
    }
    response = client.post("/api/products", json=payload, headers=auth.admin)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["images"] == images  # order kept
    assert body["slug"] == "teapot"
    assert body["category"] == {"id": tea, "name": "Tea", "slug": "tea"}


def test_image_alt_defaults_to_empty(client, auth):
    payload = {"name": "Jar", "price": "3.00", "images": [{"url": "https://e.example.com/j.png"}]}
    body = client.post("/api/products", json=payload, headers=auth.admin).get_json()
    assert body["images"] == [{"url": "https://e.example.com/j.png", "alt": ""}]


def test_generated_slugs_are_unique(client, auth):
    slugs = [
        client.post(
            "/api/products", json={"name": "Café Crème!", "price": "1.00"}, headers=auth.admin
        ).get_json()["slug"]
        for _ in range(3)
    ]
    assert slugs == ["cafe-creme", "cafe-creme-2", "cafe-creme-3"]


def test_slug_is_stable_when_the_name_changes_unless_set(client, auth, catalog):
    url = f"/api/products/{catalog['MUG-002']}"
    renamed = client.patch(url, json={"name": "Commuter mug"}, headers=auth.admin).get_json()
    assert (renamed["name"], renamed["slug"]) == ("Commuter mug", "travel-mug")
    moved = client.patch(url, json={"slug": "commuter-mug"}, headers=auth.admin).get_json()
    assert moved["slug"] == "commuter-mug"
    assert client.get("/api/products/by-slug/commuter-mug").get_json()["id"] == catalog["MUG-002"]
    assert_problem(client.get("/api/products/by-slug/travel-mug"), 404)


@pytest.mark.parametrize("sku", ["BEA-001", "bea-001", "Bea-001"])
def test_sku_is_unique_case_insensitively(client, auth, catalog, sku):
    response = client.post(
        "/api/products", json={"name": "Copy", "price": "1.00", "sku": sku}, headers=auth.admin
    )
    body = assert_problem(response, 409)
    assert sku in body["detail"]


def test_taken_slug_is_409(client, auth, catalog):
    payload = {"name": "Other", "price": "1.00", "slug": "coffee-mug"}
    body = assert_problem(client.post("/api/products", json=payload, headers=auth.admin), 409)
    assert "coffee-mug" in body["detail"]


def test_a_product_may_keep_its_own_sku_and_slug(client, auth, catalog):
    url = f"/api/products/{catalog['MUG-001']}"
    response = client.put(url, json={"sku": "mug-001", "slug": "coffee-mug"}, headers=auth.admin)
    assert response.status_code == 200
    assert response.get_json()["sku"] == "mug-001"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sku", ""),
        ("sku", "has space"),
        ("sku", "x" * 65),
        ("slug", "Upper-Case"),
        ("slug", "trailing-"),
        ("slug", ""),
        ("images", [{"url": "ftp://files.example.com/a.jpg"}]),
        ("images", [{"url": "javascript:alert(1)"}]),
        ("images", [{"url": "not a url"}]),
        ("images", [{"alt": "no url"}]),
        ("images", [{"url": "https://e.example.com/a.jpg"}] * 21),
        ("images", "https://e.example.com/a.jpg"),
        ("category_id", "1"),
        ("category_id", 0),
        ("is_active", "maybe"),
    ],
)
def test_invalid_catalog_fields_are_422_naming_the_field(client, auth, field, value):
    payload = {"name": "Thing", "price": "1.00", field: value}
    response = client.post("/api/products", json=payload, headers=auth.admin)
    body = assert_problem(response, 422)
    assert list(body["errors"]) == [field]


def test_unknown_category_is_422(client, auth):
    payload = {"name": "Thing", "price": "1.00", "category_id": 999}
    body = assert_problem(client.post("/api/products", json=payload, headers=auth.admin), 422)
    assert body["errors"] == {"category_id": ["No category has the id 999."]}


def test_the_fast_product_body_equals_the_schema_dump(app, client, auth, catalog):
    import marshmallow as ma

    import seed_data
    from app.api.products.schemas import ProductSchema
    from app.catalog.products import product_page

    images = [{"url": "https://e.example.com/a.jpg", "alt": "A"}]
    client.post("/api/products", json={"name": "Imaged", "price": "0.10", "images": images},
                headers=auth.admin)  # fmt: skip
    with app.app_context():
        seed_data.seed_catalog(200)
        schema = ProductSchema()
        products = db.session.query(Product).all()
        assert len(products) > 200
        for product in products:
            assert schema.dump(product) == ma.Schema.dump(schema, product), product.sku
            # The product page, read as a row without the ORM, too.
            page = product_page(product.id, include_inactive=True)
            assert page == ma.Schema.dump(schema, product), product.sku
        assert schema.dump(products, many=True) == ma.Schema.dump(schema, products, many=True)


# --- inactive products and lookup by slug --------------------------------------------------


def test_inactive_products_are_hidden_from_customers(client, auth, catalog):
    hidden = catalog[INACTIVE_SKU]
    assert INACTIVE_SKU not in skus_of(listing(client, "per_page=100"))
    assert INACTIVE_SKU not in skus_of(listing(client, "per_page=100", auth.customer))
    assert_problem(client.get(f"/api/products/{hidden}"), 404)
    assert_problem(client.get("/api/products/by-slug/discontinued-grinder"), 404)


def test_admins_see_inactive_products_when_they_ask(client, auth, catalog):
    assert INACTIVE_SKU not in skus_of(listing(client, "per_page=100", auth.admin))
    body = listing(client, "per_page=100&include_inactive=true", auth.admin)
    assert INACTIVE_SKU in skus_of(body)
    assert body["total"] == len(PRODUCTS)
    hidden = catalog[INACTIVE_SKU]
    detail = client.get(f"/api/products/{hidden}?include_inactive=true", headers=auth.admin)
    assert detail.get_json()["is_active"] is False
    by_slug = client.get(
        "/api/products/by-slug/discontinued-grinder?include_inactive=true", headers=auth.admin
    )
    assert by_slug.get_json()["id"] == hidden


@pytest.mark.parametrize(
    "path", ["/api/products", "/api/products/1", "/api/products/by-slug/coffee-mug"]
)
def test_include_inactive_is_for_admins_only(client, auth, catalog, path):
    assert_problem(client.get(f"{path}?include_inactive=true"), 401)
    assert_problem(client.get(f"{path}?include_inactive=true", headers=auth.customer), 403)


def test_inactive_products_cannot_be_bought(client, auth, catalog):
    mug = catalog["MUG-001"]
    line = {"product_id": mug, "quantity": 1}
    assert client.post("/api/cart", json=line, headers=auth.customer).status_code == 200
    client.patch(f"/api/products/{mug}", json={"is_active": False}, headers=auth.admin)

    assert_problem(client.post("/api/cart", json=line, headers=auth.customer), 404)
    body = assert_problem(client.post("/api/orders", headers=auth.customer), 409)
    assert "no longer sold" in body["detail"]
    assert (
        client.get(f"/api/products/{mug}?include_inactive=true", headers=auth.admin).get_json()[
            "stock"
        ]
        == 60
    )


def test_reactivated_products_come_back(client, auth, catalog):
    hidden = catalog[INACTIVE_SKU]
    client.patch(f"/api/products/{hidden}", json={"is_active": True}, headers=auth.admin)
    assert client.get(f"/api/products/{hidden}").status_code == 200


def test_by_slug_unknown_is_404(client, catalog):
    body = assert_problem(client.get("/api/products/by-slug/no-such-thing"), 404)
    assert "no-such-thing" in body["detail"]


def test_the_kept_catalog_size_follows_every_kind_of_change(app, client, auth, catalog, query):
    """The unfiltered total comes from catalog_stats (kept by triggers), not a COUNT."""

    def counted():
        return query(
            lambda s: (
                s.query(Product).filter(Product.deleted_at.is_(None), Product.is_active).count()
            )
        )

    def kept():
        return listing(client)["total"]

    assert kept() == counted() == len(PRODUCTS) - 1
    mug = catalog["MUG-001"]
    url, admin = f"/api/products/{mug}", auth.admin
    hidden = {"name": "Hidden", "price": "1.00", "is_active": False}
    changes = [
        lambda: client.post("/api/products", json={"name": "New", "price": "1.00"}, headers=admin),
        lambda: client.patch(url, json={"is_active": False}, headers=admin),
        lambda: client.patch(url, json={"is_active": False}, headers=admin),
        lambda: client.patch(url, json={"is_active": True}, headers=admin),
        lambda: client.delete(url, headers=admin),
        lambda: client.post("/api/products", json=hidden, headers=admin),
    ]
    for change in changes:
        assert change().status_code in (200, 201, 204)
        assert kept() == counted()
    with app.app_context():
        import seed_data

        seed_data.seed_catalog(50)  # bulk inserts, outside the services
    assert kept() == counted() > len(PRODUCTS) + 40
    assert listing(client, "per_page=100")["pages"] == 1


# --- listing: each parameter ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=coffee", ["GRD-001", "GRD-002", "BRW-001", "BRW-002", "MUG-001", "MUG-002", "SCL-001"]),
        ("q=COFFEE%20mug", ["MUG-001", "MUG-002"]),
        ("q=bean", ["BEA-001", "BEA-002"]),  # a word's start matches
        ("q=eans", []),  # its middle does not
        ("q=grd", ["GRD-001", "GRD-002"]),  # the SKU
        ("q=bea-002", ["BEA-002"]),
        ("q=thermometer", ["KTL-001"]),  # the description
        ("q=tea%20japan", ["TEA-001"]),
        ("category=coffee", ["BEA-001", "BEA-002", "GRD-001", "GRD-002"]),  # and sub-categories
        ("category=beans", ["BEA-001", "BEA-002"]),
        ("category=equipment", ["GRN-001", "GRN-002", "BRW-001", "BRW-002", "KTL-001",
                                "FLT-100", "SCL-001"]),
        ("category=no-such-category", []),
        ("min_price=40", ["GRN-001", "GRN-002", "SCL-001"]),
        ("max_price=12", ["GRD-001", "TEA-002", "FLT-100"]),
        ("min_price=12&max_price=13.50", ["GRD-001", "GRD-002", "MUG-001"]),
        ("min_price=24.9&max_price=24.90", ["BEA-001"]),
        ("in_stock=false", ["BEA-002", "GRN-002", "TEA-002"]),
        ("in_stock=true&category=tea", ["TEA-001"]),
        ("q=grinder&in_stock=true", ["GRN-001"]),
        ("q=coffee&category=equipment&max_price=40", ["BRW-001", "BRW-002"]),
    ],
)  # fmt: skip
def test_filters(client, catalog, query, expected):
    body = listing(client, f"{query}&per_page=100")
    assert skus_of(body) == expected
    assert body["total"] == len(expected)


@pytest.mark.parametrize(
    ("sort", "first", "last"),
    [
        ("id", "BEA-001", "SCL-001"),
        ("name", "TEA-002", "MUG-002"),  # Black tea ... Travel mug, whatever the case
        ("-name", "MUG-002", "TEA-002"),
        ("price", "FLT-100", "GRN-002"),
        ("-price", "GRN-002", "FLT-100"),
        ("created_at", "BEA-001", "SCL-001"),
        ("-created_at", "SCL-001", "BEA-001"),
    ],
)
def test_sorting(client, catalog, sort, first, last):
    body = listing(client, f"sort={sort}&per_page=100")
    assert (skus_of(body)[0], skus_of(body)[-1]) == (first, last)
    assert body["total"] == len(PRODUCTS) - 1


def test_sorting_by_name_ignores_case(client, catalog):
    names = [item["name"] for item in listing(client, "sort=name&per_page=100")["items"]]
    assert names == sorted(names, key=str.lower)


def test_reverse_sorts_are_exact_reverses(client, catalog):
    for key in ("name", "price", "created_at"):
        forward = skus_of(listing(client, f"sort={key}&per_page=100"))
        backward = skus_of(listing(client, f"sort=-{key}&per_page=100"))
        assert backward == forward[::-1]


def test_price_ties_are_broken_by_id(client, auth, catalog):
    twin = client.post(
        "/api/products", json={"name": "Twin", "price": "24.90"}, headers=auth.admin
    ).get_json()
    body = listing(client, "min_price=24.90&max_price=24.90&sort=price")
    assert [item["id"] for item in body["items"]] == [catalog["BEA-001"], twin["id"]]


def test_relevance_ranks_name_hits_above_description_hits(client, catalog):
    body = listing(client, "q=coffee&sort=relevance&per_page=100")
    # Name and description (3 + 1), then name only (3), then description only (1); ties by id.
    assert skus_of(body) == ["GRD-001", "MUG-001", "GRD-002", "SCL-001", "BRW-001", "BRW-002",
                             "MUG-002"]  # fmt: skip


def test_relevance_counts_every_term(client, catalog):
    body = listing(client, "q=ground%20coffee&sort=relevance")
    assert skus_of(body) == ["GRD-001", "GRD-002"]


def test_search_pages_and_total_agree(client, catalog):
    first = listing(client, "q=coffee&per_page=3&page=1")
    second = listing(client, "q=coffee&per_page=3&page=3")
    assert (first["total"], first["pages"]) == (7, 3)
    assert len(first["items"]) == 3 and len(second["items"]) == 1


def test_search_follows_admin_changes(client, auth, catalog):
    mug = catalog["MUG-002"]
    client.patch(f"/api/products/{mug}", json={"name": "Thermos flask"}, headers=auth.admin)
    assert "MUG-002" in skus_of(listing(client, "q=thermos"))
    client.delete(f"/api/products/{mug}", headers=auth.admin)
    assert skus_of(listing(client, "q=thermos")) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("q=", "q"),
        ("q=!!!", "q"),
        ("q=" + "x" * 201, "q"),
        ("category=Not%20A%20Slug", "category"),
        ("min_price=-1", "min_price"),
        ("min_price=abc", "min_price"),
        ("max_price=1.999", "max_price"),
        ("min_price=10&max_price=5", "max_price"),
        ("in_stock=maybe", "in_stock"),
        ("sort=stock", "sort"),
        ("sort=relevance", "sort"),
        ("include_inactive=perhaps", "include_inactive"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
    ],
)
def test_invalid_listing_parameters_are_422_naming_them(client, catalog, query, field):
    assert_problem(client.get(f"/api/products?{query}"), 422, field)


# --- the same answers on SQLite and PostgreSQL, with and without full-text search --------------

PARITY_QUERIES = [
    "",
    "q=coffee",
    "q=coffee&sort=relevance",
    "q=coffee%20mug&sort=relevance",
    "q=mug",
    "q=bean",
    "q=beans%20brazil",
    "q=grinder&sort=-price",
    "q=tea&sort=relevance",
    "q=tea&sort=name",
    "q=bea",
    "q=GRN-00",
    "q=filter&sort=relevance&per_page=2&page=2",
    "q=pour%20over",
    "category=coffee",
    "category=equipment&sort=price",
    "category=equipment&sort=-name&per_page=3&page=2",
    "category=tea&in_stock=true",
    "min_price=10&max_price=30&sort=price",
    "min_price=20&sort=-price",
    "max_price=15&sort=name",
    "in_stock=true&sort=-created_at",
    "in_stock=false",
    "sort=name&per_page=5",
    "sort=-name&per_page=5&page=3",
    "sort=price&per_page=4&page=2",
    "sort=created_at&per_page=7&page=2",
    "q=coffee&category=equipment&in_stock=true&max_price=40&sort=relevance",
    "q=ground&category=coffee&min_price=13",
    "category=grinders&include_inactive=true&sort=name",
]


def run_parity_queries(client, admin_headers) -> list[tuple]:
    results = []
    for query in PARITY_QUERIES:
        headers = admin_headers if "include_inactive" in query else {}
        body = listing(client, f"per_page=20&{query}" if "per_page" not in query else query,
                       headers)  # fmt: skip
        results.append((query, body["total"], body["pages"], skus_of(body)))
    return results


def answers(url: str, **settings) -> list[tuple]:
    from app.accounts.services import issue_tokens
    from app.platform.models import User

    other = create_app({"SQLALCHEMY_DATABASE_URI": url, **settings})
    try:
        with other.app_context():
            flask_migrate.upgrade()
            if not db.session.get(User, 1):
                db.session.add(User(id=1, username="a", email="a@x.io", password_hash="-",
                                    roles=roles_named("admin")))  # fmt: skip
                db.session.commit()
                load_catalog()
            token = issue_tokens(db.session.get(User, 1))["access_token"]
        return run_parity_queries(other.test_client(), {"Authorization": f"Bearer {token}"})
    finally:
        with other.app_context():
            db.engine.dispose()


def test_the_same_30_queries_answer_the_same_on_both_engines_and_both_search_paths(app, tmp_path):
    assert len(PARITY_QUERIES) == 30
    results = {}
    for engine in ("sqlite", "postgresql"):
        with fresh_database(tmp_path, f"parity_{engine}", engine=engine) as url:
            results[engine, "fulltext"] = answers(url)
            results[engine, "like"] = answers(url, SEARCH_FULLTEXT=False)
    reference = results["sqlite", "fulltext"]
    for key, result in results.items():
        assert result == reference, key
    # Not all empty: the queries do select.
    assert sum(1 for _query, total, _pages, _skus in reference if total) >= 25


# --- cacheable reads -----------------------------------------------------------------------

CACHEABLE = ["/api/products", "/api/products/{mug}", "/api/products/by-slug/coffee-mug"]


@pytest.mark.parametrize("path", CACHEABLE)
def test_public_reads_send_an_etag_and_may_be_cached(client, catalog, path):
    response = client.get(path.format(mug=catalog["MUG-001"]))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["ETag"].startswith('"')


@pytest.mark.parametrize("path", CACHEABLE)
def test_current_etag_gets_304_without_body(client, catalog, path):
    url = path.format(mug=catalog["MUG-001"])
    etag = client.get(url).headers["ETag"]
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.get_data() == b""
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_a_cacheable_answer_carries_one_date_through_a_real_server(app, catalog):
    """The server stamps Date itself; the app adding another gave clients two."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", f"/api/products/{catalog['MUG-001']}")
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        assert len(response.msg.get_all("Date")) == 1
        assert response.getheader("ETag")
    finally:
        server.shutdown()


def test_etags_differ_per_query(client, catalog):
    first = client.get("/api/products?page=1&per_page=5").headers["ETag"]
    second = client.get("/api/products?page=2&per_page=5").headers["ETag"]
    assert first != second


@pytest.mark.parametrize(
    "change",
    [
        lambda c, h, ids: c.patch(f"/api/products/{ids['MUG-001']}", json={"price": "13.00"},
                                  headers=h),
        lambda c, h, ids: c.post(f"/api/products/{ids['MUG-001']}/stock",
                                 json={"delta": 5, "reason": "restock"}, headers=h),
        lambda c, h, ids: c.patch(f"/api/products/{ids['MUG-001']}", json={"is_active": False},
                                  headers=h),
    ],
    ids=["price", "stock", "deactivated"],
)  # fmt: skip
def test_admin_changes_change_the_etags(client, auth, catalog, change):
    list_url, detail_url = "/api/products", f"/api/products/{catalog['MUG-001']}"
    before = {url: client.get(url).headers["ETag"] for url in (list_url, detail_url)}
    assert change(client, auth.admin, catalog).status_code == 200
    for url, etag in before.items():
        response = client.get(url, headers={"If-None-Match": etag})
        assert response.status_code in (200, 404), url  # 404: deactivated
        assert response.headers.get("ETag") != etag


def test_renaming_a_category_changes_its_products_etags(client, auth, catalog, query):
    url = f"/api/products/{catalog['BEA-001']}"
    etag = client.get(url).headers["ETag"]
    beans = query(lambda s: s.query(Category).filter_by(slug="beans").one())
    with client.application.app_context():
        db.session.execute(update(Category).where(Category.id == beans.id).values(name="Whole"))
        db.session.commit()
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.get_json()["category"]["name"] == "Whole"


def test_customers_with_a_token_get_the_same_public_cache(client, auth, catalog):
    anonymous = client.get("/api/products")
    signed_in = client.get("/api/products", headers=auth.customer)
    assert signed_in.headers["Cache-Control"] == "public, max-age=60"
    assert signed_in.headers["ETag"] == anonymous.headers["ETag"]


def test_admin_views_are_never_stored(client, auth, catalog):
    response = client.get("/api/products?include_inactive=true", headers=auth.admin)
    assert "no-store" in response.headers["Cache-Control"]
    assert "public" not in response.headers["Cache-Control"]


def test_errors_are_not_cached(client, catalog):
    response = client.get("/api/products/999999")
    assert_problem(response, 404)
    assert "ETag" not in response.headers
    assert "public" not in response.headers.get("Cache-Control", "")


# --- statements per request ----------------------------------------------------------------


def add_products(app, count: int) -> None:
    with app.app_context():
        category = db.session.query(Category).filter_by(slug="tea").one()
        for n in range(count):
            create_product({"name": f"Tea {n}", "price": Decimal("2.00"), "stock": 1,
                            "category_id": category.id, "sku": f"T-{n}"})  # fmt: skip


@pytest.mark.parametrize(
    "query",
    ["", "per_page=100", "q=tea&sort=relevance&per_page=100",
     "category=tea&in_stock=true&min_price=1&max_price=50&sort=-price&per_page=100"],
)  # fmt: skip
def test_a_list_page_takes_the_same_few_statements_whatever_its_size(
    app, client, catalog, statements, query
):
    small = statements(client, f"/api/products?{query}")
    add_products(app, 60)
    large = statements(client, f"/api/products?{query}")
    assert small == large
    assert large <= 3


def test_a_product_detail_takes_1_statement_then_none_while_kept(client, catalog, statements):
    """The row with its category; then the kept copy (app.api.caching: the catalog version is
    read on a connection of its own, not counted here)."""
    for path in (f"/api/products/{catalog['BEA-001']}", "/api/products/by-slug/coffee-mug"):
        assert statements(client, path) == 1
        assert statements(client, path) == 0
