"""The demo catalog (seed_data.py): its shape, determinism, idempotency and the stock ledger."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import seed_data
from app.api.products.schemas import ProductInputSchema
from app.platform.models import (
    Category,
    Discount,
    Product,
    Role,
    ShippingMethod,
    StockMovement,
    TaxRate,
    User,
)
from tests.conftest import empty_tables
from tests.helpers import count_rows
from tests.invariants import inventory_violations

ADMIN = ("admin", "admin@example.com", "admin-password")
DEFAULT = seed_data.DEFAULT_PRODUCTS
BASE_DATE = seed_data.BASE_DATE
# Plain words, digits, commas and full stops ending sentences: what SQLite's FTS5 and
# PostgreSQL's text search split into the same words.
PLAIN_TEXT = re.compile(r"[A-Za-z0-9 ,]+(\.( [A-Za-z0-9 ,]+)?)*")


def seed(app, products: int = DEFAULT) -> tuple[int, bool]:
    with app.app_context():
        return seed_data.seed(*ADMIN, products=products)


def dump(query) -> list[tuple]:
    """Every row the seed writes, ids included, in a fixed order."""

    def read(session):
        products = session.execute(
            select(
                Product.id,
                Product.sku,
                Product.name,
                Product.slug,
                Product.description,
                Product.price,
                Product.stock,
                Category.slug,
                Product.images,
                Product.is_active,
                Product.created_at,
            )
            .outerjoin(Category, Category.id == Product.category_id)
            .order_by(Product.sku)
        ).all()
        categories = session.execute(
            select(
                Category.id, Category.slug, Category.name, Category.parent_id, Category.description
            ).order_by(Category.id)
        ).all()
        movements = session.execute(
            select(
                StockMovement.id,
                StockMovement.product_id,
                StockMovement.delta,
                StockMovement.reason,
                StockMovement.created_at,
            ).order_by(StockMovement.id)
        ).all()
        return [tuple(row) for row in [*products, *categories, *movements]]

    return query(read)


def all_products(query) -> list[Product]:
    return query(lambda s: s.scalars(select(Product).order_by(Product.id)).all())


# --- the catalog ---------------------------------------------------------------------------


def test_default_catalog_has_a_category_tree(app, query):
    seed(app)
    categories = query(lambda s: s.scalars(select(Category)).all())
    assert len(categories) >= 5
    by_id = {category.id: category for category in categories}
    children = [category for category in categories if category.parent_id is not None]
    assert children
    # Two levels: every parent is at the top.
    assert all(by_id[child.parent_id].parent_id is None for child in children)
    assert len({category.slug for category in categories}) == len(categories)
    in_use = query(lambda s: set(s.scalars(select(Product.category_id).distinct())))
    assert None not in in_use
    assert any(by_id[category_id].parent_id is not None for category_id in in_use)


def test_default_catalog_has_200_complete_products(app, query):
    created, admin_created = seed(app)
    assert (created, admin_created) == (DEFAULT, True)
    products = all_products(query)
    assert len(products) == DEFAULT == 200
    assert len({p.sku.lower() for p in products}) == DEFAULT
    assert len({p.name for p in products}) == DEFAULT
    assert len({p.slug for p in products}) == DEFAULT
    for product in products:
        assert re.fullmatch(r"[A-Z]{3}-\d{4,}", product.sku)
        assert product.price.as_tuple().exponent == -2 and product.price > 0
        assert 1 <= len(product.images) <= 3
        for n, image in enumerate(product.images, start=1):
            url = f"https://images.example.com/products/{product.sku.lower()}-{n}.jpg"
            assert image["url"] == url
            assert image["alt"].startswith(product.name)
        assert product.category_id is not None
        assert product.deleted_at is None
        assert BASE_DATE <= product.created_at < datetime(2026, 11, 23, tzinfo=UTC)
    out_of_stock = sum(p.stock == 0 for p in products)
    inactive = sum(not p.is_active for p in products)
    assert 5 <= out_of_stock <= 40, out_of_stock
    assert 1 <= inactive <= 15, inactive
    assert len({p.created_at for p in products}) == DEFAULT


def test_seeded_products_pass_the_api_validation(app, query):
    seed(app)
    schema = ProductInputSchema()
    for product in all_products(query):
        data = {
            "name": product.name,
            "description": product.description,
            "price": str(product.price),
            "stock": product.stock,
            "sku": product.sku,
            "slug": product.slug,
            "category_id": product.category_id,
            "images": product.images,
            "is_active": product.is_active,
        }
        assert schema.validate(data) == {}, (product.sku, schema.validate(data))


def test_catalog_texts_tokenize_alike_on_both_engines():
    """No hyphens, decimals, e-mails or URLs in what search reads; names and SKUs unique
    even far past the default size (names then get a "Series n")."""
    names, skus = set(), set()
    for item in seed_data.catalog(50_000):
        for text in (item["name"], item["description"]):
            assert PLAIN_TEXT.fullmatch(text), text
        names.add(item["name"])
        skus.add(item["sku"].lower())
    assert len(names) == len(skus) == 50_000
    assert any(" Series " in name for name in names)


def test_walkthrough_products_come_first(app, client):
    """README's curl session puts 2 of product 1 (a mug) and product 4 (a dripper) in a cart."""
    seed(app)
    for product_id, name in ((1, "Coffee mug"), (4, "Ceramic dripper")):
        response = client.get(f"/api/products/{product_id}")
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert body["name"] == name
        assert body["is_active"] is True
        assert body["stock"] >= 2


def test_the_walkthrough_checkout_charges_what_the_readme_says(app, client, auth):
    """README's curl session: 2 mugs and a dripper to Austin, Texas, method 1, WELCOME10."""
    seed(app)
    headers = auth.customer
    for line in ({"product_id": 1, "quantity": 2}, {"product_id": 4}):
        assert client.post("/api/cart", json=line, headers=headers).status_code == 200
    address = {
        "name": "Alice",
        "line1": "1 Main St",
        "city": "Austin",
        "region": "TX",
        "postal_code": "73301",
        "country": "US",
    }
    assert client.post("/api/addresses", json=address, headers=headers).get_json()["id"] == 1
    methods = client.get("/api/shipping-methods?country=US").get_json()["items"]
    assert [method["id"] for method in methods] == [1, 2]
    body = {"shipping_address_id": 1, "shipping_method_id": 1, "discount_code": "WELCOME10"}

    preview = client.post("/api/checkout/preview", json=body, headers=headers).get_json()
    assert preview["totals"] == {
        "subtotal": "44.99",
        "discount": "4.50",
        "shipping": "4.90",
        "tax": "3.74",
        "total": "49.13",
    }
    placed = client.post("/api/orders", json=body | {"expected_total": "49.13"}, headers=headers)
    assert placed.status_code == 201, placed.get_data(as_text=True)
    assert placed.get_json()["totals"] == preview["totals"]


def test_checkout_settings_are_seeded_once(app, query):
    seed(app)
    seed(app)
    counts = query(
        lambda s: [
            s.scalar(select(func.count()).select_from(model))
            for model in (ShippingMethod, TaxRate, Discount)
        ]
    )
    assert counts == [
        len(seed_data.SHIPPING_METHODS),
        len(seed_data.TAX_RATES),
        len(seed_data.DISCOUNTS),
    ]


def test_seeded_words_are_found_by_search(app, client, query):
    """The catalog search finds exactly the active products with a word starting with each
    term (in the name, the SKU or the description)."""
    seed(app)
    products = [p for p in all_products(query) if p.is_active]

    def expected(q: str) -> int:
        terms = q.lower().split()
        return sum(
            all(any(word.startswith(term) for word in re.findall(r"\w+", text)) for term in terms)
            for text in (f"{p.name} {p.sku} {p.description}".lower() for p in products)
        )

    for q in ("mug", "roast", "ethiopia", "electric kettle", "notes of", "250 g", "bea", "0001"):
        response = client.get("/api/products", query_string={"q": q, "per_page": 1})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["total"] == expected(q) > 0, q


# --- determinism and idempotency -----------------------------------------------------------


def test_the_same_catalog_every_time(app, query):
    seed(app)
    first = dump(query)
    empty_tables(app)
    seed(app)
    assert dump(query) == first


def test_spot_values_are_pinned(app, query):
    """The same values on every engine and Python version (no now(), no unseeded random)."""
    seed(app)
    rows = query(
        lambda s: s.execute(
            select(Product.sku, Product.name, Product.price, Product.stock, Product.created_at)
            .where(Product.id.in_([1, 4, 13, 14]))
            .order_by(Product.id)
        ).all()
    )
    assert [tuple(row) for row in rows] == [
        ("MUG-0001", "Coffee mug", Decimal("12.50"), 40, BASE_DATE),
        (
            "BRE-0001",
            "Ceramic dripper",
            Decimal("19.99"),
            30,
            datetime(2026, 7, 25, 3, tzinfo=UTC),
        ),
        (
            "ACC-0005",
            "Aster Black Digital Scale",
            Decimal("33.00"),
            63,
            datetime(2026, 6, 20, 12, tzinfo=UTC),
        ),
        (
            "BEA-0002",
            "Brazil Washed Light Roast Beans 250 g",
            Decimal("15.00"),
            0,
            datetime(2026, 1, 23, 5, tzinfo=UTC),
        ),
    ]


def test_a_second_run_adds_nothing(app, query):
    seed(app)
    before = dump(query)
    assert seed(app) == (0, False)
    assert dump(query) == before
    assert count_rows(query, User) == 1


def test_a_bigger_catalog_extends_a_smaller_one(app, query):
    assert seed(app, products=50) == (50, True)
    assert count_rows(query, Product) == 50
    small = dump(query)
    assert seed(app, products=DEFAULT) == (DEFAULT - 50, False)
    assert count_rows(query, Product) == DEFAULT
    # The first 50 are the same rows as before (every row of the small catalog is still there).
    bigger = dump(query)
    assert [row for row in small if row not in bigger] == []


def test_products_made_by_hand_are_kept(app, query, make_product):
    """A product with a seeded SKU counts as seeded; one with a seeded name keeps its slug."""
    make_product(name="Coffee mug", sku="mug-0001")  # SKUs match case-insensitively
    make_product(name="Ceramic dripper")
    assert seed(app) == (DEFAULT - 1, True)
    assert count_rows(query, Product) == DEFAULT + 1
    slugs = query(lambda s: dict(s.execute(select(Product.sku, Product.slug)).all()))
    assert slugs["BRE-0001"] == "ceramic-dripper-bre-0001"
    assert "MUG-0001" not in slugs
    assert query(inventory_violations) == []


# --- the stock ledger ----------------------------------------------------------------------


def test_seeded_stock_is_in_the_ledger(app, query):
    seed(app)
    assert query(inventory_violations) == []
    admin_id = query(lambda s: s.scalar(select(User.id)))
    movements = query(lambda s: s.scalars(select(StockMovement)).all())
    in_stock = count_rows(query, Product, Product.stock > 0)
    assert len(movements) == in_stock
    assert {(m.reason, m.user_id) for m in movements} == {("initial stock", admin_id)}
    assert count_rows(query, StockMovement, StockMovement.delta <= 0) == 0


def test_ledger_holds_for_a_bigger_catalog(app, query):
    """Several insert chunks."""
    seed(app, products=seed_data.CHUNK_SIZE * 2 + 7)
    assert count_rows(query, Product) == seed_data.CHUNK_SIZE * 2 + 7
    assert query(inventory_violations) == []
    total = query(lambda s: s.scalar(select(func.sum(StockMovement.delta))))
    assert total == query(lambda s: s.scalar(select(func.sum(Product.stock))))


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def command(app, monkeypatch):
    """Run `python seed_data.py ARGS` against the test database."""
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("APP_ENV", "testing")
    return seed_data.main


def test_products_option_sets_the_catalog_size(command, query, capsys):
    assert command(["--products", "50"]) == 0
    assert count_rows(query, Product) == 50
    assert "Seeded 50 new product(s)" in capsys.readouterr().out
    assert command(["--products", "50"]) == 0
    assert count_rows(query, Product) == 50
    assert "Seeded 0 new product(s) (50 already there)" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["-1", "many"])
def test_products_option_must_be_a_count(command, value, capsys):
    with pytest.raises(SystemExit) as exc:
        command(["--products", value])
    assert exc.value.code == 2
    assert "--products" in capsys.readouterr().err


def test_admin_options_still_work(command, query):
    assert command(["--products", "0", "--admin-username", "root"]) == 0
    assert query(lambda s: s.scalars(select(User.username)).all()) == ["root"]
    assert count_rows(query, Product) == 0


def test_seed_makes_the_admin_and_the_example_role_once(app, query):
    seed(app)
    seed(app)

    def read(s):
        admin = s.scalar(select(User).where(User.username == "admin"))
        roles = s.execute(select(Role.name, Role.permissions, Role.builtin)).all()
        return admin.role_names, sorted(
            (name, perms, bool(builtin)) for name, perms, builtin in roles
        )

    role_names, roles = query(read)
    assert role_names == ["admin"]
    assert ("content_editor", ["catalog:write"], False) in roles
    assert [name for name, _, builtin in roles if not builtin] == ["content_editor"]
