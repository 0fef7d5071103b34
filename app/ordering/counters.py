"""What ordering counts for Prometheus; the edge exports them (app.api.metrics)."""

from prometheus_client import Counter

# Counted whether or not /metrics is served; in no registry until an app serves them.
ORDERS_PLACED = Counter("store_orders_placed", "Orders placed", registry=None)
CHECKOUT_CONFLICTS = Counter(
    "store_checkout_conflicts",
    "Checkouts refused with 409 (empty cart, out of stock, no longer sold, order too large)",
    ["reason"],
    registry=None,
)
