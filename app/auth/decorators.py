"""Route guards. Each one also documents what it requires in the OpenAPI document."""

from functools import wraps

from flask import request
from flask_jwt_extended import current_user, jwt_required, verify_jwt_in_request
from flask_smorest import Blueprint as BaseBlueprint

from app.caching import cache_response, documents_caching
from app.errors import Forbidden
from app.openapi import (
    BEARER_AUTH,
    CART_TOKEN_HEADER,
    bearer_auth,
    bearer_or_cart_token,
    error_responses,
)


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


def public_read(admin_option: str | None = None):
    """A read anyone may make, cached as public (app.caching); placed above `response`.

    `admin_option` names a boolean query argument reserved to admins (`include_inactive`):
    when it is set the request needs an admin token (401 without one, 403 for a customer)
    and the answer is private, never stored by a shared cache.
    """

    def decorator(view):
        @wraps(view)
        def read(*args, **kwargs):
            admin_only = admin_option is not None and args[0][admin_option]
            if admin_only:
                verify_jwt_in_request()
                _ensure_admin()
            return cache_response(view(*args, **kwargs), public=not admin_only)

        documented = documents_caching(read)
        if admin_option is None:
            return documented
        # The option makes the token optional on a public read.
        optional_token = BaseBlueprint.doc(security=[{}, *BEARER_AUTH])
        return optional_token(error_responses(401, 403)(documented))

    return decorator


def cart_owner_required(view):
    """The cart of a signed-in user (bearer token) or of a guest (X-Cart-Token, when no
    bearer token is sent): the view gets it as `owner` (app.cart.services.Owner). A bearer
    token is checked as on any login_required route; an unknown cart token is a 401."""

    @wraps(view)
    def guarded(*args, **kwargs):
        from app.cart.services import guest_cart, user_cart

        token = request.headers.get(CART_TOKEN_HEADER)
        if token and "Authorization" not in request.headers:
            owner = guest_cart(token)
        else:
            verify_jwt_in_request()
            owner = user_cart(current_user.id)
        return view(*args, owner=owner, **kwargs)

    return bearer_or_cart_token()(guarded)


def _ensure_admin() -> None:
    if not current_user.is_admin:
        raise Forbidden("Administrator rights are required.")
