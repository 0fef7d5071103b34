"""payment actions can refund an intent that is not the order's payment

A provider's success whose intent is not the order's own, or whose amount or currency differ,
is refunded in full (payment action `refund_intent`, by `reference`), once: the partial
unique index keeps a second event reporting the same intent from queuing a second refund.

Revision ID: b7e2f4a61c95
Revises: a4d1c7e9b203
Create Date: 2026-12-07 19:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7e2f4a61c95"
down_revision = "a4d1c7e9b203"
branch_labels = None
depends_on = None

NOT_NULL = sa.text("reference IS NOT NULL")


def upgrade():
    op.add_column("payment_actions", sa.Column("reference", sa.String(length=255), nullable=True))
    op.create_index(
        "uq_payment_actions_reference",
        "payment_actions",
        ["reference"],
        unique=True,
        sqlite_where=NOT_NULL,
        postgresql_where=NOT_NULL,
    )


def downgrade():
    op.drop_index("uq_payment_actions_reference", table_name="payment_actions")
    op.execute("DELETE FROM payment_actions WHERE kind = 'refund_intent'")
    op.drop_column("payment_actions", "reference")
