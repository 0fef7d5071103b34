"""payments: each order's payment, provider actions and events

Orders gain their payment (provider, status, currency, the provider's reference). Existing
orders were paid by an admin (the manual provider): succeeded once their history says paid.

Revision ID: b0017da20aa1
Revises: 8510f5931fde
Create Date: 2026-12-01 05:40:25.078744

"""

import sqlalchemy as sa
from alembic import op


PAID_BEFORE = """
UPDATE orders SET payment_status = 'succeeded'
WHERE EXISTS (SELECT 1 FROM order_status_changes c WHERE c.order_id = orders.id AND c.status = 'paid')
"""

# revision identifiers, used by Alembic.
revision = "b0017da20aa1"
down_revision = "8510f5931fde"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "payment_actions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_payment_actions_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_actions")),
    )
    with op.batch_alter_table("payment_actions", schema=None) as batch_op:
        batch_op.create_index("ix_payment_actions_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_actions_order_id"), ["order_id"], unique=False)

    op.create_table(
        "provider_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_provider_events_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_events")),
    )
    # Plain ADD COLUMNs (no rebuild of orders on SQLite); the defaults fill existing rows.
    op.add_column(
        "orders",
        sa.Column("payment_provider", sa.String(20), nullable=False, server_default="manual"),
    )
    op.add_column(
        "orders",
        sa.Column(
            "payment_status", sa.String(20), nullable=False, server_default="requires_payment"
        ),
    )
    op.add_column(
        "orders", sa.Column("payment_currency", sa.String(3), nullable=False, server_default="usd")
    )
    op.add_column("orders", sa.Column("payment_reference", sa.String(255), nullable=True))
    op.add_column("orders", sa.Column("payment_client_secret", sa.String(255), nullable=True))
    op.add_column("orders", sa.Column("refund_reference", sa.String(255), nullable=True))
    op.add_column("orders", sa.Column("payment_flagged", sa.String(500), nullable=True))
    op.create_index("ix_orders_payment_reference", "orders", ["payment_reference"])
    op.execute(PAID_BEFORE)


def downgrade():
    op.drop_index("ix_orders_payment_reference", table_name="orders")
    for column in (
        "payment_flagged",
        "refund_reference",
        "payment_client_secret",
        "payment_reference",
        "payment_currency",
        "payment_status",
        "payment_provider",
    ):
        op.drop_column("orders", column)

    op.drop_table("provider_events")
    with op.batch_alter_table("payment_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_actions_order_id"))
        batch_op.drop_index("ix_payment_actions_due")

    op.drop_table("payment_actions")
