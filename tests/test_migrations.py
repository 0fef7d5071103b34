"""The migrations carry existing data forward: rows kept, ledger opened, histories started.

Each test builds its own fresh database (a SQLite file, or a throwaway PostgreSQL database on
TEST_POSTGRES_URL's server), migrates it to the first revision, inserts "legacy" rows with
raw SQL, then upgrades to head.
"""

import flask_migrate
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.accounts.services import issue_tokens
from app.platform.db import db, include_object
from app.platform.models import User
from tests.databases import fresh_database

FIRST_REVISION = "eb3eefba045b"
CORE_TABLES = {"users", "products", "cart_items", "orders", "order_items", "revoked_tokens"}
NEW_TABLES = {
    "stock_movements",
    "order_status_changes",
    "idempotency_keys",
    "token_families",
    "categories",
    "events",
    "webhook_subscriptions",
    "webhook_deliveries",
    "webhook_attempts",
    "outgoing_emails",
    "password_resets",
    "addresses",
    "shipping_methods",
    "tax_rates",
    "discounts",
    "discount_redemptions",
    "payment_actions",
    "provider_events",
    "guest_carts",
    "guest_cart_items",
    "roles",
    "user_roles",
    "audit_log",
    "worker_heartbeats",
}
# Replaced by token_families: a token revoked one by one became a login revoked as a whole.
DROPPED_TABLES = {"revoked_tokens"}
HEAD_TABLES = (CORE_TABLES - DROPPED_TABLES) | NEW_TABLES

LEGACY_ROWS = [
    "INSERT INTO users (id, username, email, password_hash, is_admin, created_at) "
    "VALUES (1, 'legacy', 'legacy@example.com', 'x', FALSE, CURRENT_TIMESTAMP), "
    "(2, 'Boss', 'boss@example.com', 'x', TRUE, CURRENT_TIMESTAMP)",
    "INSERT INTO products (id, name, description, price, stock, created_at, updated_at) "
    "VALUES (1, 'Mug', 'Stoneware', 9.99, 7, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
    "(2, 'Pen', '', 1.50, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO orders (id, user_id, status, total, created_at) "
    "VALUES (1, 1, 'paid', 19.98, CURRENT_TIMESTAMP), "
    "(2, 1, 'delivered', 1.50, CURRENT_TIMESTAMP)",
    "INSERT INTO order_items (id, order_id, product_id, product_name, unit_price, quantity) "
    "VALUES (1, 1, 1, 'Mug', 9.99, 2), (2, 2, 2, 'Pen', 1.50, 1)",
]
SNAPSHOT_QUERIES = {
    "users": "SELECT id, username, email FROM users ORDER BY id",
    "products": "SELECT id, name, description, price, stock FROM products ORDER BY id",
    "orders": "SELECT id, user_id, status, total FROM orders ORDER BY id",
    "order_items": (
        "SELECT id, order_id, product_id, product_name, unit_price, quantity "
        "FROM order_items ORDER BY id"
    ),
}


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def fresh_database_url(tmp_path):
    with fresh_database(tmp_path, "store_mig") as url:
        yield url


@pytest.fixture
def migration_app(app, fresh_database_url):
    """An app on the fresh database (`app` first, so the testing config is selected)."""
    other = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url})
    yield other
    with other.app_context():
        db.engine.dispose()


@pytest.fixture
def legacy(migration_app):
    """The fresh database at the first revision with legacy rows; returns their snapshot."""
    with migration_app.app_context():
        flask_migrate.upgrade(revision=FIRST_REVISION)
        with db.engine.begin() as conn:
            for statement in LEGACY_ROWS:
                conn.execute(text(statement))
        return snapshot()


@pytest.fixture
def upgraded(migration_app, legacy):
    """The legacy database upgraded to head."""
    with migration_app.app_context():
        flask_migrate.upgrade()
    return legacy


# --- helpers (call inside the migration app's context) ----------------------------------------


def rows(sql: str) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def snapshot() -> dict[str, list[tuple]]:
    return {table: rows(sql) for table, sql in SNAPSHOT_QUERIES.items()}


def table_names() -> set[str]:
    """The tables the models describe (not SQLite's FTS5 search index and its shadows)."""
    return {
        name
        for name in inspect(db.engine).get_table_names()
        if include_object(None, name, "table", True, None)
    }


def current_revision() -> str | None:
    with db.engine.connect() as conn:
        versions = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    assert len(versions) <= 1
    return versions[0] if versions else None


# --- tests ------------------------------------------------------------------------------------


def test_first_revision_has_only_the_core_tables(migration_app, legacy):
    with migration_app.app_context():
        assert table_names() == CORE_TABLES | {"alembic_version"}
        assert current_revision() == FIRST_REVISION


def test_upgrade_to_head_keeps_existing_rows(migration_app, upgraded):
    with migration_app.app_context():
        after = snapshot()
        assert table_names() == HEAD_TABLES | {"alembic_version"}

    assert after == upgraded
    assert [row[4] for row in after["products"]] == [7, 0]
    assert len(after["orders"]) == 2


def test_upgrade_opens_the_ledger_with_current_stock(migration_app, upgraded):
    with migration_app.app_context():
        movements = rows(
            "SELECT product_id, delta, reason, order_id, user_id FROM stock_movements "
            "ORDER BY product_id"
        )

    assert movements == [(1, 7, "opening balance", None, None)]


def test_upgrade_writes_no_movement_for_out_of_stock_products(migration_app, upgraded):
    with migration_app.app_context():
        count = rows("SELECT COUNT(*) FROM stock_movements WHERE product_id = 2")

    assert count == [(0,)]


def test_upgraded_ledger_balances_for_every_product(migration_app, upgraded):
    with migration_app.app_context():
        balances = rows(
            "SELECT p.id, p.stock, COALESCE(SUM(m.delta), 0) FROM products p "
            "LEFT JOIN stock_movements m ON m.product_id = p.id GROUP BY p.id, p.stock "
            "ORDER BY p.id"
        )

    assert balances == [(1, 7, 7), (2, 0, 0)]


def test_upgrade_starts_each_orders_history_with_its_status(migration_app, upgraded):
    with migration_app.app_context():
        history = rows(
            "SELECT order_id, status, changed_by FROM order_status_changes ORDER BY order_id"
        )
        same_time = rows(
            "SELECT COUNT(*) FROM order_status_changes c JOIN orders o ON o.id = c.order_id "
            "WHERE c.at = o.created_at"
        )

    assert history == [(1, "paid", None), (2, "delivered", None)]
    assert same_time == [(2,)]


def test_upgraded_legacy_order_is_served_with_its_history(migration_app, upgraded):
    with migration_app.app_context():
        token = issue_tokens(db.session.get(User, 1))["access_token"]  # the legacy user logs in

    response = migration_app.test_client().get(
        "/api/orders/1", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "paid"
    assert body["total"] == "19.98"
    assert [change["status"] for change in body["status_history"]] == ["paid"]
    assert body["status_history"][0]["at"].endswith("+00:00")
    # Placed before checkout priced anything: the total is all subtotal, picked up.
    assert body["totals"] == {
        "subtotal": "19.98",
        "discount": "0.00",
        "shipping": "0.00",
        "tax": "0.00",
        "total": "19.98",
    }
    assert (body["tax_rate"], body["shipping_address"], body["shipping_method"]) == (
        "0.0000",
        None,
        None,
    )


def test_an_order_placed_after_the_upgrade_opens_its_history(migration_app, upgraded):
    """SQLite rebuilds `orders` to add the checkout columns: the trigger that writes an
    order's first history row must survive it."""
    with migration_app.app_context():
        token = issue_tokens(db.session.get(User, 1))["access_token"]
        if db.engine.dialect.name == "postgresql":
            # The legacy rows were inserted with their ids, past the sequences.
            for table in ("orders", "order_items"):
                rows(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 2)")
    client = migration_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        client.post("/api/cart", json={"product_id": 1, "quantity": 1}, headers=headers).status_code
        == 200
    )

    placed = client.post("/api/orders", headers=headers)

    assert placed.status_code == 201, placed.get_data(as_text=True)
    with migration_app.app_context():
        history = rows(
            "SELECT status FROM order_status_changes WHERE order_id = "
            f"{int(placed.get_json()['id'])}"
        )
    assert history == [("pending",)]


def test_upgrade_gives_admins_the_admin_role_and_everyone_else_customer(migration_app, upgraded):
    with migration_app.app_context():
        held = rows(
            "SELECT user_roles.user_id, roles.name FROM user_roles "
            "JOIN roles ON roles.id = user_roles.role_id ORDER BY user_roles.user_id"
        )
        active = rows("SELECT id, active FROM users ORDER BY id")
        builtin = rows("SELECT name, builtin FROM roles ORDER BY name")
    assert held == [(1, "customer"), (2, "admin")]
    assert [(user_id, bool(flag)) for user_id, flag in active] == [(1, True), (2, True)]
    assert [(name, bool(flag)) for name, flag in builtin] == [
        ("admin", True),
        ("catalog_manager", True),
        ("customer", True),
        ("order_manager", True),
        ("support", True),
    ]


def test_upgrade_keeps_usernames_unique_whatever_their_case(migration_app, upgraded):
    """SQLite rebuilt the users table: its expression index was made again."""
    with migration_app.app_context(), pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, email, password_hash, created_at) "
                "VALUES (3, 'LEGACY', 'other@example.com', 'x', CURRENT_TIMESTAMP)"
            )
        )


def test_downgrade_to_first_revision_drops_new_tables_and_keeps_data(migration_app, upgraded):
    with migration_app.app_context():
        flask_migrate.downgrade(revision=FIRST_REVISION)

        assert table_names() == CORE_TABLES | {"alembic_version"}
        assert current_revision() == FIRST_REVISION
        assert snapshot() == upgraded
        admins = rows("SELECT id, is_admin FROM users ORDER BY id")
    assert [(user_id, bool(flag)) for user_id, flag in admins] == [(1, False), (2, True)]


def test_downgrade_to_base_removes_every_table(migration_app, upgraded):
    with migration_app.app_context():
        flask_migrate.downgrade(revision="base")

        assert table_names() - {"alembic_version"} == set()
        assert current_revision() is None


def test_upgrade_after_full_downgrade_rebuilds_the_schema(migration_app, upgraded):
    with migration_app.app_context():
        flask_migrate.downgrade(revision="base")
        flask_migrate.upgrade()

        assert table_names() == HEAD_TABLES | {"alembic_version"}
        assert rows("SELECT COUNT(*) FROM products") == [(0,)]
        assert current_revision() != FIRST_REVISION
        assert current_revision() is not None


# --- the catalog revision, on a database that holds data from the revision before -------------

CATALOG_REVISION = "c41d7e2a9b10"
BEFORE_CATALOG = "a79a249e31f8"
STORE_ROWS = [
    "INSERT INTO users (id, username, email, password_hash, is_admin, created_at) "
    "VALUES (1, 'shopper', 'shopper@example.com', 'x', FALSE, CURRENT_TIMESTAMP)",
    "INSERT INTO products (id, name, description, price, stock, created_at, updated_at) VALUES "
    "(1, 'Coffee Mug', 'Stoneware mug', 9.99, 7, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
    "(2, 'Coffee mug', 'Enamel camping mug', 7.50, 3, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
    "(3, 'Théière', 'Cast iron teapot', 45.00, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO stock_movements (id, product_id, delta, reason, created_at) VALUES "
    "(1, 1, 7, 'initial stock', CURRENT_TIMESTAMP), (2, 2, 3, 'initial stock', CURRENT_TIMESTAMP)",
    "INSERT INTO cart_items (user_id, product_id, quantity, added_at) "
    "VALUES (1, 1, 2, CURRENT_TIMESTAMP), (1, 2, 1, CURRENT_TIMESTAMP)",
]
STORE_SNAPSHOT = {
    "products": "SELECT id, name, description, price, stock FROM products ORDER BY id",
    "stock_movements": "SELECT id, product_id, delta FROM stock_movements ORDER BY id",
    "cart_items": "SELECT user_id, product_id, quantity FROM cart_items ORDER BY product_id",
}


@pytest.fixture
def catalog_upgraded(migration_app):
    """Rows written at the revision before the catalog, then the catalog migration."""
    with migration_app.app_context():
        flask_migrate.upgrade(revision=BEFORE_CATALOG)
        with db.engine.begin() as conn:
            for statement in STORE_ROWS:
                conn.execute(text(statement))
        before = {table: rows(sql) for table, sql in STORE_SNAPSHOT.items()}
        flask_migrate.upgrade(revision=CATALOG_REVISION)
        return before


def test_catalog_migration_keeps_products_carts_and_ledger(migration_app, catalog_upgraded):
    with migration_app.app_context():
        after = {table: rows(sql) for table, sql in STORE_SNAPSHOT.items()}
        catalog = rows("SELECT id, slug, sku, category_id, is_active FROM products ORDER BY id")
    assert after == catalog_upgraded
    # Slugs from the names, unique (the second mug's is made unique with its id).
    assert catalog == [
        (1, "coffee-mug", None, None, True),
        (2, "coffee-mug-2", None, None, True),
        (3, "theiere", None, None, True),
    ]


def test_catalog_migration_makes_existing_products_searchable(migration_app, catalog_upgraded):
    with migration_app.app_context():
        flask_migrate.upgrade()  # and the revisions after it, which the API relies on
        assert rows("SELECT listed_products FROM catalog_stats") == [(3,)]
    client = migration_app.test_client()
    found = client.get("/api/products?q=mug&sort=relevance").get_json()
    assert [item["id"] for item in found["items"]] == [1, 2]
    assert found["items"][0]["images"] == []
    assert found["items"][0]["category"] is None
    teapot = client.get("/api/products/by-slug/theiere").get_json()
    assert (teapot["id"], teapot["name"]) == (3, "Théière")
    by_name = client.get("/api/products?sort=name").get_json()["items"]
    assert [item["id"] for item in by_name] == [1, 2, 3]


def test_catalog_migration_search_follows_later_changes(migration_app, catalog_upgraded):
    with migration_app.app_context():
        flask_migrate.upgrade()
    with migration_app.app_context(), db.engine.begin() as conn:
        conn.execute(text("UPDATE products SET name = 'Espresso cup' WHERE id = 1"))
        conn.execute(text("DELETE FROM cart_items WHERE product_id = 2"))
        conn.execute(text("DELETE FROM stock_movements WHERE product_id = 2"))
        conn.execute(text("DELETE FROM products WHERE id = 2"))
    client = migration_app.test_client()
    assert client.get("/api/products?q=coffee").get_json()["total"] == 0
    assert [item["id"] for item in client.get("/api/products?q=espresso").get_json()["items"]] == [
        1
    ]


def test_catalog_migration_downgrades_with_data(migration_app, catalog_upgraded):
    with migration_app.app_context():
        flask_migrate.downgrade(revision=BEFORE_CATALOG)
        assert "categories" not in table_names()
        assert {table: rows(sql) for table, sql in STORE_SNAPSHOT.items()} == catalog_upgraded


# --- tax rates keyed by region (a4d1c7e9b203) ------------------------------------------------

REGION_KEY_REVISION = "a4d1c7e9b203"
TAX_ROWS = (
    "INSERT INTO tax_rates (id, country, region, rate, created_at, updated_at) VALUES "
    "(1, 'US', NULL, 0.05, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
    "(2, 'US', ' tx ', 0.0825, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
    "(3, 'ES', 'Ávila', 0.1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


def test_tax_rates_get_their_region_keys_and_downgrade(migration_app):
    with migration_app.app_context():
        flask_migrate.upgrade(revision=f"{REGION_KEY_REVISION}-1")
        with db.engine.begin() as conn:
            conn.execute(text(TAX_ROWS))
        flask_migrate.upgrade(revision=REGION_KEY_REVISION)
        assert rows("SELECT id, region, region_key FROM tax_rates ORDER BY id") == [
            (1, None, ""),
            (2, "tx", "TX"),
            (3, "Ávila", "AV"),
        ]
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO tax_rates (country, region, region_key, rate, created_at, "
                    "updated_at) VALUES ('US', 'Texas', 'TX', 0.01, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                )
            )
        flask_migrate.downgrade(revision=f"{REGION_KEY_REVISION}-1")
        assert rows("SELECT id, region FROM tax_rates ORDER BY id") == [
            (1, None),
            (2, "tx"),
            (3, "Ávila"),
        ]


def test_tax_rates_naming_one_region_twice_stop_the_upgrade(migration_app, caplog):
    with migration_app.app_context():
        flask_migrate.upgrade(revision=f"{REGION_KEY_REVISION}-1")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO tax_rates (id, country, region, rate, created_at, updated_at) "
                    "VALUES (1, 'US', 'TX', 0.05, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
                    "(2, 'US', 'Texas', 0.06, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        with pytest.raises(SystemExit):  # flask_migrate logs the error and exits
            flask_migrate.upgrade(revision=REGION_KEY_REVISION)
        assert "Tax rates 1 and 2 name the same region of US (TX)" in caplog.text
        assert current_revision() != REGION_KEY_REVISION
