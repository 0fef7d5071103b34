from flask import url_for

from app.api.auth.decorators import permission_required
from app.api.discounts.schemas import (
    DiscountInputSchema,
    DiscountPageSchema,
    DiscountSchema,
    DiscountUpdateSchema,
)
from app.api.limits import limit_writes
from app.api.pagination import PaginationArgsSchema
from app.api.routing import Blueprint
from app.platform.models import Permission
from app.settings import discounts as services

blp = Blueprint(
    "discounts",
    __name__,
    url_prefix="/api/admin/discounts",
    description="Discount codes: percentage or fixed, with limits and a validity window",
)
limit_writes(blp)
DISCOUNT_ID = {"in": "path", "name": "discount_id", "example": 1}


@blp.get("")
@permission_required(Permission.SETTINGS_WRITE)
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, DiscountPageSchema)
def list_discounts(args):
    """List the discount codes"""
    return services.list_discounts(**args)


@blp.post("")
@permission_required(Permission.SETTINGS_WRITE)
@blp.arguments(DiscountInputSchema)
@blp.response(201, DiscountSchema)
def create_discount(data):
    """Create a discount code"""
    discount = services.create_discount(data)
    return discount, {"Location": url_for("discounts.get_discount", discount_id=discount.id)}


@blp.get("/<int:discount_id>", parameters=[DISCOUNT_ID])
@permission_required(Permission.SETTINGS_WRITE)
@blp.response(200, DiscountSchema)
@blp.alt_response(404, description="No such discount code")
def get_discount(discount_id):
    """Get one discount code, with its uses"""
    return services.get_discount(discount_id)


@blp.patch("/<int:discount_id>", parameters=[DISCOUNT_ID])
@permission_required(Permission.SETTINGS_WRITE)
@blp.arguments(DiscountUpdateSchema(partial=True))
@blp.response(200, DiscountSchema)
@blp.alt_response(404, description="No such discount code")
def update_discount(changes, discount_id):
    """Change a discount code; orders placed keep what it took off"""
    return services.update_discount(discount_id, changes)


@blp.delete("/<int:discount_id>", parameters=[DISCOUNT_ID])
@permission_required(Permission.SETTINGS_WRITE)
@blp.response(204)
@blp.alt_response(404, description="No such discount code")
def delete_discount(discount_id):
    """Delete a discount code; orders placed keep the code and amount"""
    services.delete_discount(discount_id)
