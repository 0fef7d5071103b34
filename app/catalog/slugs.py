"""URL slugs (python-slugify), unique per table: `coffee-mug`, then `coffee-mug-2`, ..."""

from slugify import slugify
from sqlalchemy import select

from app.platform.db import db

MAX_SLUG_LENGTH = 100
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def unique_slug(column, text: str, fallback: str) -> str:
    """A slug for `text` that no row has in `column` yet."""
    base = slugify(text, max_length=MAX_SLUG_LENGTH) or fallback
    taken = set(
        db.session.scalars(select(column).where((column == base) | column.startswith(f"{base}-")))
    )
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"
