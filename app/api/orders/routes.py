from flask import url_for
from flask_jwt_extended import current_user

from app.api.auth.decorators import login_required, permission_required
from app.api.checkout.schemas import CHECKOUT_CONFLICT, CHECKOUT_EXAMPLE, CheckoutInputSchema
from app.api.idempotency import answer_after_commit, idempotent
from app.api.limits import limit_writes
from app.api.openapi import permission_refusal
from app.api.orders.schemas import OrderSchema, OrderStatusUpdateSchema, OrderSummaryPageSchema
from app.api.pagination import PaginationArgsSchema
from app.api.routing import Blueprint
from app.ordering import orders as services
from app.ordering import status
from app.platform.models import Permission

blp = Blueprint("orders", __name__, url_prefix="/api/orders", description="Checkout and orders")
limit_writes(blp)


@blp.post("")
@login_required
@idempotent
@blp.arguments(CheckoutInputSchema, example=CHECKOUT_EXAMPLE)
@blp.response(201, OrderSchema)
@blp.alt_response(409, **CHECKOUT_CONFLICT)
def place_order(options):
    """Place an order from the cart

    The body is optional: without an address and a shipping method the order is picked up
    (no shipping; the store country's tax). POST /api/checkout/preview shows the totals
    first; send its total as `expected_total` to refuse a price changed meanwhile (409).
    """
    order = services.place_order(current_user.id, options)
    headers = {"Location": url_for("orders.get_order", order_id=order.id)}
    if status.starts_after_commit(order):
        # Under an Idempotency-Key the payment's client secret comes after the commit.
        answer_after_commit(lambda: (OrderSchema().dump(order), 201, headers))
    return order, headers


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
    """Get one order (its owner, or staff with orders:read)"""
    return services.get_order(order_id, current_user)


@blp.post("/<int:order_id>/cancel")
@login_required
@permission_refusal()
@blp.response(200, OrderSchema)
@blp.alt_response(404, description="No such order, or not yours")
@blp.alt_response(409, description="The order can no longer be cancelled")
def cancel_order(order_id):
    """Cancel a pending or paid order; its stock goes back, and its payment if it was paid

    Its owner may; anyone else needs orders:write, and payments:refund for a paid order.
    """
    return services.cancel_order(order_id, current_user)


@blp.patch("/<int:order_id>")
@permission_required(Permission.ORDERS_WRITE)
@blp.arguments(OrderStatusUpdateSchema)
@blp.response(200, OrderSchema)
@blp.alt_response(404, description="No such order")
@blp.alt_response(409, description="Not a move the lifecycle allows")
def update_order_status(data, order_id):
    """Move an order along pending -> paid -> shipped -> delivered, or cancel it

    Cancelling a paid order sends its payment back: that needs payments:refund too.
    """
    return services.change_status(order_id, data["status"], current_user)
