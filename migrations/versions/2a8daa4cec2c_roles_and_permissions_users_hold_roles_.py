"""roles and permissions: users hold roles, staff can be deactivated

Existing admins get the admin role, everyone else the customer role; users.is_admin goes
(it is now "holds the admin role"). The built-in roles are written here as they were when
this revision was made.

Revision ID: 2a8daa4cec2c
Revises: 391be0a44820
Create Date: 2026-12-01 09:58:14.602180

"""

from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "2a8daa4cec2c"
down_revision = "391be0a44820"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ALL = [
    "audit:read",
    "catalog:write",
    "customers:read",
    "inventory:write",
    "orders:read",
    "orders:write",
    "payments:refund",
    "settings:write",
    "staff:write",
    "webhooks:write",
]
BUILTIN_ROLES = {
    "admin": ALL,
    "catalog_manager": ["catalog:write", "inventory:write"],
    "customer": [],
    "order_manager": ["customers:read", "orders:read", "orders:write", "payments:refund"],
    "support": ["audit:read", "customers:read", "orders:read"],
}


@contextmanager
def _users_altered():
    """SQLite's batch mode copies the table and cannot see an expression index: the
    case-insensitive username index is made again after the copy."""
    op.drop_index("uq_users_username_lower", table_name="users")
    with op.batch_alter_table("users", schema=None) as batch_op:
        yield batch_op
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)


def upgrade():
    roles = op.create_table(
        "roles",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("name", name=op.f("uq_roles_name")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        roles,
        [
            {"name": name, "permissions": granted, "builtin": True, "created_at": now}
            for name, granted in BUILTIN_ROLES.items()
        ],
    )
    op.create_table(
        "user_roles",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("role_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name=op.f("fk_user_roles_role_id_roles"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role_id", name=op.f("pk_user_roles")),
    )
    with op.batch_alter_table("user_roles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_roles_role_id"), ["role_id"], unique=False)
    op.execute(
        "INSERT INTO user_roles (user_id, role_id) "
        "SELECT users.id, roles.id FROM users JOIN roles "
        "ON roles.name = CASE WHEN users.is_admin THEN 'admin' ELSE 'customer' END"
    )

    with _users_altered() as batch_op:
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.drop_column("is_admin")


def downgrade():
    with _users_altered() as batch_op:
        batch_op.add_column(
            sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.drop_column("active")
    op.execute(
        "UPDATE users SET is_admin = TRUE WHERE id IN (SELECT user_roles.user_id FROM "
        "user_roles JOIN roles ON roles.id = user_roles.role_id WHERE roles.name = 'admin')"
    )

    with op.batch_alter_table("user_roles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_roles_role_id"))
    op.drop_table("user_roles")
    op.drop_table("roles")
