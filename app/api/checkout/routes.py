from flask_jwt_extended import current_user

from app.api.auth.decorators import login_required
from app.api.checkout.schemas import (
    CHECKOUT_CONFLICT,
    CHECKOUT_EXAMPLE,
    CheckoutInputSchema,
    CheckoutPreviewSchema,
)
from app.api.limits import limit_writes
from app.api.routing import Blueprint
from app.ordering import checkout as services

blp = Blueprint(
    "checkout", __name__, url_prefix="/api/checkout", description="Totals before ordering"
)
limit_writes(blp)


@blp.post("/preview")
@login_required
@blp.arguments(CheckoutInputSchema, example=CHECKOUT_EXAMPLE)
@blp.response(200, CheckoutPreviewSchema)
@blp.alt_response(409, **CHECKOUT_CONFLICT)
def preview_checkout(options):
    """What placing the order would charge now: lines and totals (changes nothing)

    Takes the body of POST /api/orders. Send the answer's `totals.total` as that order's
    `expected_total`: a price that changes in between is then a 409, not a silent charge.
    """
    return services.preview(current_user.id, options)
