"""Route guards. Each one also documents what it requires in the OpenAPI document."""

from functools import wraps

from flask import request
from flask_jwt_extended import current_user, jwt_required, verify_jwt_in_request
from flask_smorest import Blueprint as BaseBlueprint

from app.accounts.permissions import require
from app.api.caching import cache_response, documents_caching
from app.api.openapi import (
    BEARER_AUTH,
    CART_TOKEN_HEADER,
    bearer_auth,
    bearer_or_cart_token,
    error_responses,
    permission_doc,
    permission_refusal,
)
from app.platform.models import Permission


def login_required(fn=None, *, refresh: bool = False, any_token_type: bool = False):
    """A valid, unrevoked token of a user that still exists."""

    def decorator(view):
        guarded = jwt_required(refresh=refresh, verify_type=not any_token_type)(view)
        return bearer_auth()(guarded)

    return decorator(fn) if fn is not None else decorator


def permission_required(permission: Permission):
    """login_required, and one of the user's roles must grant `permission`; else a 403 that
    names it. Roles are read with the login on every request (app.accounts.services.live_family),
    so a change applies to tokens already issued. The permission is documented as the
    operation's `x-permission` and in its description."""

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            require(current_user, permission)
            return view(*args, **kwargs)

        guarded.__doc__ = f"{(view.__doc__ or '').rstrip()}\n\nPermission: `{permission}`."
        return permission_doc(permission)(login_required(guarded))

    return decorator


def public_read(
    staff_option: str | None = None,
    permission: Permission | None = None,
    *,
    catalog: bool = False,
):
    """A read anyone may make, cached as public (app.api.caching); placed above `response`.
    `catalog`: the answer depends on products and categories only, and is kept rendered
    while the catalog does not change (app.api.caching.serve_rendered_catalog).

    `staff_option` names a boolean query argument reserved to staff holding `permission`
    (`include_inactive`): when it is set the request needs a token (401 without one, 403
    without the permission) and the answer is private, never stored by a shared cache.
    """

    def decorator(view):
        @wraps(view)
        def read(*args, **kwargs):
            staff_only = staff_option is not None and args[0][staff_option]
            if staff_only:
                verify_jwt_in_request()
                require(current_user, permission)
            return cache_response(view(*args, **kwargs), public=not staff_only)

        read.catalog_read = catalog
        documented = documents_caching(read)
        if staff_option is None:
            return documented
        # The option makes the token optional on a public read.
        optional_token = BaseBlueprint.doc(security=[{}, *BEARER_AUTH])
        return optional_token(error_responses(401)(permission_refusal()(documented)))

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
