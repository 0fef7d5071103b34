"""outgoing emails: sent_at becomes finished_at, as in every outbox table

The outbox engine (app.outbox.engine) settles every retried job the same way: `finished_at` is when
it was done or given up. Emails called it `sent_at`; a failed email now records when it was
given up too.

Revision ID: c9a3e5d7f120
Revises: b7e2f4a61c95
Create Date: 2026-12-07 19:45:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "c9a3e5d7f120"
down_revision = "b7e2f4a61c95"
branch_labels = None
depends_on = None


def upgrade():
    # RENAME COLUMN: PostgreSQL, and SQLite since 3.25; no table rebuild.
    op.execute("ALTER TABLE outgoing_emails RENAME COLUMN sent_at TO finished_at")


def downgrade():
    op.execute("ALTER TABLE outgoing_emails RENAME COLUMN finished_at TO sent_at")
