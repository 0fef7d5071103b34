"""A page of a query: {items, page, per_page, total, pages}, as every list answers."""

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil

from sqlalchemy import Select

from app.platform.db import db

MAX_PER_PAGE = 100
MAX_PAGE = 10**9


@dataclass
class Page:
    """A page whose total the caller already knows (see paginate)."""

    items: Sequence
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return ceil(self.total / self.per_page)


def paginate(stmt: Select, page: int, per_page: int, *, total: int | None = None):
    """One page of `stmt`. A `total` the database keeps (e.g. the listed-products count)
    saves the COUNT, which grows with the table."""
    if total is None:
        return db.paginate(
            stmt, page=page, per_page=per_page, max_per_page=MAX_PER_PAGE, error_out=False
        )
    items = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items, page, per_page, total)
