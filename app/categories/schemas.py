import marshmallow as ma
from marshmallow import validate

from app.fields import Timestamp, id_field, no_control_characters, visible_text
from app.pagination import page_of
from app.slugs import SLUG_PATTERN

SLUG_RULES = [
    validate.Length(min=1, max=120),
    validate.Regexp(SLUG_PATTERN, error="Must be lower-case letters, digits and dashes."),
]


class CategoryRefSchema(ma.Schema):
    """A category as a product shows it."""

    id = ma.fields.Integer(metadata={"example": 3})
    name = ma.fields.String(metadata={"example": "Coffee"})
    slug = ma.fields.String(metadata={"example": "coffee"})


class CategorySchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True, metadata={"example": 3})
    name = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=100), visible_text],
        metadata={"example": "Coffee"},
    )
    slug = ma.fields.String(
        validate=SLUG_RULES,
        metadata={"description": "Made from the name when omitted", "example": "coffee"},
    )
    parent_id = id_field(
        allow_none=True,
        load_default=None,
        metadata={"description": "The parent category; null at the top", "example": 1},
    )
    description = ma.fields.String(
        load_default="",
        validate=[validate.Length(max=10_000), no_control_characters],
        metadata={"example": "Beans, ground and whole."},
    )
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


CategoryPageSchema = page_of(CategorySchema)


class CategoryDeleteArgsSchema(ma.Schema):
    force = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": (
                "Delete even with products or sub-categories: its products move to no "
                "category and its sub-categories up to its parent"
            ),
            "example": True,
        },
    )
