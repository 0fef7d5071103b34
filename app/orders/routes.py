from flask import url_for
from flask_jwt_extended import current_user
from flask_smorest import Blueprint

from app.auth.decorators import login_required
from app.orders import services
from app.orders.schemas import OrderSchema, OrderSummaryPageSchema
from app.pagination import PaginationArgsSchema

blp = Blueprint("orders", __name__, url_prefix="/api/orders", description="Checkout and orders")


@blp.post("")
@login_required
@blp.response(201, OrderSchema)
@blp.alt_response(409, description="Empty cart, or not enough stock for a line")
def place_order():
    """Place an order from the cart"""
    order = services.place_order(current_user.id)
    return order, {"Location": url_for("orders.get_order", order_id=order.id)}


@blp.get("/history")
@login_required
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, OrderSummaryPageSchema)
def order_history(args):
    """The current user's orders, newest first"""
    return services.order_history(current_user.id, **args)


@blp.get("/<int:order_id>")
@login_required
@blp.response(200, OrderSchema)
@blp.alt_response(404, description="No such order, or not yours")
def get_order(order_id):
    """Get one order (its owner or an admin)"""
    return services.get_order(order_id, current_user)
