"""Rate limits: who is counted (the key) and how much (the configured limit strings).

Login and registration are limited per client IP and per account, so neither many names from
one address nor one account from many addresses gets unlimited guesses. The account is the
user the typed username or email resolves to (one budget whatever name is typed); an unknown
name counts under its normalised form. Writes are limited per user. The client IP is
REMOTE_ADDR, which ProxyFix rewrites from X-Forwarded-For only for the TRUSTED_PROXIES
configured (create_app).

Key functions never raise: Flask-Limiter takes any exception while checking limits for a
storage outage and moves the worker to its in-memory fallback, so one malformed body could
take that worker off the shared Redis budget. Keys hash what the client typed: bounded,
always encodable (lone surrogates too), and no usernames in Redis.
"""

import hashlib
import json
from functools import wraps

from flask import current_app, g, request
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_limiter.util import get_remote_address
from jwt import PyJWTError

from app.accounts.identity import login_key
from app.accounts.services import find_user_id
from app.api.extensions import limiter
from app.api.guards import WRITE_METHODS

MAX_PLAIN_KEY = 64  # longer (or non-ASCII) key parts are hashed


def configured(name: str):
    """The limit string RATELIMIT_<name>, read per request so settings apply at once."""
    return lambda: current_app.config[f"RATELIMIT_{name}"]


def _part(text: str) -> str:
    """A key part as is when short and printable ASCII, else its hash."""
    if len(text) <= MAX_PLAIN_KEY and text.isascii() and text.isprintable():
        return text
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def never_raises(fallback):
    """Wrap a key function: on any exception, log one line and count under `fallback()`
    (which must not raise) instead of letting Flask-Limiter see a "storage failure"."""

    def decorator(key_func):
        @wraps(key_func)
        def safe_key() -> str:
            try:
                return key_func()
            except Exception as error:
                current_app.logger.warning(
                    "Rate-limit key %s failed (%s); counted by address",
                    key_func.__name__,
                    type(error).__name__,
                )
                return fallback()

        safe_key.never_raises = True
        return safe_key

    return decorator


def _address() -> str:
    return _part(str(get_remote_address()))


@never_raises(fallback=lambda: "ip:unknown")
def client_ip() -> str:
    return f"ip:{_address()}"


def _name_in_body(field: str = "username") -> str | None:
    """The body's `field` when it is a JSON object holding a string, read as the view's
    parser (webargs) reads it: UTF-8 JSON of a JSON content type. Anything else is None."""
    if not request.is_json:
        return None
    max_length = current_app.config.get("MAX_CONTENT_LENGTH")
    if max_length and (request.content_length or 0) > max_length:
        return None  # the view answers 413
    try:
        data = json.loads(request.get_data(cache=True).decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    name = data.get(field) if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def _account_key() -> str:
    name = _name_in_body()
    if name is None:
        # No account named (the view refuses the body): its own key, so the request is
        # counted once in the address's budget, not twice.
        return f"acct:none:{_address()}"
    user_id = find_user_id(name)
    if user_id is not None:
        return f"acct:user:{user_id}"
    return f"acct:name:{_part(login_key(name))}"


@never_raises(fallback=lambda: f"acct:unresolved:{_address()}")
def account_in_body() -> str:
    """The account a login or sign-up names: `bob`, `BOB` and `bob@example.com` are one
    budget. Resolved once per request (each limit string asks again)."""
    if "rate_limit_account" not in g:
        g.rate_limit_account = _account_key()
    return g.rate_limit_account


@never_raises(fallback=lambda: f"mail:unresolved:{_address()}")
def address_in_body() -> str:
    """The address a password reset asks for, as accounts store it (case-folded): one budget
    per address, however it is typed."""
    address = _name_in_body("email")
    if address is None:
        return f"mail:none:{_address()}"
    return f"mail:{_part(login_key(address))}"


@never_raises(fallback=client_ip)
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
        configured("WRITES"), scope="writes", key_func=user_or_ip, methods=list(WRITE_METHODS)
    )(blueprint)
