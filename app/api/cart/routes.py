from flask import url_for
from flask_jwt_extended import current_user

from app.api.auth.decorators import cart_owner_required, login_required
from app.api.cart.schemas import (
    CartAddSchema,
    CartMergeSchema,
    CartQuantitySchema,
    CartSchema,
    GuestCartSchema,
    MergedCartSchema,
)
from app.api.idempotency import idempotent
from app.api.limits import limit_writes
from app.api.routing import Blueprint
from app.cart import services

blp = Blueprint(
    "cart",
    __name__,
    url_prefix="/api",
    description="The shopping cart: a signed-in user's, or a guest's (X-Cart-Token)",
)
limit_writes(blp)


@blp.post("/carts")
@blp.response(201, GuestCartSchema)
def create_guest_cart():
    """Start a guest cart: its token goes in X-Cart-Token on the cart routes

    The token is shown only here. After sign-in, POST /api/cart/merge moves the guest's
    lines into the user's cart.
    """
    token, cart = services.create_guest_cart()
    body = {"cart_token": token, "expires_at": cart.expires_at}
    return body, {"Location": url_for("cart.get_cart")}


@blp.get("/cart")
@cart_owner_required
@blp.response(200, CartSchema)
def get_cart(owner):
    """The cart: the signed-in user's, or the guest's of X-Cart-Token"""
    return services.get_cart(owner)


@blp.post("/cart")
@cart_owner_required
@idempotent
@blp.arguments(CartAddSchema)
@blp.response(200, CartSchema)
@blp.alt_response(404, description="No such product")
@blp.alt_response(409, description="Not enough stock")
def add_to_cart(data, owner):
    """Add a product, or more of it, to the cart"""
    return services.add_to_cart(owner, data["product_id"], data["quantity"])


@blp.post("/cart/merge")
@login_required
@blp.arguments(CartMergeSchema)
@blp.response(200, MergedCartSchema)
@blp.alt_response(409, description="The merged cart would be larger than one order holds")
def merge_guest_cart(data):
    """Move a guest cart into the signed-in user's cart, capped by stock

    Quantities add up; a line the stock (or a cap) cannot take in full is added in part and
    listed in `adjustments`. The guest cart and its token are gone afterwards.
    """
    return services.merge(current_user.id, data["cart_token"])


@blp.put("/cart/<int:product_id>")
@cart_owner_required
@blp.arguments(CartQuantitySchema)
@blp.response(200, CartSchema)
@blp.alt_response(404, description="Product not in the cart")
@blp.alt_response(409, description="Not enough stock")
def set_quantity(data, product_id, owner):
    """Set a line's quantity; 0 removes it"""
    return services.set_quantity(owner, product_id, data["quantity"])


@blp.delete("/cart/<int:product_id>")
@cart_owner_required
@blp.response(200, CartSchema)
@blp.alt_response(404, description="Product not in the cart")
def remove_from_cart(product_id, owner):
    """Remove a line"""
    return services.remove_from_cart(owner, product_id)


@blp.delete("/cart")
@cart_owner_required
@blp.response(200, CartSchema)
def clear_cart(owner):
    """Empty the cart"""
    return services.clear_cart(owner)
