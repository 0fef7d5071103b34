"""catalog version, bumped by every catalog change

The public catalog reads (product pages, the product list, categories) are served from a
rendered copy while the catalog has not changed since it was rendered (app.caching). What
"changed" means is kept by the database, so every writer counts (the app, seed_data.py, a
bulk import, psql): any insert, update or delete of a product or a category adds one to
catalog_stats.version, in the writer's own transaction. A copy is served only while the
version it was rendered at is still the committed one.

On PostgreSQL the bump is a deferred constraint trigger: it runs at commit, so concurrent
checkouts do not queue on the catalog_stats row for the rest of their transaction (only for
the commit itself). On SQLite writers are serialised anyway; plain row triggers. A later
migration that rebuilds `products` or `categories` in batch mode on SQLite must create the
triggers again.

Revision ID: cfb4e0223dfa
Revises: 72a0840f24d1
Create Date: 2026-12-01 13:10:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "cfb4e0223dfa"
down_revision = "72a0840f24d1"
branch_labels = None
depends_on = None

TABLES = ("products", "categories")
EVENTS = ("insert", "update", "delete")
BUMP = "UPDATE catalog_stats SET version = version + 1 WHERE id = 1"
POSTGRES_FUNCTION = f"""CREATE FUNCTION catalog_changed() RETURNS trigger AS $$
BEGIN
  {BUMP};
  RETURN NULL;
END
$$ LANGUAGE plpgsql"""


def upgrade():
    op.execute("ALTER TABLE catalog_stats ADD COLUMN version BIGINT NOT NULL DEFAULT 0")
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for event in EVENTS:
                op.execute(
                    f"CREATE TRIGGER {table}_catalog_{event} AFTER {event.upper()} ON {table} "
                    f"BEGIN {BUMP}; END"
                )
        return
    op.execute(POSTGRES_FUNCTION)
    for table in TABLES:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER {table}_catalog_changed "
            f"AFTER INSERT OR UPDATE OR DELETE ON {table} DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION catalog_changed()"
        )
        # Constraint triggers cannot fire on TRUNCATE.
        op.execute(
            f"CREATE TRIGGER {table}_catalog_truncated AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed()"
        )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER {table}_catalog_{event}")
    else:
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_catalog_truncated ON {table}")
            op.execute(f"DROP TRIGGER {table}_catalog_changed ON {table}")
        op.execute("DROP FUNCTION catalog_changed()")
    op.execute("ALTER TABLE catalog_stats DROP COLUMN version")
