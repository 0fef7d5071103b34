import marshmallow as ma
from marshmallow import validate

from app.fields import Timestamp, no_control_characters

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]+$"


class RegisterSchema(ma.Schema):
    """Sign-up input. Unknown fields such as `is_admin` are rejected (422)."""

    username = ma.fields.String(
        required=True,
        validate=[
            validate.Length(min=3, max=80),
            validate.Regexp(
                USERNAME_PATTERN, error="Use only letters, digits, underscore, dot and hyphen."
            ),
        ],
        metadata={"example": "alice"},
    )
    email = ma.fields.Email(
        required=True, validate=validate.Length(max=254), metadata={"example": "alice@example.com"}
    )
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=[validate.Length(min=8, max=128), no_control_characters],
        metadata={"example": "correct-horse-battery"},
    )


class UserSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True, metadata={"example": 1})
    username = ma.fields.String(dump_only=True, metadata={"example": "alice"})
    email = ma.fields.String(dump_only=True, metadata={"example": "alice@example.com"})
    is_admin = ma.fields.Boolean(dump_only=True, metadata={"example": False})
    created_at = Timestamp(dump_only=True)


class LoginSchema(ma.Schema):
    username = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=254), no_control_characters],
        metadata={"description": "Username or email.", "example": "alice"},
    )
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(min=1, max=128),
        metadata={"example": "correct-horse-battery"},
    )


JWT_EXAMPLE = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


class AccessTokenSchema(ma.Schema):
    access_token = ma.fields.String(metadata={"example": JWT_EXAMPLE})
    token_type = ma.fields.String(metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(metadata={"description": "Seconds", "example": 900})


class TokenPairSchema(AccessTokenSchema):
    refresh_token = ma.fields.String(metadata={"example": JWT_EXAMPLE})
