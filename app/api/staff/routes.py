"""Staff management: users and their roles, custom roles (rules: app.accounts.staff)."""

from flask_jwt_extended import current_user

from app.accounts import staff as services
from app.api.auth.decorators import permission_required
from app.api.auth.schemas import UserSchema
from app.api.limits import limit_writes
from app.api.pagination import PaginationArgsSchema
from app.api.routing import Blueprint
from app.api.staff.schemas import (
    ROLE_NAME_PARAMETER,
    RoleAssignmentSchema,
    RoleInputSchema,
    RolePageSchema,
    RoleSchema,
    RoleUpdateSchema,
    UserPageSchema,
    UserQueryArgsSchema,
)
from app.platform.models import Permission

blp = Blueprint(
    "staff",
    __name__,
    url_prefix="/api/admin",
    description="Staff: users, their roles, custom roles",
)
limit_writes(blp)
# The first customer of a seeded store (user 1 is its admin).
USER_ID = {"in": "path", "name": "user_id", "example": 2}


@blp.get("/users")
@permission_required(Permission.CUSTOMERS_READ)
@blp.arguments(UserQueryArgsSchema, location="query")
@blp.response(200, UserPageSchema)
def list_users(args):
    """Find users by name or address, or by role"""
    return services.list_users(**args)


@blp.get("/users/<int:user_id>", parameters=[USER_ID])
@permission_required(Permission.CUSTOMERS_READ)
@blp.response(200, UserSchema)
@blp.alt_response(404, description="No such user")
def get_user(user_id):
    """One user, with his roles and permissions"""
    return services.get_user(user_id)


@blp.put("/users/<int:user_id>/roles", parameters=[USER_ID])
@permission_required(Permission.STAFF_WRITE)
@blp.arguments(RoleAssignmentSchema)
@blp.response(200, UserSchema)
@blp.alt_response(404, description="No such user")
@blp.alt_response(409, description="The last active admin would lose the admin role")
def set_roles(data, user_id):
    """Set the roles a user holds; it applies on his next request

    A 403 names a permission you lack: the roles given, and the user's own, may hold only
    permissions you hold.
    """
    return services.set_roles(current_user, user_id, data["roles"])


@blp.post("/users/<int:user_id>/deactivate", parameters=[USER_ID])
@permission_required(Permission.STAFF_WRITE)
@blp.response(200, UserSchema)
@blp.alt_response(404, description="No such user")
@blp.alt_response(409, description="Your own account, or the last active admin")
def deactivate_user(user_id):
    """Deactivate a user: he cannot sign in, and every login of his ends now"""
    return services.deactivate(current_user, user_id)


@blp.post("/users/<int:user_id>/activate", parameters=[USER_ID])
@permission_required(Permission.STAFF_WRITE)
@blp.response(200, UserSchema)
@blp.alt_response(404, description="No such user")
def activate_user(user_id):
    """Let a deactivated user sign in again"""
    return services.activate(current_user, user_id)


@blp.get("/roles")
@permission_required(Permission.STAFF_WRITE)
@blp.arguments(PaginationArgsSchema, location="query")
@blp.response(200, RolePageSchema)
def list_roles(args):
    """The roles, built-in and custom, with their permissions"""
    return services.list_roles(**args)


@blp.post("/roles")
@permission_required(Permission.STAFF_WRITE)
@blp.arguments(RoleInputSchema)
@blp.response(201, RoleSchema)
@blp.alt_response(409, description="A role has that name")
def create_role(data):
    """Make a custom role from permissions you hold"""
    return services.create_role(current_user, data["name"], data["permissions"])


@blp.patch("/roles/<string:name>", parameters=[ROLE_NAME_PARAMETER])
@permission_required(Permission.STAFF_WRITE)
@blp.arguments(RoleUpdateSchema(partial=True))
@blp.response(200, RoleSchema)
@blp.alt_response(404, description="No such role")
@blp.alt_response(409, description="A built-in role, or another role has that name")
def update_role(changes, name):
    """Rename a custom role or change its permissions; it applies to its holders at once"""
    return services.update_role(current_user, name, changes)


@blp.delete("/roles/<string:name>", parameters=[ROLE_NAME_PARAMETER])
@permission_required(Permission.STAFF_WRITE)
@blp.response(204)
@blp.alt_response(404, description="No such role")
@blp.alt_response(409, description="A built-in role, or a role someone still holds")
def delete_role(name):
    """Delete a custom role nobody holds"""
    services.delete_role(current_user, name)
