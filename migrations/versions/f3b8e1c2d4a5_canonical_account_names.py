"""canonical account names: emails NFKC-normalised and case-folded, usernames NFKC

Sign-up now stores each email in its canonical form (app.accounts.identity): NFKC, case-folded,
an internationalised domain as its IDNA A-label. Existing rows are brought to that form so
logins and the uniqueness check compare like with like. A row is left as it is when its
canonical form belongs to another row already (the older account keeps it; the listing is
logged for the operator) or when the address has no canonical form (a non-ASCII local part,
now refused at sign-up: its owner keeps the account). No schema change.

The rules are copied here, not imported, so this migration keeps doing what it did.

Revision ID: f3b8e1c2d4a5
Revises: d7a3c9e4b512
Create Date: 2026-11-30 17:20:00

"""

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f3b8e1c2d4a5"
down_revision = "d7a3c9e4b512"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _canonical_email(address: str) -> str | None:
    text = unicodedata.normalize("NFKC", address).casefold().strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or not local.isascii():
        return None
    try:
        canonical = f"{local}@{domain if domain.isascii() else domain.encode('idna').decode()}"
    except UnicodeError:
        return None
    return canonical if len(canonical) <= 254 else None  # the column's size


def upgrade():
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, username, email FROM users ORDER BY id")).all()
    emails = {email for _, _, email in rows}
    names = {username.lower() for _, username, _ in rows}
    kept = []
    for user_id, username, email in rows:
        canonical = _canonical_email(email)
        if canonical is not None and canonical != email:
            if canonical in emails:
                kept.append(user_id)
            else:
                conn.execute(
                    sa.text("UPDATE users SET email = :email WHERE id = :id"),
                    {"email": canonical, "id": user_id},
                )
                emails.discard(email)
                emails.add(canonical)
        name = unicodedata.normalize("NFKC", username).strip()
        if name != username and len(name) <= 80 and name.lower() not in names:
            conn.execute(
                sa.text("UPDATE users SET username = :name WHERE id = :id"),
                {"name": name, "id": user_id},
            )
            names.discard(username.lower())
            names.add(name.lower())
    if kept:
        log.warning("Emails left as they were (their canonical form is taken): users %s", kept)


def downgrade():
    # The canonical forms are valid addresses under the old rules too: nothing to undo.
    pass
