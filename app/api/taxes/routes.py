from flask import url_for

from app.api.auth.decorators import permission_required
from app.api.limits import limit_writes
from app.api.pagination import PaginationArgsSchema
from app.api.routing import Blueprint
from app.api.taxes.schemas import (
    TaxRateInputSchema,
    TaxRatePageSchema,
    TaxRateSchema,
    TaxRateUpdateSchema,
)
from app.platform.models import Permission
from app.settings import taxes as services

blp = Blueprint(
    "taxes",
    __name__,
    url_prefix="/api/admin/tax-rates",
    description="Tax rates by country and region; prices are tax-exclusive",
)
limit_writes(blp)
RATE_ID = {"in": "path", "name": "rate_id", "example": 1}


@blp.get("")
@permission_required(Permission.SETTINGS_WRITE)
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, TaxRatePageSchema)
def list_tax_rates(args):
    """List the tax rates by country and region"""
    return services.list_rates(**args)


@blp.post("")
@permission_required(Permission.SETTINGS_WRITE)
@blp.arguments(TaxRateInputSchema)
@blp.response(201, TaxRateSchema)
def create_tax_rate(data):
    """Set the rate of a country, or of one of its regions"""
    rate = services.create_rate(data)
    return rate, {"Location": url_for("taxes.get_tax_rate", rate_id=rate.id)}


@blp.get("/<int:rate_id>", parameters=[RATE_ID])
@permission_required(Permission.SETTINGS_WRITE)
@blp.response(200, TaxRateSchema)
@blp.alt_response(404, description="No such tax rate")
def get_tax_rate(rate_id):
    """Get one tax rate"""
    return services.get_rate(rate_id)


@blp.patch("/<int:rate_id>", parameters=[RATE_ID])
@permission_required(Permission.SETTINGS_WRITE)
@blp.arguments(TaxRateUpdateSchema(partial=True))
@blp.response(200, TaxRateSchema)
@blp.alt_response(404, description="No such tax rate")
def update_tax_rate(changes, rate_id):
    """Change a tax rate; orders placed keep what they were charged"""
    return services.update_rate(rate_id, changes)


@blp.delete("/<int:rate_id>", parameters=[RATE_ID])
@permission_required(Permission.SETTINGS_WRITE)
@blp.response(204)
@blp.alt_response(404, description="No such tax rate")
def delete_tax_rate(rate_id):
    """Delete a tax rate"""
    services.delete_rate(rate_id)
