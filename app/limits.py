"""Rate limits: who is counted (the key) and how much (the configured limit strings).

Login and registration are limited per client IP and per username, so neither many names from
one address nor one name from many addresses gets unlimited guesses. Writes are limited per
user. The client IP is REMOTE_ADDR, which ProxyFix rewrites from X-Forwarded-For only for the
TRUSTED_PROXIES configured (create_app).
"""

from flask import current_app, request
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_limiter.util import get_remote_address
from jwt import PyJWTError

from app.errors import WRITE_METHODS
from app.extensions import limiter


def configured(name: str):
    """The limit string RATELIMIT_<name>, read per request so settings apply at once."""
    return lambda: current_app.config[f"RATELIMIT_{name}"]


def client_ip() -> str:
    return f"ip:{get_remote_address()}"


def username_in_body() -> str:
    """The username a login or sign-up is for, as the service compares it (lower-cased)."""
    data = request.get_json(silent=True)
    name = data.get("username") if isinstance(data, dict) else None
    return f"name:{str(name).strip().lower()}" if name is not None else client_ip()


def user_or_ip() -> str:
    """The authenticated user; an anonymous or bad token counts against its IP (the view
    itself refuses bad tokens)."""
    try:
        verify_jwt_in_request(optional=True)
        identity = get_jwt_identity()
    except (JWTExtendedException, PyJWTError):
        identity = None
    return f"user:{identity}" if identity else client_ip()


def limit_writes(blueprint) -> None:
    """Writes of the blueprint draw on the user's one RATELIMIT_WRITES budget, shared by every
    write route (applied once, at import)."""
    limiter.shared_limit(
        configured("WRITES"), scope="writes", key_func=user_or_ip, methods=WRITE_METHODS
    )(blueprint)
