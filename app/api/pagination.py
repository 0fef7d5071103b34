"""The pagination envelope shared by every list: {items, page, per_page, total, pages}
(app.platform.pages makes the page)."""

import marshmallow as ma

from app.api.fields import QueryInteger
from app.api.schemas import ResponseSchema
from app.platform.pages import MAX_PAGE, MAX_PER_PAGE


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
