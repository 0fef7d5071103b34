import marshmallow as ma
from marshmallow import validate

from app.api.auth.schemas import UserSchema
from app.api.fields import PermissionList, no_control_characters
from app.api.pagination import PaginationArgsSchema, page_of
from app.api.schemas import ResponseSchema, with_examples
from app.platform.models import Permission

ROLE_NAME_PATTERN = r"^[a-z][a-z0-9_]{1,49}$"
ROLE_NAME_RULE = (
    "Must be 2 to 50 lower-case letters, digits or underscores, starting with a letter."
)
# A path's role name: the same rule (a name that breaks it cannot exist: 404).
ROLE_NAME_PARAMETER = {
    "in": "path",
    "name": "name",
    "schema": {"type": "string", "pattern": ROLE_NAME_PATTERN},
    "example": "content_editor",
}


def _role_name(**kwargs) -> ma.fields.String:
    return ma.fields.String(
        validate=validate.Regexp(ROLE_NAME_PATTERN, error=ROLE_NAME_RULE), **kwargs
    )


def _permissions(**kwargs) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.Enum(Permission, by_value=True),
        validate=validate.Length(max=len(Permission)),
        **kwargs,
    )


class UserQueryArgsSchema(PaginationArgsSchema):
    q = ma.fields.String(
        validate=[validate.Length(min=1, max=254), no_control_characters],
        metadata={"description": "Part of the username or email address", "example": "alice"},
    )
    role = _role_name(metadata={"description": "Users holding this role", "example": "support"})


UserPageSchema = page_of(UserSchema)


class RoleAssignmentSchema(ma.Schema):
    roles = ma.fields.List(
        _role_name(),
        required=True,
        validate=validate.Length(max=50),
        metadata={
            "description": "Every role the user is to hold (the list replaces his roles)",
            "example": ["customer", "support"],
        },
    )


class RoleSchema(ResponseSchema):
    name = ma.fields.String(metadata={"example": "content_editor"})
    permissions = PermissionList(metadata={"example": ["catalog:write"]})
    builtin = ma.fields.Boolean(
        metadata={"description": "Built-in roles cannot be changed or deleted", "example": False}
    )


RolePageSchema = page_of(RoleSchema)


class RoleInputSchema(ma.Schema):
    name = _role_name(required=True, metadata={"example": "stock_clerk"})
    permissions = _permissions(required=True, metadata={"example": ["inventory:write"]})


RoleUpdateSchema = with_examples(
    RoleInputSchema, "RoleUpdateSchema", name="catalog_editor", permissions=["catalog:write"]
)
