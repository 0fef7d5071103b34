"""The pagination envelope shared by every list: {items, page, per_page, total, pages}."""

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil

import marshmallow as ma
from sqlalchemy import Select

from app.fields import QueryInteger
from app.platform.db import db
from app.schemas import ResponseSchema

MAX_PER_PAGE = 100
MAX_PAGE = 10**9


class PaginationArgsSchema(ma.Schema):
    page = QueryInteger(
        load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE), metadata={"example": 1}
    )
    per_page = QueryInteger(
        load_default=20,
        validate=ma.validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"example": 20},
    )


class PageSchema(ResponseSchema):
    page = ma.fields.Integer(metadata={"example": 1})
    per_page = ma.fields.Integer(metadata={"example": 20})
    total = ma.fields.Integer(metadata={"example": 42})
    pages = ma.fields.Integer(metadata={"example": 3})


def page_of(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """An envelope schema whose items are `item_schema`, e.g. ProductPageSchema."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    items = ma.fields.List(ma.fields.Nested(item_schema))
    return type(name, (PageSchema,), {"items": items})


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
