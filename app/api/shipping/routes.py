from flask import url_for

from app.api.auth.decorators import permission_required, public_read
from app.api.limits import limit_writes
from app.api.pagination import PaginationArgsSchema
from app.api.routing import Blueprint
from app.api.shipping.schemas import (
    ShippingMethodArgsSchema,
    ShippingMethodInputSchema,
    ShippingMethodPageSchema,
    ShippingMethodSchema,
    ShippingMethodUpdateSchema,
)
from app.platform.models import Permission
from app.settings import shipping as services

blp = Blueprint(
    "shipping", __name__, url_prefix="/api", description="Shipping methods and their prices"
)
limit_writes(blp)
METHOD_ID = {"in": "path", "name": "method_id", "example": 1}


@blp.get("/shipping-methods")
@blp.arguments(ShippingMethodArgsSchema, location="query")
@public_read()
@blp.response(200, ShippingMethodPageSchema)
def list_shipping_methods(args):
    """The active shipping methods, optionally only those shipping to a country"""
    return services.list_available(**args)


@blp.get("/admin/shipping-methods")
@permission_required(Permission.SETTINGS_WRITE)
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, ShippingMethodPageSchema)
def admin_list_shipping_methods(args):
    """Every shipping method, inactive ones included"""
    return services.list_methods(**args)


@blp.post("/admin/shipping-methods")
@permission_required(Permission.SETTINGS_WRITE)
@blp.arguments(ShippingMethodInputSchema)
@blp.response(201, ShippingMethodSchema)
def create_shipping_method(data):
    """Create a shipping method"""
    method = services.create_method(data)
    location = url_for("shipping.get_shipping_method", method_id=method.id)
    return method, {"Location": location}


@blp.get("/admin/shipping-methods/<int:method_id>", parameters=[METHOD_ID])
@permission_required(Permission.SETTINGS_WRITE)
@blp.response(200, ShippingMethodSchema)
@blp.alt_response(404, description="No such shipping method")
def get_shipping_method(method_id):
    """Get one shipping method"""
    return services.get_method(method_id)


@blp.patch("/admin/shipping-methods/<int:method_id>", parameters=[METHOD_ID])
@permission_required(Permission.SETTINGS_WRITE)
@blp.arguments(ShippingMethodUpdateSchema(partial=True))
@blp.response(200, ShippingMethodSchema)
@blp.alt_response(404, description="No such shipping method")
def update_shipping_method(changes, method_id):
    """Change a shipping method; orders placed keep what they paid"""
    return services.update_method(method_id, changes)


@blp.delete("/admin/shipping-methods/<int:method_id>", parameters=[METHOD_ID])
@permission_required(Permission.SETTINGS_WRITE)
@blp.response(204)
@blp.alt_response(404, description="No such shipping method")
def delete_shipping_method(method_id):
    """Delete a shipping method; orders placed keep its name and price"""
    services.delete_method(method_id)
