"""The OpenAPI side of flask-smorest, customised once for every resource.

- Swagger UI (/api/docs) and ReDoc (/api/redoc) load their assets from the installed
  openapi-ui-bundles package, never from a CDN: the docs work offline.
- Every error response is documented as problem+json (app.errors) with a realistic example.
- `Blueprint.arguments` on a JSON body also documents 400 (malformed), 413 and 415;
  `alt_response(4xx)` without a schema documents the problem body.
- `error_responses(...)` documents errors raised outside a view (auth guards, idempotency),
  and every write documents 429 (rate limit) and 503 (database busy).
"""

from copy import deepcopy
from functools import wraps
from http import HTTPStatus

import flask
from flask_smorest import Api as BaseApi
from flask_smorest import Blueprint as BaseBlueprint
from flask_smorest.utils import prepare_response
from openapi_ui_bundles import redoc, swagger_ui

from app.arguments import ArgumentsParser
from app.errors import (
    PROBLEM_MIMETYPE,
    WRITE_METHODS,
    ProblemSchema,
    problem_from_http_exception,
)
from app.fields import MAX_ID

ERROR_DETAILS = {
    400: "The request body is not valid JSON.",
    401: "The token has expired.",
    403: "Administrator rights are required.",
    404: "Product 42 was not found.",
    405: "The method is not allowed for the requested URL.",
    409: "Not enough stock for 'Coffee mug': 1 available, 3 requested.",
    413: "The request body is larger than the limit of 1 MiB.",
    415: "The request body must be JSON (Content-Type: application/json).",
    422: "Invalid input: price: Must have at most 2 decimal places.",
    429: "Too many requests: retry after the time given in Retry-After.",
    500: "An unexpected error occurred.",
    503: "The database is busy; retry the request shortly.",
}
VALIDATION_ERRORS = {"price": ["Must have at most 2 decimal places."]}
BEARER_AUTH = [{"bearerAuth": []}]


def problem_example(status: int, detail: str | None = None) -> dict:
    phrase = HTTPStatus(status).phrase
    example = {
        "type": "about:blank",
        "title": phrase,
        "status": status,
        "detail": detail or ERROR_DETAILS.get(status, phrase),
    }
    if status == 422:
        example["errors"] = VALIDATION_ERRORS
    return example


def schema_name(schema) -> str:
    """OpenAPI component name: the class name without "Schema"; partial ones get "Update"."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    return name + "Update" if getattr(schema, "partial", False) else name


def id_path_schema(_converter) -> dict:
    """`<int:...>` path ids are 64-bit, as the database stores them (app.fields)."""
    return {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}


def error_responses(*statuses: int):
    """Document problem+json responses (the components Api registers) on a view."""
    return BaseBlueprint.doc(responses={status: HTTPStatus(status).name for status in statuses})


def bearer_auth(*statuses: int):
    """Document the bearer-token requirement and the errors it brings (401, maybe 403)."""

    def decorator(view):
        return BaseBlueprint.doc(security=BEARER_AUTH)(error_responses(401, *statuses)(view))

    return decorator


PUBLIC_MAX_AGE = 60
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "schema": {"type": "string"},
    "description": "The ETag of the copy the client holds: 304 while it is current",
}
CACHE_HEADERS = {
    "ETag": {"schema": {"type": "string"}, "description": "Changes whenever the body does"},
    "Cache-Control": {
        "schema": {"type": "string", "example": f"public, max-age={PUBLIC_MAX_AGE}"},
        "description": "public for the public catalog; private, no-store with include_inactive",
    },
}


def cacheable(view):
    """A public read: an ETag over the body, `Cache-Control: public, max-age=60`, and 304
    with no body when If-None-Match holds the current ETag (werkzeug's make_conditional).
    Placed above `response`; a response that require_admin() let through (admin-only data,
    such as `include_inactive`) is never stored."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        response = view(*args, **kwargs)
        if response.status_code != 200:
            return response
        if flask.g.get("admin_only_data"):
            response.cache_control.private = True
            response.cache_control.no_store = True
        else:
            response.cache_control.public = True
            response.cache_control.max_age = PUBLIC_MAX_AGE
        response.add_etag()
        return response.make_conditional(flask.request)

    responses = {
        200: {"headers": CACHE_HEADERS},
        304: {"description": "Not Modified: the copy with that ETag is current (no body)"},
    }
    wrapper = BaseBlueprint.doc(responses=responses)(wrapper)
    # Beside the parameters `arguments` documents, never through doc(parameters=...): that
    # deep update replaces the whole list, dropping every query parameter.
    wrapper._apidoc = deepcopy(wrapper._apidoc)
    wrapper._apidoc.setdefault("arguments", {}).setdefault("parameters", []).append(IF_NONE_MATCH)
    return wrapper


class Api(BaseApi):
    """flask-smorest Api whose HTTP errors are problem+json, in responses and in the spec."""

    ERROR_SCHEMA = ProblemSchema
    # No catch-all `default` response: every status an operation can answer is listed, so a
    # client (and the fuzzer's status-code check) can rely on the list.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        return problem_from_http_exception(error)

    def _register_responses(self):
        """One lazy response component per error status, e.g. NOT_FOUND."""
        for status in HTTPStatus:
            if status >= 400:
                self._register_problem(status.name, status.phrase, problem_example(status))

    def _register_problem(self, name: str, description: str, example: dict) -> None:
        response = {"description": description, "schema": self.ERROR_SCHEMA, "example": example}
        prepare_response(response, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response(name, response, lazy=True)


DOC_ASSETS_URL = "/api/docs-assets"


def doc_assets_blueprints() -> list[flask.Blueprint]:
    """Static routes for the Swagger UI and ReDoc files shipped by openapi-ui-bundles."""
    return [
        flask.Blueprint(
            f"{name}_assets",
            __name__,
            static_folder=str(bundle.static_path),
            static_url_path=f"{DOC_ASSETS_URL}/{name}",
        )
        for name, bundle in (("swagger_ui", swagger_ui), ("redoc", redoc))
    ]


class Blueprint(BaseBlueprint):
    ARGUMENTS_PARSER = ArgumentsParser()

    def route(self, rule, **options):
        """Writes are rate limited (429) and may find the database busy (503): both say when
        to retry (Retry-After); document them on every write."""
        decorator = super().route(rule, **options)
        if not set(WRITE_METHODS) & set(options.get("methods", ())):
            return decorator
        return lambda view: decorator(error_responses(429, 503)(view))

    def arguments(self, schema, *, location="json", **kwargs):
        decorator = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return decorator
        return lambda view: error_responses(400, 413, 415)(decorator(view))

    def alt_response(self, status_code, response=None, *, description=None, **kwargs):
        """An error without its own schema is documented as a problem, with an example."""
        if response is None and int(status_code) >= 400 and "schema" not in kwargs:
            kwargs.setdefault("example", problem_example(int(status_code), description))
            kwargs |= {"schema": ProblemSchema, "content_type": PROBLEM_MIMETYPE}
        return super().alt_response(status_code, response, description=description, **kwargs)
