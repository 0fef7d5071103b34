import marshmallow as ma
from marshmallow import validate

from app.api.fields import QueryBoolean, Timestamp, id_field, no_control_characters, visible_text
from app.api.pagination import page_of
from app.api.schemas import ResponseSchema, with_examples
from app.catalog.slugs import SLUG_PATTERN

SLUG_RULES = [
    validate.Length(min=1, max=120),
    validate.Regexp(SLUG_PATTERN, error="Must be lower-case letters, digits and dashes."),
]


class CategoryRefSchema(ResponseSchema):
    """A category as a product shows it."""

    id = ma.fields.Integer(metadata={"example": 3})
    name = ma.fields.String(metadata={"example": "Coffee"})
    slug = ma.fields.String(metadata={"example": "coffee"})


class CategoryInputSchema(ma.Schema):
    name = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=100), visible_text],
        metadata={"example": "Cold brew"},
    )
    slug = ma.fields.String(
        validate=SLUG_RULES,
        metadata={"description": "Made from the name when omitted", "example": "cold-brew"},
    )
    parent_id = id_field(
        allow_none=True,
        load_default=None,
        metadata={"description": "The parent category; null at the top", "example": 1},
    )
    description = ma.fields.String(
        load_default="",
        validate=[validate.Length(max=10_000), no_control_characters],
        metadata={"example": "Coffee for brewing cold."},
    )


class CategorySchema(ResponseSchema):
    id = ma.fields.Integer(metadata={"example": 3})
    name = ma.fields.String(metadata={"example": "Coffee"})
    slug = ma.fields.String(metadata={"example": "coffee"})
    parent_id = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "The parent category; null at the top", "example": 1},
    )
    description = ma.fields.String(metadata={"example": "Beans, ground and whole."})
    created_at = Timestamp()
    updated_at = Timestamp()


CategoryUpdateSchema = with_examples(
    CategoryInputSchema, "CategoryUpdateSchema", name="Whole beans", slug="whole-beans"
)
CategoryPageSchema = page_of(CategorySchema)


class CategoryDeleteArgsSchema(ma.Schema):
    force = QueryBoolean(
        load_default=False,
        metadata={
            "description": (
                "Delete even with products or sub-categories: its products move to no "
                "category and its sub-categories up to its parent"
            ),
            "example": True,
        },
    )
