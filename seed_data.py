"""Load a demo catalog and an admin account, idempotently.

    python seed_data.py                      # uses DATABASE_URL, or the instance SQLite file
    python seed_data.py --products 10000     # a bigger catalog (benchmarks)
    python seed_data.py --admin-password 'something-secret'

The catalog is deterministic: the same categories and the same products (names, SKUs, prices,
stock, images, creation dates) on every run and on every engine. It opens with a dozen
hand-written products (product 1 is the coffee mug and product 4 the ceramic dripper of the
README's walkthrough) and goes on with products generated from word lists. `--products N`
loads the first N products of that sequence, so a bigger N extends a smaller one.

It also sets up checkout (seed_checkout): shipping methods (method 1 ships everywhere, free
over 50.00), tax rates for a few countries and US states, and the demo codes WELCOME10 (10 %
off, once per customer) and SAVE5 (5.00 off from 30.00).

Running it again adds nothing: categories are matched by slug, products by SKU, the admin by
username, shipping methods by name, tax rates by country and region, codes by code. Products
go in by bulk INSERTs of 1,000 through app.catalog.inventory, with their "initial stock"
ledger rows, in one transaction: 10,000 products take about two seconds.
"""

import argparse
import os
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from math import gcd

from slugify import slugify
from sqlalchemy import func, inspect, select, text

from app import create_app
from app.accounts.services import ensure_admin
from app.catalog import inventory
from app.catalog.slugs import MAX_SLUG_LENGTH
from app.platform.db import db, transaction
from app.platform.models import Category, Discount, Product, Role, ShippingMethod, TaxRate

DEMO_ADMIN_PASSWORD = "admin-password"
DEFAULT_PRODUCTS = 200
RANDOM_SEED = 42
CHUNK_SIZE = 1000
IMAGE_BASE_URL = "https://images.example.com/products"

# Creation dates: from BASE_DATE, spread over CREATION_SPAN_HOURS (2026-01-01 to 2026-11-22)
# by a stride coprime with the span, so they interleave the ids; the minute grows every
# CREATION_SPAN_HOURS products, so no two products of a catalog under 468,000 share a date.
BASE_DATE = datetime(2026, 1, 1, tzinfo=UTC)
CREATION_SPAN_HOURS = 7800
CREATION_STRIDE_HOURS = 4241

# Texts are plain words, digits, commas and full stops: no hyphens, decimals, e-mails or URLs,
# which SQLite's FTS5 and PostgreSQL's text search would split into different words.

# (slug, name, parent slug, description); parents first.
CATEGORIES = [
    ("coffee", "Coffee", None, "Roasted coffee, whole bean and ground."),
    ("coffee-beans", "Beans", "coffee", "Whole bean coffee, roasted every week."),
    ("ground-coffee", "Ground", "coffee", "Coffee ground for your brewer."),
    ("equipment", "Equipment", None, "Everything to brew coffee and tea at home."),
    ("grinders", "Grinders", "equipment", "Hand and electric burr grinders."),
    ("brewers", "Brewers", "equipment", "Drippers, presses, moka pots and espresso machines."),
    ("kettles", "Kettles", "equipment", "Gooseneck, electric and stovetop kettles."),
    ("tea", "Tea", None, "Loose leaf tea and tea bags from around the world."),
    ("accessories", "Accessories", None, "Scales, filters, cleaning and storage."),
    ("mugs", "Mugs and cups", "accessories", "Mugs, cups and tumblers."),
]

# The walkthrough's products, first: (category, name, description, price, stock).
FEATURED_PRODUCTS = [
    ("mugs", "Coffee mug", "Stoneware mug, 350 ml, dishwasher safe.", "12.50", 40),
    (
        "coffee-beans",
        "Espresso beans 1 kg",
        "Medium roast, Brazil and Ethiopia blend.",
        "24.90",
        25,
    ),
    ("kettles", "Pour over kettle", "Gooseneck kettle, 1 litre, stainless steel.", "39.00", 10),
    ("brewers", "Ceramic dripper", "Size 02 ceramic cone dripper.", "19.99", 30),
    (
        "accessories",
        "Paper filters, pack of 100",
        "Unbleached filters for size 02 drippers.",
        "4.99",
        200,
    ),
    ("grinders", "Burr grinder", "Conical burr hand grinder with 40 settings.", "89.00", 8),
    ("accessories", "Digital scale", "Weighs to a tenth of a gram, with a timer.", "29.95", 15),
    ("mugs", "Travel tumbler", "Vacuum insulated, 470 ml.", "22.00", 35),
    ("accessories", "Milk frother", "Handheld frother, battery powered.", "14.75", 50),
    ("brewers", "French press", "Borosilicate glass, 1 litre.", "27.50", 12),
    ("brewers", "Cold brew jar", "Glass jar with a mesh filter, 1500 ml.", "32.00", 3),
    ("accessories", "Gift card", "A store gift card worth 50 euros.", "50.00", 1000),
]

COFFEE_ORIGINS = (
    "Brazil", "Colombia", "Ethiopia", "Kenya", "Guatemala", "Costa Rica", "Honduras", "Peru",
    "Rwanda", "Burundi", "Sumatra", "Yemen", "Panama", "El Salvador", "Nicaragua", "Mexico",
    "Uganda", "Tanzania", "Java", "Papua",
)  # fmt: skip
COFFEE_STYLES = (
    "Washed", "Natural", "Honey Process", "Single Estate", "Highland", "Cooperative",
    "Microlot", "Organic", "Decaf", "Reserve", "Harvest", "Valley",
)  # fmt: skip
BRANDS = (
    "Aster", "Borealis", "Cadence", "Dovetail", "Ember", "Fjord", "Granite", "Harbor",
    "Ironwood", "Juniper", "Kestrel", "Lumen",
)  # fmt: skip
MODELS = ("Mini", "Pro", "Classic", "Studio", "Compact", "Plus", "Max", "Lite", "Go", "Prime")
COLOURS = (
    "Black", "White", "Copper", "Steel", "Sage", "Navy", "Walnut", "Graphite", "Sand", "Clay",
)  # fmt: skip
COFFEE_SENTENCES = (
    "Notes of chocolate and caramel.", "Notes of berries and citrus.",
    "Notes of jasmine and stone fruit.", "Notes of hazelnut and brown sugar.",
    "Notes of cherry and toffee.", "Notes of apricot and black tea.",
    "Notes of honey and plum.", "Notes of cocoa and orange.",
    "Roasted in small batches every week.", "Best within six weeks of roasting.",
    "Packed in a bag with a one way valve.", "Grown at high altitude by smallholder farmers.",
    "Traceable to the farm.", "Sweet and balanced in milk or black.",
)  # fmt: skip
EQUIPMENT_SENTENCES = (
    "Stainless steel body.", "Easy to clean.", "Two year warranty.",
    "Built to last for years.", "Designed in Copenhagen.", "Spare parts available.",
    "Comes with a quick start guide.", "A favourite of home baristas.",
    "Compact enough for a small kitchen.", "Precise and consistent every time.",
    "Matte finish with a wooden handle.", "Tested in our own coffee bar.",
)  # fmt: skip
TEA_SENTENCES = (
    "Steep for three minutes.", "Picked in the spring harvest.", "Smooth and floral.",
    "Malty and bold, great with milk.", "Light and grassy.", "Sourced from a family garden.",
    "Packed in a resealable tin.", "Makes about 40 cups.", "Organic and hand picked.",
    "Lovely iced in summer.",
)  # fmt: skip
ACCESSORY_SENTENCES = (
    "Dishwasher safe.", "Made from recycled materials.", "Fits most brewers.",
    "A thoughtful gift.", "Sold individually.", "Easy to clean.", "Food safe materials.",
    "Matches the rest of the range.", "Made in Portugal.", "Stacks neatly in a cupboard.",
)  # fmt: skip

# Generated products by category: (category, SKU prefix, weight, first words, second words,
# kinds, description sentences); a kind is (last words, lowest and highest price in units).
# A name is "<first> <second> <kind>", unique within the category; each category's kinds are
# its own, so names are unique across categories too.
FAMILIES = [
    ("coffee-beans", "BEA", 20, COFFEE_ORIGINS, COFFEE_STYLES, (
        ("Light Roast Beans 250 g", 9, 16), ("Medium Roast Beans 250 g", 8, 15),
        ("Dark Roast Beans 250 g", 8, 14), ("Filter Roast Beans 500 g", 15, 26),
        ("Espresso Roast Beans 1 kg", 28, 45), ("Medium Roast Beans 1 kg", 24, 40),
    ), COFFEE_SENTENCES),
    ("ground-coffee", "GRO", 12, COFFEE_ORIGINS, COFFEE_STYLES, (
        ("Ground Coffee for Espresso 250 g", 8, 15), ("Ground Coffee for Filter 250 g", 8, 14),
        ("Ground Coffee for French Press 250 g", 8, 14),
        ("Ground Coffee for Moka Pot 250 g", 8, 15), ("Ground Coffee for Filter 1 kg", 24, 38),
    ), COFFEE_SENTENCES),
    ("grinders", "GRI", 10, BRANDS, MODELS, (
        ("Hand Grinder", 25, 160), ("Conical Burr Grinder", 90, 320),
        ("Flat Burr Grinder", 180, 650), ("Espresso Grinder", 250, 900),
        ("Travel Grinder", 30, 120), ("Blade Grinder", 15, 45),
    ), EQUIPMENT_SENTENCES),
    ("brewers", "BRE", 14, BRANDS, MODELS, (
        ("French Press", 18, 60), ("Pour Over Dripper", 12, 45), ("Moka Pot", 20, 70),
        ("Cold Brew Maker", 25, 60), ("Siphon Brewer", 60, 180), ("Drip Coffee Maker", 60, 260),
        ("Espresso Machine", 250, 1500), ("Immersion Dripper", 20, 55),
    ), EQUIPMENT_SENTENCES),
    ("kettles", "KET", 8, BRANDS, MODELS, (
        ("Gooseneck Kettle", 30, 90), ("Electric Gooseneck Kettle", 60, 190),
        ("Electric Kettle", 25, 110), ("Stovetop Kettle", 20, 80), ("Travel Kettle", 20, 50),
    ), EQUIPMENT_SENTENCES),
    ("tea", "TEA", 14, (
        "Darjeeling", "Assam", "Ceylon", "Yunnan", "Uji", "Fujian", "Nilgiri", "Kenyan",
        "Taiwan", "Shizuoka", "Anhui", "Nepal",
    ), (
        "Green", "Black", "Oolong", "White", "Smoked", "Jasmine", "Breakfast", "Earl Grey",
        "Spring Harvest", "Autumn Harvest",
    ), (
        ("Tea Loose Leaf 100 g", 6, 22), ("Tea Loose Leaf 250 g", 12, 40),
        ("Tea Bags 20 Pack", 4, 12), ("Tea Sampler Tin", 15, 35),
    ), TEA_SENTENCES),
    ("accessories", "ACC", 12, BRANDS, COLOURS, (
        ("Digital Scale", 19, 89), ("Paper Filters 100 Pack", 4, 9), ("Espresso Tamper", 15, 70),
        ("Knock Box", 18, 45), ("Cleaning Brush", 5, 15), ("Storage Canister", 14, 40),
        ("Dosing Cup", 10, 30), ("Milk Pitcher", 12, 35), ("Thermometer", 8, 25),
        ("Tea Infuser", 6, 18),
    ), ACCESSORY_SENTENCES),
    ("mugs", "MUG", 10, (
        "Speckled", "Glazed", "Matte", "Striped", "Dotted", "Marbled", "Rustic", "Classic",
        "Minimal", "Hand Painted",
    ), COLOURS, (
        ("Stoneware Mug", 10, 28), ("Porcelain Cup and Saucer", 14, 36),
        ("Double Wall Glass", 12, 30), ("Espresso Cup", 8, 20), ("Travel Tumbler", 18, 40),
        ("Latte Bowl", 12, 28), ("Enamel Camp Mug", 9, 22),
    ), ACCESSORY_SENTENCES),
]  # fmt: skip

SKU_PREFIXES = {family[0]: family[1] for family in FAMILIES}
CENTS = (0, 50, 90, 95, 99)
IMAGE_VIEWS = ("front view", "side view", "in use")
OUT_OF_STOCK_SHARE = 0.10
INACTIVE_SHARE = 0.03


def _stride(size: int) -> int:
    """A step coprime with `size` near its golden section: k -> k * step % size shuffles."""
    step = max(1, int(size * 0.618))
    while gcd(step, size) != 1:
        step += 1
    return step


def _generated_name(family: tuple, k: int) -> tuple[str, int, int]:
    """The k-th name of a family (0-based) and its kind's price range.

    Every combination of words comes once, in a shuffled order, before " Series 2" starts.
    """
    _, _, _, firsts, seconds, kinds, _ = family
    size = len(firsts) * len(seconds) * len(kinds)
    j = k % size * _stride(size) % size
    first, second = firsts[j % len(firsts)], seconds[j // len(firsts) % len(seconds)]
    kind, low, high = kinds[j // (len(firsts) * len(seconds))]
    name = f"{first} {second} {kind}"
    if k >= size:
        name = f"{name} Series {k // size + 1}"
    return name, low, high


def _created_at(i: int) -> datetime:
    hours = i * CREATION_STRIDE_HOURS % CREATION_SPAN_HOURS
    return BASE_DATE + timedelta(hours=hours, minutes=i // CREATION_SPAN_HOURS)


def _images(sku: str, name: str, count: int) -> list[dict]:
    base = f"{IMAGE_BASE_URL}/{sku.lower()}"
    return [
        {"url": f"{base}-{n}.jpg", "alt": f"{name}, {IMAGE_VIEWS[n - 1]}"}
        for n in range(1, count + 1)
    ]


def catalog(count: int = DEFAULT_PRODUCTS) -> Iterator[dict]:
    """The first `count` products of the demo catalog, always the same ones in the same order:
    dicts with sku, name, description, price, stock, category (a slug), images, is_active and
    created_at."""
    rng = random.Random(RANDOM_SEED)
    families = [family for family in FAMILIES for _ in range(family[2])]
    numbers = dict.fromkeys(SKU_PREFIXES, 0)  # SKUs given so far, per category
    generated = dict.fromkeys(SKU_PREFIXES, 0)  # generated names so far, per category
    names: set[str] = set()
    for i in range(count):
        if i < len(FEATURED_PRODUCTS):
            category, name, description, price, stock = FEATURED_PRODUCTS[i]
            price, is_active, image_count = Decimal(price), True, 2
        else:
            family = rng.choice(families)
            category, sentences = family[0], family[6]
            name, low, high = _generated_name(family, generated[category])
            generated[category] += 1
            price = Decimal(f"{rng.randint(low, high)}.{rng.choice(CENTS):02d}")
            stock = 0 if rng.random() < OUT_OF_STOCK_SHARE else rng.randint(1, 150)
            is_active = rng.random() >= INACTIVE_SHARE
            image_count = rng.randint(1, 3)
            description = " ".join(rng.sample(sentences, 2))
        if name in names:  # cannot happen with the word lists above; kept honest by the tests
            raise ValueError(f"Duplicate product name in the demo catalog: {name!r}")
        names.add(name)
        numbers[category] += 1
        sku = f"{SKU_PREFIXES[category]}-{numbers[category]:04d}"
        yield {
            "sku": sku,
            "name": name,
            "description": description,
            "price": price,
            "stock": stock,
            "category": category,
            "images": _images(sku, name, image_count),
            "is_active": is_active,
            "created_at": _created_at(i),
        }


def _ensure_categories(session) -> tuple[dict[str, int], int]:
    """The demo categories' ids by slug, adding the missing ones; and how many were added."""
    ids = dict(session.execute(select(Category.slug, Category.id)).all())
    created = 0
    for slug, name, parent, description in CATEGORIES:
        if slug not in ids:
            category = Category(
                name=name,
                slug=slug,
                parent_id=ids[parent] if parent else None,
                description=description,
                created_at=BASE_DATE,
                updated_at=BASE_DATE,
            )
            session.add(category)
            session.flush()
            ids[slug] = category.id
            created += 1
    return ids, created


def seed_catalog(count: int = DEFAULT_PRODUCTS, admin_id: int | None = None) -> tuple[int, int]:
    """Add the categories and the first `count` products that are missing, in one transaction.
    Returns (categories created, products created)."""
    created = 0
    with transaction() as session:
        category_ids, categories_created = _ensure_categories(session)
        existing_skus = set(
            session.scalars(select(func.lower(Product.sku)).where(Product.sku.is_not(None)))
        )
        taken_slugs = set(session.scalars(select(Product.slug)))
        rows: list[dict] = []
        for item in catalog(count):
            sku = item["sku"]
            if sku.lower() in existing_skus:
                continue
            slug = slugify(item["name"], max_length=MAX_SLUG_LENGTH)
            if slug in taken_slugs:  # a product made by hand (or an older seed) has it
                slug = f"{slug}-{sku.lower()}"
            taken_slugs.add(slug)
            rows.append(
                {
                    "sku": sku,
                    "slug": slug,
                    "name": item["name"],
                    "description": item["description"],
                    "price": item["price"],
                    "stock": item["stock"],
                    "category_id": category_ids[item["category"]],
                    "images": item["images"],
                    "is_active": item["is_active"],
                    "created_at": item["created_at"],
                    "updated_at": item["created_at"],
                }
            )
            if len(rows) == CHUNK_SIZE:
                inventory.add_products(rows, user_id=admin_id)
                created += len(rows)
                rows = []
        if rows:
            inventory.add_products(rows, user_id=admin_id)
            created += len(rows)
    if created:
        # After a bulk load the planner's statistics are stale until autovacuum catches up
        # (PostgreSQL then sorted the whole table for the first page: 3x slower).
        analyze()
    return categories_created, created


SHIPPING_METHODS = [
    {"name": "Standard (3-5 days)", "price": Decimal("4.90"), "free_over": Decimal("50.00"),
     "countries": []},
    {"name": "Express (1-2 days)", "price": Decimal("14.90"), "free_over": None,
     "countries": ["US", "CA"]},
    {"name": "EU Standard (4-7 days)", "price": Decimal("6.90"), "free_over": Decimal("75.00"),
     "countries": ["AT", "BE", "DE", "ES", "FR", "IT", "NL"]},
]  # fmt: skip
# (country, region, rate): a region's rate wins over its country's.
TAX_RATES = [
    ("US", "CA", "0.0725"),
    ("US", "NY", "0.0400"),
    ("US", "TX", "0.0825"),
    ("CA", None, "0.0500"),
    ("DE", None, "0.1900"),
    ("FR", None, "0.2000"),
    ("GB", None, "0.2000"),
]
DISCOUNTS = [
    {"code": "WELCOME10", "kind": "percentage", "value": Decimal("10"), "per_customer_limit": 1},
    {"code": "SAVE5", "kind": "fixed", "value": Decimal("5.00"), "min_subtotal": Decimal("30.00")},
]


def seed_checkout() -> int:
    """Add the shipping methods, tax rates and codes that are missing; returns how many."""
    added = 0
    with transaction() as session:
        names = set(session.scalars(select(ShippingMethod.name)))
        for method in SHIPPING_METHODS:
            if method["name"] not in names:
                session.add(ShippingMethod(**method))
                added += 1
        rates = set(session.execute(select(TaxRate.country, TaxRate.region)).tuples())
        for country, region, rate in TAX_RATES:
            if (country, region) not in rates:
                session.add(TaxRate(country=country, region=region, rate=Decimal(rate)))
                added += 1
        codes = set(session.scalars(select(func.upper(Discount.code))))
        for discount in DISCOUNTS:
            if discount["code"] not in codes:
                session.add(Discount(**discount))
                added += 1
    return added


# A custom role beside the built-in ones: what the staff examples of the document edit.
CUSTOM_ROLES = {"content_editor": ["catalog:write"]}


def seed_roles() -> int:
    """Add the custom roles that are missing; returns how many."""
    added = 0
    with transaction() as session:
        names = set(session.scalars(select(Role.name)))
        for name, permissions in CUSTOM_ROLES.items():
            if name not in names:
                session.add(Role(name=name, permissions=permissions))
                added += 1
    return added


def analyze() -> None:
    with transaction() as session:
        session.execute(text("ANALYZE"))


def seed(
    admin_username: str,
    admin_email: str,
    admin_password: str,
    products: int = DEFAULT_PRODUCTS,
) -> tuple[int, bool]:
    """Returns (products created, admin created)."""
    admin, admin_created = ensure_admin(admin_username, admin_email, admin_password)
    _, created = seed_catalog(products, admin_id=admin.id)
    seed_checkout()
    seed_roles()
    return created, admin_created


def _product_count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if count < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-username", default=os.environ.get("SEED_ADMIN_USERNAME", "admin"))
    parser.add_argument(
        "--admin-email", default=os.environ.get("SEED_ADMIN_EMAIL", "admin@example.com")
    )
    parser.add_argument(
        "--admin-password", default=os.environ.get("SEED_ADMIN_PASSWORD", DEMO_ADMIN_PASSWORD)
    )
    parser.add_argument(
        "--products",
        type=_product_count,
        default=DEFAULT_PRODUCTS,
        help=f"how many products the catalog has (default {DEFAULT_PRODUCTS})",
    )
    args = parser.parse_args(argv)

    app = create_app()
    if app.config["ENV_NAME"] == "production" and args.admin_password == DEMO_ADMIN_PASSWORD:
        print("Refusing to seed the demo admin password in production.", file=sys.stderr)
        return 1
    with app.app_context():
        if not inspect(db.engine).has_table("products"):
            print("No schema yet: run `flask --app app db upgrade` first.", file=sys.stderr)
            return 1
        admin, admin_created = ensure_admin(
            args.admin_username, args.admin_email, args.admin_password
        )
        categories_created, created = seed_catalog(args.products, admin_id=admin.id)
        checkout_added = seed_checkout()
        roles_added = seed_roles()
    print(
        f"Seeded {created} new product(s) ({args.products - created} already there) and "
        f"{categories_created} new categor{'y' if categories_created == 1 else 'ies'}, "
        f"{checkout_added} new shipping method(s), tax rate(s) and code(s), "
        f"{roles_added} new custom role(s); "
        f"admin {args.admin_username!r} {'created' if admin_created else 'already there'}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
