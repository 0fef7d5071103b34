"""The OpenAPI document: how flask-smorest describes every resource. Nothing here changes
what a request gets; the behaviour lives in app.api.routing, app.api.caching, app.api.arguments and
app.api.guards, which call these helpers to document themselves.

- Every error response is documented as problem+json (app.api.problems) with a realistic example.
- `error_responses(...)` documents errors raised outside a view (auth guards, idempotency),
  and every write documents 429 (rate limit) and 503 (database busy).
"""

from copy import deepcopy
from http import HTTPStatus

from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from apispec.ext.marshmallow.common import resolve_schema_instance
from flask_smorest import Blueprint as BaseBlueprint

from app.api.fields import COUNTRY_CODE_SCHEMA, MAX_ID, CountryCode
from app.api.schemas import ResponseSchema

ERROR_DETAILS = {
    400: "The request body is not valid JSON.",
    401: "The token has expired.",
    403: "This needs the catalog:write permission, which none of your roles grants.",
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
BEARER_AUTH: list[dict[str, list[str]]] = [{"bearerAuth": []}]
# A cart's owner: a signed-in user, or a guest with the cart's token.
BEARER_OR_CART_TOKEN: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"cartToken": []}]
CART_TOKEN_HEADER = "X-Cart-Token"


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
    (app.api.schemas), and a nullable reference as `nullable` beside `allOf` rather than an
    `anyOf` with an empty object (which generators type as `{}`)."""

    def schema2jsonschema(self, schema):
        jsonschema = super().schema2jsonschema(schema)
        instance = resolve_schema_instance(schema)
        if isinstance(instance, ResponseSchema):
            present = set(jsonschema["properties"]) - set(instance.OPTIONAL)
            jsonschema["required"] = sorted(present)
        return jsonschema

    def field2property(self, field):
        """Country fields refer to one component (register_country_code) instead of
        repeating its 249-value enum."""
        if isinstance(field, CountryCode):
            return {"$ref": COUNTRY_CODE_REF}
        return super().field2property(field)

    def field2nullable(self, field, ret):
        if field.allow_none and "$ref" in ret:
            return {"allOf": [{"$ref": ret.pop("$ref")}], "nullable": True}
        if field.allow_none and "allOf" in ret:
            return {"allOf": ret.pop("allOf"), "nullable": True}
        return super().field2nullable(field, ret)


class DocumentPlugin(MarshmallowPlugin):
    Converter = DocumentConverter


COUNTRY_CODE_REF = "#/components/schemas/CountryCode"


def register_country_code(spec) -> None:
    spec.components.schema("CountryCode", COUNTRY_CODE_SCHEMA)


def id_path_schema(_converter) -> dict:
    """`<int:...>` path ids are 64-bit, as the database stores them (app.api.fields). The
    example is the first row of the seed data, so an imported request finds something."""
    return {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID, "example": 1}


def error_responses(*statuses: int):
    """Document problem+json responses (the components Api registers) on a view."""
    return BaseBlueprint.doc(responses={status: HTTPStatus(status).name for status in statuses})


def bearer_auth():
    """Document the bearer-token requirement and its 401."""

    def decorator(view):
        return BaseBlueprint.doc(security=BEARER_AUTH)(error_responses(401)(view))

    return decorator


# The 403 of a permission check: a problem that names the missing permission.
MISSING_PERMISSION = "MISSING_PERMISSION"


def permission_refusal():
    """Document the 403 of a permission check (its problem names the permission)."""
    return BaseBlueprint.doc(responses={403: MISSING_PERMISSION})


def permission_doc(permission: str):
    """Document the permission an operation needs: `x-permission`, and its 403."""

    def decorator(view):
        return BaseBlueprint.doc(**{"x-permission": str(permission)})(permission_refusal()(view))

    return decorator


def bearer_or_cart_token():
    """Document that a bearer token or a guest cart's X-Cart-Token is required (401)."""

    def decorator(view):
        return BaseBlueprint.doc(security=BEARER_OR_CART_TOKEN)(error_responses(401)(view))

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
