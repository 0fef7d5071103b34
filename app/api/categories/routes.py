from flask import url_for

from app.api.auth.decorators import permission_required, public_read
from app.api.categories.schemas import (
    CategoryDeleteArgsSchema,
    CategoryInputSchema,
    CategoryPageSchema,
    CategorySchema,
    CategoryUpdateSchema,
)
from app.api.limits import limit_writes
from app.api.pagination import PaginationArgsSchema
from app.api.routing import Blueprint
from app.catalog import categories as services
from app.platform.models import Permission

blp = Blueprint(
    "categories", __name__, url_prefix="/api/categories", description="The category tree"
)
limit_writes(blp)

# A sub-category of the seed catalog ("Beans", under "Coffee"): the request examples (a new
# parent, a forced delete) all work on it.
CATEGORY_ID = {"in": "path", "name": "category_id", "example": 2}


@blp.get("")
@blp.arguments(PaginationArgsSchema, location="query")
@public_read(catalog=True)
@blp.response(200, CategoryPageSchema)
def list_categories(args):
    """List the categories, by id"""
    return services.list_categories(**args)


@blp.get("/<int:category_id>", parameters=[CATEGORY_ID])
@public_read(catalog=True)
@blp.response(200, CategorySchema)
@blp.alt_response(404, description="No such category")
def get_category(category_id):
    """Get one category"""
    return services.get_category(category_id)


@blp.post("")
@permission_required(Permission.CATALOG_WRITE)
@blp.arguments(CategoryInputSchema)
@blp.response(201, CategorySchema)
@blp.alt_response(409, description="Another category has that slug")
def create_category(data):
    """Create a category; the slug is made from the name when omitted"""
    category = services.create_category(data)
    return category, {"Location": url_for("categories.get_category", category_id=category.id)}


@blp.route("/<int:category_id>", methods=["PUT", "PATCH"], parameters=[CATEGORY_ID])
@permission_required(Permission.CATALOG_WRITE)
@blp.arguments(CategoryUpdateSchema(partial=True))
@blp.response(200, CategorySchema)
@blp.alt_response(404, description="No such category")
@blp.alt_response(409, description="Another category has that slug")
def update_category(changes, category_id):
    """Update a category; omitted fields keep their value

    The slug stays when the name changes, unless a new one is given. The parent cannot be the
    category itself or one of its sub-categories (422).
    """
    return services.update_category(category_id, changes)


@blp.delete("/<int:category_id>", parameters=[CATEGORY_ID])
@permission_required(Permission.CATALOG_WRITE)
@blp.arguments(CategoryDeleteArgsSchema, location="query")
@blp.response(204)
@blp.alt_response(404, description="No such category")
@blp.alt_response(409, description="The category has products or sub-categories")
def delete_category(args, category_id):
    """Delete a category

    A category with products or sub-categories is a 409 unless `?force=true`: then its
    products move to no category and its direct sub-categories up to its own parent, in the
    same transaction.
    """
    services.delete_category(category_id, force=args["force"])
