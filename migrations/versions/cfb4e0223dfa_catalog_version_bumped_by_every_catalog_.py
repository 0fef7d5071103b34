"""catalog version, bumped by every catalog change

The public catalog reads (product pages, the product list, categories) are served from a
rendered copy while the catalog has not changed since it was rendered (app.api.caching). What
"changed" means is kept by the database, so every writer counts (the app, seed_data.py, a
bulk import, psql): any insert, update or delete of a product or a category adds one to a
row of catalog_versions, in the writer's own transaction. The catalog version is the sum of
the rows; a copy is served only while the version it was rendered at is still the sum.

Why several rows: on PostgreSQL a transaction bumps the row of its own transaction id
(txid % 16), at commit (a deferred constraint trigger), so concurrent checkouts neither
queue on one row for their whole transaction nor through each other's commit: one shared
row cost a third of the throughput of 16 concurrent product writers, 16 rows a tenth. A
transaction locks one row only: no deadlock. SQLite has one writer at a time: its row
triggers bump row 0. A later migration that rebuilds `products` or `categories` in batch
mode on SQLite must create the triggers again.

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

SHARDS = 16
TABLES = ("products", "categories")
EVENTS = ("insert", "update", "delete")
POSTGRES_FUNCTION = f"""CREATE FUNCTION catalog_changed() RETURNS trigger AS $$
BEGIN
  UPDATE catalog_versions SET version = version + 1 WHERE shard = txid_current() % {SHARDS};
  RETURN NULL;
END
$$ LANGUAGE plpgsql"""


def upgrade():
    op.execute(
        "CREATE TABLE catalog_versions (shard INTEGER PRIMARY KEY, version BIGINT NOT NULL)"
    )
    rows = ", ".join(f"({shard}, 0)" for shard in range(SHARDS))
    op.execute(f"INSERT INTO catalog_versions (shard, version) VALUES {rows}")
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for event in EVENTS:
                op.execute(
                    f"CREATE TRIGGER {table}_catalog_{event} AFTER {event.upper()} ON {table} "
                    "BEGIN UPDATE catalog_versions SET version = version + 1 WHERE shard = 0; END"
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
    op.execute("DROP TABLE catalog_versions")
