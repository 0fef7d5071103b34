from flask_jwt_extended import current_user

from app.auth.decorators import login_required
from app.cart import services
from app.cart.schemas import CartAddSchema, CartQuantitySchema, CartSchema
from app.idempotency import idempotent
from app.limits import limit_writes
from app.routing import Blueprint

blp = Blueprint("cart", __name__, url_prefix="/api/cart", description="The user's shopping cart")
limit_writes(blp)


@blp.get("")
@login_required
@blp.response(200, CartSchema)
def get_cart():
    """The current user's cart"""
    return services.get_cart(current_user.id)


@blp.post("")
@login_required
@idempotent
@blp.arguments(CartAddSchema)
@blp.response(200, CartSchema)
@blp.alt_response(404, description="No such product")
@blp.alt_response(409, description="Not enough stock")
def add_to_cart(data):
    """Add a product, or more of it, to the cart"""
    return services.add_to_cart(current_user.id, data["product_id"], data["quantity"])


@blp.put("/<int:product_id>")
@login_required
@blp.arguments(CartQuantitySchema)
@blp.response(200, CartSchema)
@blp.alt_response(404, description="Product not in the cart")
@blp.alt_response(409, description="Not enough stock")
def set_quantity(data, product_id):
    """Set a line's quantity; 0 removes it"""
    return services.set_quantity(current_user.id, product_id, data["quantity"])


@blp.delete("/<int:product_id>")
@login_required
@blp.response(200, CartSchema)
@blp.alt_response(404, description="Product not in the cart")
def remove_from_cart(product_id):
    """Remove a line"""
    return services.remove_from_cart(current_user.id, product_id)


@blp.delete("")
@login_required
@blp.response(200, CartSchema)
def clear_cart():
    """Empty the cart"""
    return services.clear_cart(current_user.id)
