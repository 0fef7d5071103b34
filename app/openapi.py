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
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from apispec.ext.marshmallow.common import resolve_schema_instance
from flask_smorest import Api as BaseApi
from flask_smorest import Blueprint as BaseBlueprint
from flask_smorest.utils import prepare_response
from openapi_ui_bundles import redoc, swagger_ui

from app.arguments import ArgumentsParser
from app.errors import PROBLEM_MIMETYPE, ProblemSchema, problem_from_http_exception
from app.fields import MAX_ID
from app.guards import WRITE_METHODS
from app.schemas import ResponseSchema

ERROR_DETAILS = {
    400: "The request body is not valid JSON.",
    401: "The token has expired.",
    403: "Administrator rights are required.",
    404: "Product 42 was not found.",
    405: "The method is not allowed for the requested URL.",
    409: "Not enough stock for 'Coffee mug': 1 available, 3 requested.",
    413: "The request body is larger than the limit of 1 MiB.",
    415: "The request body must be JSON (Content-Type: application/json).",
    422: "price: Must have at most 2 decimal places.",
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
    """OpenAPI component name: the class name without "Schema"; partial ones get "Update"
    (unless the name already says it)."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    partial = getattr(schema, "partial", False) and not name.endswith("Update")
    return name + "Update" if partial else name


class DocumentConverter(OpenAPIConverter):
    """marshmallow to OpenAPI, with what typed clients need: response fields `required`
    (app.schemas), and a nullable reference as `nullable` beside `allOf` rather than an
    `anyOf` with an empty object (which generators type as `{}`)."""

    def schema2jsonschema(self, schema):
        jsonschema = super().schema2jsonschema(schema)
        instance = resolve_schema_instance(schema)
        if isinstance(instance, ResponseSchema):
            present = set(jsonschema["properties"]) - set(instance.OPTIONAL)
            jsonschema["required"] = sorted(present)
        return jsonschema

    def field2nullable(self, field, ret):
        if field.allow_none and "$ref" in ret:
            return {"allOf": [{"$ref": ret.pop("$ref")}], "nullable": True}
        if field.allow_none and "allOf" in ret:
            return {"allOf": ret.pop("allOf"), "nullable": True}
        return super().field2nullable(field, ret)


class DocumentPlugin(MarshmallowPlugin):
    Converter = DocumentConverter


def id_path_schema(_converter) -> dict:
    """`<int:...>` path ids are 64-bit, as the database stores them (app.fields). The
    example is the first row of the seed data, so an imported request finds something."""
    return {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID, "example": 1}


def error_responses(*statuses: int):
    """Document problem+json responses (the components Api registers) on a view."""
    return BaseBlueprint.doc(responses={status: HTTPStatus(status).name for status in statuses})


def bearer_auth(*statuses: int):
    """Document the bearer-token requirement and the errors it brings (401, maybe 403)."""

    def decorator(view):
        return BaseBlueprint.doc(security=BEARER_AUTH)(error_responses(401, *statuses)(view))

    return decorator


def header_parameter(parameter: dict):
    """Document a header that a decorator reads, beside the parameters `arguments` documents.
    Never through doc(parameters=...): its deep update replaces the whole list, which once
    dropped every query parameter of the catalog."""

    def decorator(view):
        view._apidoc = deepcopy(getattr(view, "_apidoc", {}))  # shared with the wrapped view
        view._apidoc.setdefault("arguments", {}).setdefault("parameters", []).append(parameter)
        return view

    return decorator


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
        response = response.make_conditional(flask.request)
        # make_conditional adds a Date; the server adds its own, and two confuse caches.
        del response.headers["Date"]
        return response

    responses = {
        200: {"headers": CACHE_HEADERS},
        304: {"description": "Not Modified: the copy with that ETag is current (no body)"},
    }
    return header_parameter(IF_NONE_MATCH)(BaseBlueprint.doc(responses=responses)(wrapper))


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


DOCS_PAGES = ("/api/docs", "/api/redoc")
# ReDoc's menu always shows a logo from a CDN: the browser may load images from here only
# (the <img> then hides itself), so the docs pages make no outside request at all.
DOCS_PAGE_POLICY = "img-src 'self' data:"


def doc_assets_blueprints() -> list[flask.Blueprint]:
    """Static routes for the Swagger UI and ReDoc files shipped by openapi-ui-bundles, the
    docs pages' image policy, and an empty /favicon.ico (browsers ask for it on every page)."""
    blueprints = [
        flask.Blueprint(
            f"{name}_assets",
            __name__,
            static_folder=str(bundle.static_path),
            static_url_path=f"{DOC_ASSETS_URL}/{name}",
        )
        for name, bundle in (("swagger_ui", swagger_ui), ("redoc", redoc))
    ]
    pages = flask.Blueprint("docs_pages", __name__)

    @pages.after_app_request
    def images_from_this_server(response):
        if flask.request.path.rstrip("/") in DOCS_PAGES:
            response.headers["Content-Security-Policy"] = DOCS_PAGE_POLICY
        return response

    @pages.get("/favicon.ico")
    def favicon():
        response = flask.Response(status=204)
        response.cache_control.public = True
        response.cache_control.max_age = 86400
        return response

    return [*blueprints, pages]


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
