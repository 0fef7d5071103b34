"""guest carts: a cart reached by its token, and its lines

Revision ID: 391be0a44820
Revises: b0017da20aa1
Create Date: 2026-12-01 05:55:57.039262

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "391be0a44820"
down_revision = "b0017da20aa1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "guest_carts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guest_carts")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_guest_carts_token_hash")),
    )
    with op.batch_alter_table("guest_carts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guest_carts_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "guest_cart_items",
        sa.Column("cart_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("quantity", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("price_when_added", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_guest_cart_items_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["cart_id"],
            ["guest_carts.id"],
            name=op.f("fk_guest_cart_items_cart_id_guest_carts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_guest_cart_items_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cart_id", "product_id", name=op.f("pk_guest_cart_items")),
    )
    with op.batch_alter_table("guest_cart_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_guest_cart_items_product_id"), ["product_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("guest_cart_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guest_cart_items_product_id"))

    op.drop_table("guest_cart_items")
    with op.batch_alter_table("guest_carts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guest_carts_expires_at"))

    op.drop_table("guest_carts")
