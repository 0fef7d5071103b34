"""Flask-JWT-Extended hooks: identity, user lookup, revocation, and 401s as problem+json."""

from flask_jwt_extended import JWTManager

from app.auth.services import REFRESH_REFUSED, is_token_revoked
from app.errors import problem
from app.extensions import db
from app.models import User

CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _unauthorized(detail: str):
    return problem(401, detail, headers=CHALLENGE)


def register_jwt_callbacks(jwt: JWTManager) -> None:
    @jwt.user_identity_loader
    def _identity(user: User) -> str:
        return str(user.id)  # PyJWT requires a string `sub`

    @jwt.user_lookup_loader
    def _load_user(_header: dict, payload: dict) -> User | None:
        try:
            return db.session.get(User, int(payload["sub"]))
        except (TypeError, ValueError, OverflowError):
            return None

    @jwt.token_in_blocklist_loader
    def _is_revoked(_header: dict, payload: dict) -> bool:
        return is_token_revoked(payload)

    jwt.unauthorized_loader(_unauthorized)
    jwt.invalid_token_loader(lambda reason: _unauthorized(f"Invalid token: {reason}."))
    jwt.expired_token_loader(lambda _h, _p: _unauthorized("The token has expired."))
    jwt.revoked_token_loader(
        lambda _h, payload: _unauthorized(
            REFRESH_REFUSED if payload["type"] == "refresh" else "The token has been revoked."
        )
    )
    jwt.needs_fresh_token_loader(lambda _h, _p: _unauthorized("A fresh token is required."))
    jwt.user_lookup_error_loader(
        lambda _h, _p: _unauthorized("The user of this token no longer exists.")
    )
