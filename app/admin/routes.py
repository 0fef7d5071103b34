"""Back-office views across users: every order, low stock."""

from app.auth.decorators import admin_required
from app.limits import limit_writes
from app.orders import services as orders
from app.orders.schemas import AdminOrderQueryArgsSchema, AdminOrderSummaryPageSchema
from app.products import services as products
from app.products.schemas import LowStockArgsSchema, ProductPageSchema
from app.routing import Blueprint

blp = Blueprint("admin", __name__, url_prefix="/api/admin", description="Back office (admin)")
limit_writes(blp)


@blp.get("/orders")
@admin_required
@blp.arguments(AdminOrderQueryArgsSchema, location="query")
@blp.response(200, AdminOrderSummaryPageSchema)
def list_orders(args):
    """All orders, newest first, optionally by status and user (admin)"""
    return orders.list_orders(**args)


@blp.get("/low-stock")
@admin_required
@blp.arguments(LowStockArgsSchema, location="query")
@blp.response(200, ProductPageSchema)
def low_stock(args):
    """Products with stock at or under the threshold, lowest first (admin)"""
    return products.low_stock(**args)
