import marshmallow as ma
from marshmallow import validate

from app.api.categories.schemas import SLUG_RULES, CategoryRefSchema
from app.api.fields import (
    Money,
    QueryBoolean,
    QueryInteger,
    StrictBoolean,
    Timestamp,
    WholeNested,
    id_field,
    no_control_characters,
    visible_text,
)
from app.api.pagination import PaginationArgsSchema, page_of
from app.api.schemas import ResponseSchema, with_examples
from app.catalog.bodies import product_body
from app.catalog.inventory import MAX_STOCK, MovementReason
from app.catalog.products import SORTS
from app.catalog.search import search_terms

MAX_IMAGES = 20


# An http(s) URL with a host name and no spaces or control characters; validated and
# documented by the same pattern (explicit ranges: \s differs between Python and ECMA).
IMAGE_URL_PATTERN = (
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?(?:/[^\x00-\x20\x7f]*)?$"
)


class ImageInputSchema(ma.Schema):
    url = ma.fields.String(
        required=True,
        validate=[
            validate.Length(max=2048),
            validate.Regexp(IMAGE_URL_PATTERN, error="Must be an http or https URL."),
        ],
        metadata={"example": "https://cdn.example.com/products/mug-1.jpg"},
    )
    alt = ma.fields.String(
        load_default="",
        validate=[validate.Length(max=300), no_control_characters],
        metadata={"example": "A white stoneware mug"},
    )


class ProductInputSchema(ma.Schema):
    """What a request sends: the price may also be a JSON number."""

    name = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), visible_text],
        metadata={"example": "Travel mug"},
    )
    description = ma.fields.String(
        load_default="",
        validate=[validate.Length(max=10_000), no_control_characters],
        metadata={"example": "Stainless steel, 450 ml."},
    )
    price = Money(required=True, request=True)
    stock = ma.fields.Integer(
        strict=True,
        load_default=0,
        validate=validate.Range(min=0, max=MAX_STOCK),
        metadata={"example": 25},
    )
    sku = ma.fields.String(
        allow_none=True,
        validate=[
            validate.Length(min=1, max=64),
            validate.Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                error="Must be letters, digits, dots, dashes or underscores.",
            ),
        ],
        metadata={"description": "Unique, case-insensitively", "example": "MUG-450-STL"},
    )
    slug = ma.fields.String(
        validate=SLUG_RULES,
        metadata={
            "description": "Unique; made from the name when omitted, kept when the name changes",
            "example": "travel-mug",
        },
    )
    category_id = id_field(allow_none=True, metadata={"example": 3})
    images = ma.fields.List(
        WholeNested(ImageInputSchema),
        validate=validate.Length(max=MAX_IMAGES),
        metadata={"description": "In display order"},
    )
    is_active = StrictBoolean(
        metadata={"description": "Inactive products are hidden from customers", "example": True}
    )


class ImageSchema(ResponseSchema):
    url = ma.fields.String(metadata={"example": "https://cdn.example.com/products/mug-1.jpg"})
    alt = ma.fields.String(metadata={"example": "A white stoneware mug"})


class ProductSchema(ResponseSchema):
    id = ma.fields.Integer(metadata={"example": 1})
    name = ma.fields.String(metadata={"example": "Coffee mug"})
    description = ma.fields.String(metadata={"example": "Stoneware, 350 ml."})
    price = Money()
    stock = ma.fields.Integer(metadata={"example": 25})
    sku = ma.fields.String(
        allow_none=True,
        metadata={"description": "Unique, case-insensitively", "example": "MUG-350-WHT"},
    )
    slug = ma.fields.String(metadata={"example": "coffee-mug"})
    category_id = ma.fields.Integer(allow_none=True, metadata={"example": 3})
    category = ma.fields.Nested(
        CategoryRefSchema,
        allow_none=True,
        metadata={"example": {"id": 3, "name": "Coffee", "slug": "coffee"}},
    )
    images = ma.fields.List(
        ma.fields.Nested(ImageSchema), metadata={"description": "In display order"}
    )
    is_active = ma.fields.Boolean(
        metadata={"description": "Inactive products are hidden from customers", "example": True}
    )
    created_at = Timestamp()
    updated_at = Timestamp()

    def dump(self, obj, *, many=None):
        """The fields above, written out: products are the catalog's hot path and this is
        several times faster than dumping field by field. tests/test_catalog.py checks that
        both give the same body for every product of the seed catalog. A product page read
        as a row (app.catalog.products.product_page) comes written out already."""
        many = self.many if many is None else many
        if type(self) is not ProductSchema or self.only or self.exclude:
            return super().dump(obj, many=many)
        if many:
            return [product_body(product, product.category) for product in obj]
        return obj if isinstance(obj, dict) else product_body(obj, obj.category)


ProductUpdateSchema = with_examples(
    ProductInputSchema,
    "ProductUpdateSchema",
    name="Coffee mug XL",
    slug="coffee-mug-xl",
    sku="MUG-500-XL",
)
ProductPageSchema = page_of(ProductSchema)


class IncludeInactiveArgsSchema(ma.Schema):
    include_inactive = QueryBoolean(
        load_default=False,
        metadata={
            "description": "Staff with catalog:write only: also show inactive products",
            "example": False,
        },
    )


class ProductQueryArgsSchema(PaginationArgsSchema, IncludeInactiveArgsSchema):
    q = ma.fields.String(
        # Documented too: a word character (what search_terms looks for), and no NUL.
        validate=[
            validate.Length(min=1, max=200),
            validate.Regexp(r"^[^\x00]*\w[^\x00]*$", error="Must contain a letter or a digit."),
        ],
        metadata={
            "description": "Words that must each start a word of the name, SKU or description",
            "example": "mug",
        },
    )
    category = ma.fields.String(
        validate=SLUG_RULES,
        metadata={
            "description": "A category slug; includes its sub-categories",
            "example": "mugs",
        },
    )
    min_price = Money(request=True, metadata={"example": "5.00"})
    max_price = Money(request=True, metadata={"example": "50.00"})
    in_stock = QueryBoolean(
        metadata={"description": "true: stock above 0; false: sold out", "example": True}
    )
    sort = ma.fields.String(
        load_default="id",
        validate=validate.OneOf(SORTS),
        metadata={"description": "relevance needs q", "example": "-price"},
    )

    @ma.validates_schema
    def _consistent(self, data, **kwargs):
        if "q" in data and not search_terms(data["q"]):
            raise ma.ValidationError("Must contain a letter or a digit.", "q")
        if data.get("sort") == "relevance" and "q" not in data:
            raise ma.ValidationError("Sorting by relevance needs a search (q).", "sort")
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            raise ma.ValidationError("Must not be below min_price.", "max_price")


class StockAdjustmentSchema(ma.Schema):
    delta = ma.fields.Integer(
        required=True,
        strict=True,
        validate=[
            validate.Range(min=-MAX_STOCK, max=MAX_STOCK),
            validate.NoneOf([0], error="Must not be 0."),
        ],
        metadata={
            "description": "Units to add (negative to remove); never 0",
            "not": {"enum": [0]},
            "example": 10,
        },
    )
    reason = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), visible_text],
        metadata={"example": "restock from supplier"},
    )


class StockMovementSchema(ResponseSchema):
    id = ma.fields.Integer(metadata={"example": 12})
    product_id = ma.fields.Integer(metadata={"example": 1})
    delta = ma.fields.Integer(metadata={"example": -2})
    reason = ma.fields.String(metadata={"example": MovementReason.ORDER_PLACED.value})
    order_id = ma.fields.Integer(allow_none=True, metadata={"example": 5})
    user_id = ma.fields.Integer(allow_none=True, metadata={"example": None})
    created_at = Timestamp()


class LowStockArgsSchema(PaginationArgsSchema):
    threshold = QueryInteger(
        load_default=5, validate=validate.Range(min=0, max=MAX_STOCK), metadata={"example": 5}
    )


StockMovementPageSchema = page_of(StockMovementSchema)
