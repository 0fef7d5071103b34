"""HTTP caching of the public reads: an ETag over the body, Cache-Control, and 304.

`cache_response` applies the policy to one answer; `documents_caching` describes it in the
OpenAPI document. Routes use both through app.auth.decorators.public_read, which knows
whether an answer holds admin-only data.
"""

import flask
from flask_smorest import Blueprint as BaseBlueprint

from app.openapi import header_parameter

PUBLIC_MAX_AGE = 60
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "schema": {"type": "string"},
    "description": "The ETag of the copy the client holds: 304 while it is current",
    # Empty, as a client without a copy sends it (Postman imports the example as a value).
    "example": "",
}
CACHE_HEADERS = {
    "ETag": {"schema": {"type": "string"}, "description": "Changes whenever the body does"},
    "Cache-Control": {
        "schema": {"type": "string", "example": f"public, max-age={PUBLIC_MAX_AGE}"},
        "description": "public for the public catalog; private, no-store with include_inactive",
    },
}


def cache_response(response: flask.Response, *, public: bool) -> flask.Response:
    """A 200 gets an ETag and `public, max-age=60` (or `private, no-store` for data not
    everyone may see), and becomes a 304 with no body when If-None-Match holds the current
    ETag (werkzeug's make_conditional)."""
    if response.status_code != 200:
        return response
    if public:
        response.cache_control.public = True
        response.cache_control.max_age = PUBLIC_MAX_AGE
    else:
        response.cache_control.private = True
        response.cache_control.no_store = True
    response.add_etag()
    response = response.make_conditional(flask.request)
    # make_conditional adds a Date; the server adds its own, and two confuse caches.
    del response.headers["Date"]
    return response


def documents_caching(view):
    """The ETag and Cache-Control headers, the 304 and If-None-Match, in the document."""
    responses = {
        200: {"headers": CACHE_HEADERS},
        304: {"description": "Not Modified: the copy with that ETag is current (no body)"},
    }
    return header_parameter(IF_NONE_MATCH)(BaseBlueprint.doc(responses=responses)(view))
