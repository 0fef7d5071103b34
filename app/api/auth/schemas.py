import marshmallow as ma
from marshmallow import validate

from app.accounts.identity import (
    MAX_EMAIL_LENGTH,
    InvalidIdentity,
    normalize_email,
    normalize_username,
)
from app.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from app.api.fields import PermissionList, Timestamp, no_control_characters, no_nul
from app.api.schemas import ResponseSchema

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
PASSWORD_RULES = (
    f"{MIN_LENGTH} to {MAX_LENGTH} characters, not your username or email, and not one of "
    "the 10,000 most common passwords."
)


class Username(ma.fields.String):
    """NFKC first (fullwidth letters become ASCII ones), then the pattern: usernames are
    ASCII."""

    def _deserialize(self, value, attr, data, **kwargs):
        return normalize_username(super()._deserialize(value, attr, data, **kwargs))


class AccountEmail(ma.fields.Email):
    """An address in its canonical form (app.accounts.identity); look-alikes are refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return normalize_email(super()._deserialize(value, attr, data, **kwargs))
        except InvalidIdentity as error:
            raise ma.ValidationError(str(error)) from None


class NewPassword(ma.fields.String):
    """A password being set. Length and characters are checked here; the rest of the policy
    (app.accounts.passwords) by the service, which knows the username and email."""

    def __init__(self, **kwargs):
        metadata = {
            "description": PASSWORD_RULES,
            "example": "correct-horse-battery",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(
            required=True,
            load_only=True,
            validate=[validate.Length(min=MIN_LENGTH, max=MAX_LENGTH), no_control_characters],
            metadata=metadata,
            **kwargs,
        )


class RegisterSchema(ma.Schema):
    """Sign-up input. Unknown fields such as `is_admin` are rejected (422)."""

    username = Username(
        required=True,
        validate=[
            validate.Length(min=3, max=80),
            validate.Regexp(
                USERNAME_PATTERN, error="Use only letters, digits, underscore, dot and hyphen."
            ),
        ],
        metadata={"example": "alice"},
    )
    email = AccountEmail(
        required=True,
        validate=validate.Length(max=MAX_EMAIL_LENGTH),
        metadata={"example": "alice@example.com"},
    )
    password = NewPassword()


class UserSchema(ResponseSchema):
    id = ma.fields.Integer(dump_only=True, metadata={"example": 1})
    username = ma.fields.String(dump_only=True, metadata={"example": "alice"})
    email = ma.fields.String(dump_only=True, metadata={"example": "alice@example.com"})
    is_admin = ma.fields.Boolean(
        dump_only=True,
        metadata={"description": "True when the user holds the admin role.", "example": False},
    )
    active = ma.fields.Boolean(
        dump_only=True,
        metadata={"description": "False once staff deactivated the account.", "example": True},
    )
    roles = ma.fields.List(
        ma.fields.String(),
        attribute="role_names",
        dump_only=True,
        metadata={"example": ["customer"]},
    )
    permissions = PermissionList(
        dump_only=True,
        metadata={
            "description": "What the roles grant together: a UI can hide what the user cannot do.",
            "example": [],
        },
    )
    created_at = Timestamp(dump_only=True)


class LoginSchema(ma.Schema):
    username = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=MAX_EMAIL_LENGTH), no_control_characters],
        metadata={"description": "Username or email.", "example": "alice"},
    )
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=[validate.Length(min=1, max=128), no_nul],
        metadata={"example": "correct-horse-battery"},
    )


JWT_EXAMPLE = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(
        required=True,
        load_only=True,
        validate=[validate.Length(min=1, max=MAX_LENGTH), no_nul],
        metadata={"example": "correct-horse-battery"},
    )
    new_password = NewPassword(metadata={"example": "staple-battery-horse-correct"})


class TokenPairSchema(ResponseSchema):
    access_token = ma.fields.String(metadata={"example": JWT_EXAMPLE})
    refresh_token = ma.fields.String(metadata={"example": JWT_EXAMPLE})
    token_type = ma.fields.String(metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(
        metadata={"description": "Seconds the access token lives", "example": 900}
    )


class PasswordForgotSchema(ma.Schema):
    email = AccountEmail(
        required=True,
        validate=validate.Length(max=MAX_EMAIL_LENGTH),
        metadata={"example": "alice@example.com"},
    )


RESET_TOKEN_EXAMPLE = "q4Xb7Lr2Vn9Kp3Wm8Ty6Zc1Hd5Jf0Gs4Ae7Ui2Oy9Ev"


class PasswordResetSchema(ma.Schema):
    token = ma.fields.String(
        required=True,
        load_only=True,
        validate=[validate.Length(min=1, max=200), no_control_characters],
        metadata={"description": "The token of the reset email", "example": RESET_TOKEN_EXAMPLE},
    )
    new_password = NewPassword(metadata={"example": "staple-battery-horse-correct"})


class AcceptedSchema(ResponseSchema):
    detail = ma.fields.String(
        metadata={"example": "If an account has that address, a reset link is on its way."}
    )
