"""catalog: categories, SKUs, slugs, images, active flag, search and sort indexes

Existing products keep their rows: each gets a slug made from its name (made unique with its
id), no SKU, no category, no images, and stays active.

Full-text search lives in the database: on SQLite an FTS5 table kept by triggers (a later
migration that rebuilds `products` in batch mode must create them again); on PostgreSQL a
generated tsvector column with a GIN index.

Revision ID: c41d7e2a9b10
Revises: a79a249e31f8
Create Date: 2026-11-26 01:15:00

"""
import sqlalchemy as sa
from alembic import op
from slugify import slugify

# revision identifiers, used by Alembic.
revision = "c41d7e2a9b10"
down_revision = "a79a249e31f8"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE products_fts USING fts5("
    "name, sku, description, content='products', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN "
    "INSERT INTO products_fts(rowid, name, sku, description) "
    "VALUES (new.id, new.name, new.sku, new.description); END",
    "CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN "
    "INSERT INTO products_fts(products_fts, rowid, name, sku, description) "
    "VALUES ('delete', old.id, old.name, old.sku, old.description); END",
    "CREATE TRIGGER products_fts_update AFTER UPDATE OF name, sku, description ON products "
    "BEGIN "
    "INSERT INTO products_fts(products_fts, rowid, name, sku, description) "
    "VALUES ('delete', old.id, old.name, old.sku, old.description); "
    "INSERT INTO products_fts(rowid, name, sku, description) "
    "VALUES (new.id, new.name, new.sku, new.description); END",
    "INSERT INTO products_fts(products_fts) VALUES ('rebuild')",
    "CREATE INDEX ix_products_name_key ON products (lower(name), id)",
]
POSTGRES_SEARCH = [
    # Words split at every non-alphanumeric character, as FTS5's unicode61 tokenizer does
    # (PostgreSQL's own parser would read "GRN-001" as "grn" and "-001").
    "ALTER TABLE products ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "to_tsvector('simple', regexp_replace(coalesce(name, '') || ' ' || coalesce(sku, '') || "
    "' ' || coalesce(description, ''), '[^[:alnum:]]+', ' ', 'g'))) STORED",
    "CREATE INDEX ix_products_search_vector ON products USING gin (search_vector)",
    # Byte order, as SQLite sorts: the same order on both engines (app.catalog.search.name_key).
    'CREATE INDEX ix_products_name_key ON products ((lower(name) COLLATE "C"), id)',
]


def upgrade():
    op.create_table(
        "categories",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("parent_id", ID, nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["categories.id"],
            name=op.f("fk_categories_parent_id_categories"), ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_categories_slug")),
    )
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_categories_parent_id"), ["parent_id"], unique=False)

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sku", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("slug", sa.String(length=220), nullable=True))
        batch_op.add_column(sa.Column("category_id", ID, nullable=True))
        batch_op.add_column(
            sa.Column("images", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(
            sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true())
        )

    products = sa.table("products", sa.column("id", ID), sa.column("name", sa.String))
    connection = op.get_bind()
    taken = set()
    for product_id, name in connection.execute(sa.select(products.c.id, products.c.name)):
        slug = slugify(name, max_length=200) or "product"
        if slug in taken:
            slug = f"{slug}-{product_id}"
        taken.add(slug)
        connection.execute(
            sa.text("UPDATE products SET slug = :slug WHERE id = :id"),
            {"slug": slug, "id": product_id},
        )

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.alter_column("slug", existing_type=sa.String(length=220), nullable=False)
        batch_op.alter_column("images", server_default=None)
        batch_op.alter_column("is_active", server_default=None)
        batch_op.create_unique_constraint(batch_op.f("uq_products_slug"), ["slug"])
        batch_op.create_foreign_key(
            batch_op.f("fk_products_category_id_categories"), "categories",
            ["category_id"], ["id"], ondelete="SET NULL",
        )
        batch_op.create_index("ix_products_category_id_id", ["category_id", "id"], unique=False)
        batch_op.create_index("ix_products_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_is_active"), ["is_active"], unique=False)
        batch_op.create_index("ix_products_price_id", ["price", "id"], unique=False)
        batch_op.create_index("ix_products_stock", ["stock"], unique=False)

    # After the batch operations: on SQLite they rebuild the table, dropping its triggers and
    # expression indexes.
    op.create_index("uq_products_sku_lower", "products", [sa.text("lower(sku)")], unique=True)
    statements = SQLITE_SEARCH if connection.dialect.name == "sqlite" else POSTGRES_SEARCH
    for statement in statements:
        op.execute(statement)


def downgrade():
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER products_fts_{trigger}")
        op.execute("DROP TABLE products_fts")
    op.drop_index("ix_products_name_key", table_name="products")
    if connection.dialect.name == "postgresql":
        op.drop_index("ix_products_search_vector", table_name="products")
        op.drop_column("products", "search_vector")
    op.drop_index("uq_products_sku_lower", table_name="products")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_stock")
        batch_op.drop_index("ix_products_price_id")
        batch_op.drop_index(batch_op.f("ix_products_is_active"))
        batch_op.drop_index("ix_products_created_at_id")
        batch_op.drop_index("ix_products_category_id_id")
        batch_op.drop_constraint(
            batch_op.f("fk_products_category_id_categories"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_products_slug"), type_="unique")
        batch_op.drop_column("is_active")
        batch_op.drop_column("images")
        batch_op.drop_column("category_id")
        batch_op.drop_column("slug")
        batch_op.drop_column("sku")
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_categories_parent_id"))
    op.drop_table("categories")
