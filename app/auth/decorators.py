"""Route guards. Each one also documents the bearer requirement in the OpenAPI spec."""

from functools import wraps

from flask import g
from flask_jwt_extended import current_user, jwt_required, verify_jwt_in_request

from app.errors import Forbidden
from app.openapi import bearer_auth


def login_required(fn=None, *, refresh: bool = False, any_token_type: bool = False):
    """A valid, unrevoked token of a user that still exists."""

    def decorator(view):
        guarded = jwt_required(refresh=refresh, verify_type=not any_token_type)(view)
        return bearer_auth()(guarded)

    return decorator(fn) if fn is not None else decorator


def admin_required(view):
    """login_required, and the user must be an admin (checked against the database)."""

    @wraps(view)
    def guarded(*args, **kwargs):
        _ensure_admin()
        return view(*args, **kwargs)

    return bearer_auth(403)(login_required(guarded))


def require_admin() -> None:
    """For a public route's admin-only option (e.g. `include_inactive`): 401 without a valid
    token, 403 for a customer."""
    verify_jwt_in_request()
    _ensure_admin()
    g.admin_only_data = True  # the response must not be cached as public (app.openapi)


def _ensure_admin() -> None:
    if not current_user.is_admin:
        raise Forbidden("Administrator rights are required.")
