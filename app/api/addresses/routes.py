from flask import url_for
from flask_jwt_extended import current_user

from app.accounts import addresses as services
from app.api.addresses.schemas import (
    AddressInputSchema,
    AddressPageSchema,
    AddressSchema,
    AddressUpdateSchema,
)
from app.api.auth.decorators import login_required
from app.api.limits import limit_writes
from app.api.pagination import PaginationArgsSchema
from app.api.routing import Blueprint

blp = Blueprint(
    "addresses", __name__, url_prefix="/api/addresses", description="The user's address book"
)
limit_writes(blp)
ADDRESS_ID = {"in": "path", "name": "address_id", "example": 1}


@blp.get("")
@login_required
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, AddressPageSchema)
def list_addresses(args):
    """The current user's addresses, oldest first"""
    return services.list_addresses(current_user.id, **args)


@blp.post("")
@login_required
@blp.arguments(AddressInputSchema)
@blp.response(201, AddressSchema)
def create_address(data):
    """Add an address to the current user's book"""
    address = services.create_address(current_user.id, data)
    return address, {"Location": url_for("addresses.get_address", address_id=address.id)}


@blp.get("/<int:address_id>", parameters=[ADDRESS_ID])
@login_required
@blp.response(200, AddressSchema)
@blp.alt_response(404, description="No such address, or not yours")
def get_address(address_id):
    """Get one of the current user's addresses"""
    return services.get_address(address_id, current_user.id)


@blp.patch("/<int:address_id>", parameters=[ADDRESS_ID])
@login_required
@blp.arguments(AddressUpdateSchema(partial=True))
@blp.response(200, AddressSchema)
@blp.alt_response(404, description="No such address, or not yours")
def update_address(changes, address_id):
    """Change an address; orders already shipped to it keep their copy"""
    return services.update_address(address_id, current_user.id, changes)


@blp.delete("/<int:address_id>", parameters=[ADDRESS_ID])
@login_required
@blp.response(204)
@blp.alt_response(404, description="No such address, or not yours")
def delete_address(address_id):
    """Delete an address; orders already shipped to it keep their copy"""
    services.delete_address(address_id, current_user.id)
