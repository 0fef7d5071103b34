from flask import url_for
from flask_jwt_extended import current_user

from app.api.auth.decorators import permission_required, public_read
from app.api.limits import limit_writes
from app.api.pagination import PaginationArgsSchema
from app.api.products.schemas import (
    IncludeInactiveArgsSchema,
    ProductInputSchema,
    ProductPageSchema,
    ProductQueryArgsSchema,
    ProductSchema,
    ProductUpdateSchema,
    StockAdjustmentSchema,
    StockMovementPageSchema,
)
from app.api.routing import Blueprint
from app.catalog import products as services
from app.platform.models import Permission

blp = Blueprint("products", __name__, url_prefix="/api/products", description="Product catalog")
limit_writes(blp)


@blp.get("")
@blp.arguments(ProductQueryArgsSchema, location="query")
@public_read("include_inactive", Permission.CATALOG_WRITE, catalog=True)
@blp.response(200, ProductPageSchema)
def list_products(args):
    """Search, filter and sort the catalog

    Every parameter is optional and they combine. Examples:
    `?q=coffee mug&sort=relevance`, `?category=coffee&in_stock=true&sort=-price`,
    `?min_price=5&max_price=20&sort=name&page=2&per_page=50`.
    """
    return services.list_products(**args)


@blp.get("/<int:product_id>")
@blp.arguments(IncludeInactiveArgsSchema, location="query")
@public_read("include_inactive", Permission.CATALOG_WRITE, catalog=True)
@blp.response(200, ProductSchema)
@blp.alt_response(404, description="No such product")
def get_product(args, product_id):
    """Get one product"""
    return services.product_page(product_id, **args)


SLUG_PARAMETER = {"in": "path", "name": "slug", "example": "coffee-mug"}


@blp.get("/by-slug/<string:slug>", parameters=[SLUG_PARAMETER])
@blp.arguments(IncludeInactiveArgsSchema, location="query")
@public_read("include_inactive", Permission.CATALOG_WRITE, catalog=True)
@blp.response(200, ProductSchema)
@blp.alt_response(404, description="No product has that slug")
def get_product_by_slug(args, slug):
    """Get one product by its slug (for frontends that route by slug)"""
    return services.product_page_by_slug(slug, **args)


@blp.post("")
@permission_required(Permission.CATALOG_WRITE)
@blp.arguments(ProductInputSchema)
@blp.response(201, ProductSchema)
@blp.alt_response(409, description="Another product has that SKU or slug")
def create_product(data):
    """Create a product"""
    product = services.create_product(data, admin_id=current_user.id)
    return product, {"Location": url_for("products.get_product", product_id=product.id)}


@blp.route("/<int:product_id>", methods=["PUT", "PATCH"])
@permission_required(Permission.CATALOG_WRITE)
@blp.arguments(ProductUpdateSchema(partial=True))
@blp.response(200, ProductSchema)
@blp.alt_response(404, description="No such product")
@blp.alt_response(409, description="Another product has that SKU or slug")
def update_product(changes, product_id):
    """Update a product; omitted fields keep their value"""
    return services.update_product(product_id, changes, admin_id=current_user.id)


@blp.delete("/<int:product_id>")
@permission_required(Permission.CATALOG_WRITE)
@blp.response(204)
@blp.alt_response(404, description="No such product")
def delete_product(product_id):
    """Delete a product: it leaves the catalog and every cart"""
    services.delete_product(product_id)


@blp.post("/<int:product_id>/stock")
@permission_required(Permission.INVENTORY_WRITE)
@blp.arguments(StockAdjustmentSchema)
@blp.response(200, ProductSchema)
@blp.alt_response(404, description="No such product")
@blp.alt_response(409, description="The stock would go below 0")
def adjust_stock(data, product_id):
    """Add or remove stock, with a reason for the ledger"""
    return services.adjust_stock(product_id, data["delta"], data["reason"], current_user.id)


@blp.get("/<int:product_id>/stock-movements")
@permission_required(Permission.INVENTORY_WRITE)
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, StockMovementPageSchema)
@blp.alt_response(404, description="No such product")
def list_stock_movements(args, product_id):
    """The product's stock ledger, newest first"""
    return services.list_movements(product_id, **args)
