"""The migrations carry existing data forward: rows kept, ledger opened, histories started.

Each test builds its own fresh database (a SQLite file, or a throwaway PostgreSQL database on
TEST_POSTGRES_URL's server), migrates it to the first revision, inserts "legacy" rows with
raw SQL, then upgrades to head.
"""

import flask_migrate
import pytest
from sqlalchemy import inspect, text

from app import create_app
from app.auth.services import issue_tokens
from app.extensions import db
from app.models import User
from tests.databases import fresh_database

FIRST_REVISION = "eb3eefba045b"
CORE_TABLES = {"users", "products", "cart_items", "orders", "order_items", "revoked_tokens"}
NEW_TABLES = {"stock_movements", "order_status_changes", "idempotency_keys", "token_families"}
# Replaced by token_families: a token revoked one by one became a login revoked as a whole.
DROPPED_TABLES = {"revoked_tokens"}
HEAD_TABLES = (CORE_TABLES - DROPPED_TABLES) | NEW_TABLES

LEGACY_ROWS = [
    "INSERT INTO users (id, username, email, password_hash, is_admin, created_at) "
    "VALUES (1, 'legacy', 'legacy@example.com', 'x', FALSE, CURRENT_TIMESTAMP)",
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
    "users": "SELECT id, username, email, is_admin FROM users ORDER BY id",
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
    return set(inspect(db.engine).get_table_names())


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


def test_downgrade_to_first_revision_drops_new_tables_and_keeps_data(migration_app, upgraded):
    with migration_app.app_context():
        flask_migrate.downgrade(revision=FIRST_REVISION)

        assert table_names() == CORE_TABLES | {"alembic_version"}
        assert current_revision() == FIRST_REVISION
        assert snapshot() == upgraded


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
