"""Flask-JWT-Extended hooks: identity, user lookup, revocation, and 401s as problem+json."""

from flask import g
from flask_jwt_extended import JWTManager

from app.accounts.services import REFRESH_REFUSED, live_family
from app.api.problems import problem
from app.platform import context
from app.platform.models import User

CHALLENGE = {"WWW-Authenticate": "Bearer"}
INVALID_TOKEN = "The token is invalid."
MISSING_TOKEN = "A bearer token is required: send Authorization: Bearer <token>."
# The library's reasons worth passing on, in the project's words; any other (bad padding,
# bad signature, missing claim...) is just an invalid token.
WRONG_TYPE = {
    "Only non-refresh tokens are allowed": "An access token is required, not a refresh token.",
    "Only refresh tokens are allowed": "A refresh token is required, not an access token.",
}


def _unauthorized(detail: str):
    return problem(401, detail, headers=CHALLENGE)


def register_jwt_callbacks(jwt: JWTManager) -> None:
    @jwt.user_identity_loader
    def _identity(user: User) -> str:
        return str(user.id)  # PyJWT requires a string `sub`

    # The revocation check runs first and loads the login with its user in one query; the
    # user lookup then takes that user (no second query).
    @jwt.token_in_blocklist_loader
    def _is_revoked(_header: dict, payload: dict) -> bool:
        family = live_family(payload)
        g.token_user = family.user if family is not None else None
        return family is None

    @jwt.user_lookup_loader
    def _load_user(_header: dict, payload: dict) -> User | None:
        user = g.pop("token_user", None)
        if user is None or str(user.id) != payload["sub"]:
            return None
        context.set_actor(user.id)  # the audit log's actor
        return user

    jwt.unauthorized_loader(lambda _reason: _unauthorized(MISSING_TOKEN))
    jwt.invalid_token_loader(lambda reason: _unauthorized(WRONG_TYPE.get(reason, INVALID_TOKEN)))
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
