"""checkout: addresses, shipping methods, tax rates, discount codes, order totals

Orders gain the breakdown they were charged (subtotal, discount, shipping, tax at a rate) and
snapshots of the address, method and code; existing orders keep their total as subtotal.
Cart lines remember the price shown when they were added.

Revision ID: 8510f5931fde
Revises: aee9e90e89e9
Create Date: 2026-12-01 05:19:30.036359

"""

import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "8510f5931fde"
down_revision = "aee9e90e89e9"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MONEY = sa.Numeric(precision=12, scale=2)
ZERO = sa.text("0")
# SQLite rebuilds orders to add its foreign keys, which drops the trigger of 1391497f4fb8.
SQLITE_ORDERS_OPENED = (
    "CREATE TRIGGER orders_opened AFTER INSERT ON orders BEGIN "
    "INSERT INTO order_status_changes (order_id, status, at, changed_by) "
    "VALUES (NEW.id, NEW.status, NEW.created_at, NEW.user_id); END"
)


@contextmanager
def rebuilding():
    """SQLite's rebuild of a table reflects the tables it refers to; their expression
    indexes cannot be reflected there (a warning), and the copy does not need them."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        yield


def upgrade():
    op.create_table(
        "discounts",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", MONEY, nullable=False),
        sa.Column("min_subtotal", MONEY, nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("usage_limit", ID, nullable=True),
        sa.Column("per_customer_limit", ID, nullable=True),
        sa.Column("used", ID, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("used >= 0", name=op.f("ck_discounts_used_non_negative")),
        sa.CheckConstraint("value >= 0", name=op.f("ck_discounts_value_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discounts")),
    )
    op.create_table(
        "shipping_methods",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("free_over", MONEY, nullable=True),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "free_over IS NULL OR free_over >= 0",
            name=op.f("ck_shipping_methods_free_over_non_negative"),
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_shipping_methods_price_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_methods")),
    )
    op.create_table(
        "tax_rates",
        sa.Column("id", ID, nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("rate", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rate >= 0 AND rate < 1", name=op.f("ck_tax_rates_rate_fraction")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_rates")),
    )
    op.create_index(
        "uq_tax_rates_country_region",
        "tax_rates",
        ["country", sa.text("lower(coalesce(region, ''))")],
        unique=True,
    )
    op.create_index("uq_discounts_code_lower", "discounts", [sa.text("lower(code)")], unique=True)
    op.create_table(
        "addresses",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("line1", sa.String(length=200), nullable=False),
        sa.Column("line2", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_addresses_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
    )
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_addresses_user_id"), ["user_id"], unique=False)

    op.create_table(
        "discount_redemptions",
        sa.Column("id", ID, nullable=False),
        sa.Column("discount_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["discount_id"],
            ["discounts.id"],
            name=op.f("fk_discount_redemptions_discount_id_discounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_discount_redemptions_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_discount_redemptions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discount_redemptions")),
        sa.UniqueConstraint("order_id", name=op.f("uq_discount_redemptions_order_id")),
    )
    with op.batch_alter_table("discount_redemptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_discount_redemptions_discount_user", ["discount_id", "user_id"], unique=False
        )

    with op.batch_alter_table("cart_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("price_when_added", MONEY, nullable=True))

    sqlite = op.get_bind().dialect.name == "sqlite"
    with rebuilding():
        with op.batch_alter_table("orders", schema=None) as batch_op:
            batch_op.add_column(sa.Column("subtotal", MONEY, nullable=False, server_default=ZERO))
            batch_op.add_column(
                sa.Column("discount_total", MONEY, nullable=False, server_default=ZERO)
            )
            batch_op.add_column(
                sa.Column("shipping_total", MONEY, nullable=False, server_default=ZERO)
            )
            batch_op.add_column(sa.Column("tax_total", MONEY, nullable=False, server_default=ZERO))
            batch_op.add_column(
                sa.Column(
                    "tax_rate",
                    sa.Numeric(precision=6, scale=4),
                    nullable=False,
                    server_default=ZERO,
                )
            )
            batch_op.add_column(sa.Column("shipping_address", sa.JSON(), nullable=True))
            batch_op.add_column(sa.Column("shipping_method_id", ID, nullable=True))
            batch_op.add_column(
                sa.Column("shipping_method_name", sa.String(length=100), nullable=True)
            )
            batch_op.add_column(sa.Column("discount_id", ID, nullable=True))
            batch_op.add_column(sa.Column("discount_code", sa.String(length=50), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f("fk_orders_shipping_method_id_shipping_methods"),
                "shipping_methods",
                ["shipping_method_id"],
                ["id"],
                ondelete="SET NULL",
            )
            batch_op.create_foreign_key(
                batch_op.f("fk_orders_discount_id_discounts"),
                "discounts",
                ["discount_id"],
                ["id"],
                ondelete="SET NULL",
            )
        op.execute("UPDATE orders SET subtotal = total")
        # The defaults only filled the existing rows: new ones always get their values.
        with op.batch_alter_table("orders", schema=None) as batch_op:
            for column in ("subtotal", "discount_total", "shipping_total", "tax_total", "tax_rate"):
                batch_op.alter_column(column, server_default=None)
    if sqlite:
        op.execute(SQLITE_ORDERS_OPENED)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    with rebuilding():
        with op.batch_alter_table("orders", schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f("fk_orders_discount_id_discounts"), type_="foreignkey"
            )
            batch_op.drop_constraint(
                batch_op.f("fk_orders_shipping_method_id_shipping_methods"), type_="foreignkey"
            )
            batch_op.drop_column("discount_code")
            batch_op.drop_column("discount_id")
            batch_op.drop_column("shipping_method_name")
            batch_op.drop_column("shipping_method_id")
            batch_op.drop_column("shipping_address")
            batch_op.drop_column("tax_rate")
            batch_op.drop_column("tax_total")
            batch_op.drop_column("shipping_total")
            batch_op.drop_column("discount_total")
            batch_op.drop_column("subtotal")
    if sqlite:
        op.execute(SQLITE_ORDERS_OPENED)

    with rebuilding(), op.batch_alter_table("cart_items", schema=None) as batch_op:
        batch_op.drop_column("price_when_added")

    with op.batch_alter_table("discount_redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_discount_redemptions_discount_user")

    op.drop_table("discount_redemptions")
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_addresses_user_id"))

    op.drop_table("addresses")
    op.drop_index("uq_discounts_code_lower", table_name="discounts")
    op.drop_index("uq_tax_rates_country_region", table_name="tax_rates")
    op.drop_table("tax_rates")
    op.drop_table("shipping_methods")
    op.drop_table("discounts")
