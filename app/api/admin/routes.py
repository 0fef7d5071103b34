"""Back-office views across users: every order, low stock."""

from app.api.auth.decorators import permission_required
from app.api.limits import limit_writes
from app.api.orders.schemas import AdminOrderQueryArgsSchema, AdminOrderSummaryPageSchema
from app.api.products.schemas import LowStockArgsSchema, ProductPageSchema
from app.api.routing import Blueprint
from app.catalog import products
from app.ordering import orders
from app.platform.models import Permission

blp = Blueprint("admin", __name__, url_prefix="/api/admin", description="Back office")
limit_writes(blp)


@blp.get("/orders")
@permission_required(Permission.ORDERS_READ)
@blp.arguments(AdminOrderQueryArgsSchema, location="query")
@blp.response(200, AdminOrderSummaryPageSchema)
def list_orders(args):
    """All orders, newest first, optionally by status and user"""
    return orders.list_orders(**args)


@blp.get("/low-stock")
@permission_required(Permission.INVENTORY_WRITE)
@blp.arguments(LowStockArgsSchema, location="query")
@blp.response(200, ProductPageSchema)
def low_stock(args):
    """Products with stock at or under the threshold, lowest first"""
    return products.low_stock(**args)
