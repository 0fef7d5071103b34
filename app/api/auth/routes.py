from flask_jwt_extended import current_user, get_jwt

from app.accounts import services
from app.api.auth.decorators import login_required
from app.api.auth.schemas import (
    AcceptedSchema,
    LoginSchema,
    PasswordChangeSchema,
    PasswordForgotSchema,
    PasswordResetSchema,
    RegisterSchema,
    TokenPairSchema,
    UserSchema,
)
from app.api.extensions import limiter
from app.api.limits import account_in_body, address_in_body, client_ip, configured, limit_writes
from app.api.routing import Blueprint

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")
limit_writes(blp)


@blp.post("/register")
@limiter.limit(configured("REGISTER"), key_func=client_ip)
@limiter.limit(configured("REGISTER"), key_func=account_in_body)
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
@blp.alt_response(409, description="Username or email already registered")
def register(data):
    """Create a customer account"""
    return services.register_user(**data)


@blp.post("/login")
@limiter.limit(configured("LOGIN"), key_func=client_ip)
@limiter.limit(configured("LOGIN"), key_func=account_in_body)
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
@blp.alt_response(401, description="Invalid username or password")
def login(data):
    """Exchange credentials for an access and a refresh token"""
    return services.login(data["username"], data["password"])


@blp.post("/refresh")
@login_required(refresh=True)
@blp.response(200, TokenPairSchema)
def refresh():
    """Rotate a refresh token: a new access and refresh token; the old one is spent"""
    return services.refresh(current_user, get_jwt())


@blp.get("/me")
@login_required
@blp.response(200, UserSchema)
def me():
    """The authenticated user"""
    return current_user


@blp.post("/logout")
@login_required(any_token_type=True)
@blp.response(204)
def logout():
    """End this login: the presented token and every token of the same login are revoked"""
    services.logout(get_jwt())


@blp.post("/password")
@login_required
@blp.arguments(PasswordChangeSchema)
@blp.response(200, TokenPairSchema)
def change_password(data):
    """Change the password: every login of the user ends, and a new one starts"""
    return services.change_password(current_user, data["current_password"], data["new_password"])


@blp.post("/password/forgot")
@limiter.limit(configured("PASSWORD_FORGOT_IP"), key_func=client_ip)
@limiter.limit(configured("PASSWORD_FORGOT"), key_func=address_in_body)
@blp.arguments(PasswordForgotSchema)
@blp.response(202, AcceptedSchema)
def forgot_password(data):
    """Email a password-reset link (the same 202 whether or not the address has an account)"""
    return services.request_password_reset(data["email"])


@blp.post("/password/reset")
@limiter.limit(configured("LOGIN"), key_func=client_ip)
@blp.arguments(PasswordResetSchema)
@blp.response(200, TokenPairSchema)
def reset_password(data):
    """Set a new password with the token of the reset email; every other login ends

    A used, expired or unknown token is a 422 on `token`.
    """
    return services.reset_password(data["token"], data["new_password"])
