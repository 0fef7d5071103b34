"""Load a demo catalog and an admin account, idempotently.

    python seed_data.py                 # uses DATABASE_URL, or the instance SQLite file
    python seed_data.py --admin-password 'something-secret'

Running it again adds nothing: products are matched by name, the admin by username.
"""

import argparse
import os
import sys
from decimal import Decimal

from sqlalchemy import inspect, select

from app import create_app
from app.auth.services import ensure_admin
from app.extensions import db
from app.models import Product
from app.products.services import create_product

DEMO_ADMIN_PASSWORD = "admin-password"

DEMO_PRODUCTS = [
    ("Coffee mug", "Stoneware mug, 350 ml, dishwasher safe.", "12.50", 40),
    ("Espresso beans 1 kg", "Medium roast, Brazil and Ethiopia blend.", "24.90", 25),
    ("Pour-over kettle", "Gooseneck kettle, 1 l, stainless steel.", "39.00", 10),
    ("Ceramic dripper", "Size 02 ceramic cone dripper.", "19.99", 30),
    ("Paper filters (100)", "Unbleached filters for size 02 drippers.", "4.99", 200),
    ("Burr grinder", "Conical burr hand grinder with 40 settings.", "89.00", 8),
    ("Digital scale", "0.1 g precision scale with timer.", "29.95", 15),
    ("Travel tumbler", "Vacuum insulated, 470 ml.", "22.00", 35),
    ("Milk frother", "Handheld frother, battery powered.", "14.75", 50),
    ("French press", "Borosilicate glass, 1 l.", "27.50", 12),
    ("Cold brew jar", "Glass jar with mesh filter, 1.5 l.", "32.00", 3),
    ("Gift card", "A store gift card worth 50.00.", "50.00", 1000),
]


def seed(admin_username: str, admin_email: str, admin_password: str) -> tuple[int, bool]:
    """Returns (products created, admin created)."""
    admin, admin_created = ensure_admin(admin_username, admin_email, admin_password)
    existing = set(db.session.scalars(select(Product.name).where(Product.deleted_at.is_(None))))
    created = 0
    for name, description, price, stock in DEMO_PRODUCTS:
        if name not in existing:
            data = {"name": name, "description": description, "price": Decimal(price)}
            create_product({**data, "stock": stock}, admin_id=admin.id)
            created += 1
    return created, admin_created


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-username", default=os.environ.get("SEED_ADMIN_USERNAME", "admin"))
    parser.add_argument(
        "--admin-email", default=os.environ.get("SEED_ADMIN_EMAIL", "admin@example.com")
    )
    parser.add_argument(
        "--admin-password", default=os.environ.get("SEED_ADMIN_PASSWORD", DEMO_ADMIN_PASSWORD)
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
        created, admin_created = seed(args.admin_username, args.admin_email, args.admin_password)
    print(
        f"Seeded {created} new product(s) ({len(DEMO_PRODUCTS) - created} already there); "
        f"admin {args.admin_username!r} {'created' if admin_created else 'already there'}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
