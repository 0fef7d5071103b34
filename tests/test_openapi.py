"""The OpenAPI document: valid, committed, complete, and served with offline docs pages."""

import json
import re
from pathlib import Path

import marshmallow as ma
import pytest
from openapi_spec_validator import validate

from app import create_app
from app.platform.db import db

COMMITTED_SPEC = Path(__file__).resolve().parents[1] / "openapi.json"
TAGS = {
    "auth",
    "products",
    "categories",
    "cart",
    "addresses",
    "checkout",
    "orders",
    "payments",
    "shipping",
    "admin",
    "taxes",
    "discounts",
    "webhooks",
    "staff",
    "audit",
    "operations",
}
METHODS = {"get", "post", "put", "patch", "delete"}
WRITE_METHODS = {"post", "put", "patch", "delete"}
PROBLEM = "application/problem+json"

DOCUMENTED_PATHS = [
    "/api/auth/register",
    "/api/auth/login",
    "/api/auth/refresh",
    "/api/auth/me",
    "/api/auth/logout",
    "/api/products",
    "/api/products/{product_id}",
    "/api/products/{product_id}/stock",
    "/api/products/{product_id}/stock-movements",
    "/api/categories",
    "/api/categories/{category_id}",
    "/api/cart",
    "/api/cart/{product_id}",
    "/api/carts",
    "/api/cart/merge",
    "/api/orders",
    "/api/orders/history",
    "/api/orders/{order_id}",
    "/api/orders/{order_id}/cancel",
    "/api/admin/orders",
    "/api/admin/low-stock",
    "/api/addresses",
    "/api/addresses/{address_id}",
    "/api/checkout/preview",
    "/api/payments/stripe/webhook",
    "/api/shipping-methods",
    "/api/admin/shipping-methods",
    "/api/admin/shipping-methods/{method_id}",
    "/api/admin/tax-rates",
    "/api/admin/tax-rates/{rate_id}",
    "/api/admin/discounts",
    "/api/admin/discounts/{discount_id}",
    "/api/admin/users",
    "/api/admin/users/{user_id}",
    "/api/admin/users/{user_id}/roles",
    "/api/admin/users/{user_id}/deactivate",
    "/api/admin/users/{user_id}/activate",
    "/api/admin/roles",
    "/api/admin/roles/{name}",
    "/api/admin/audit",
    "/healthz",
    "/readyz",
]
# Staff operations and the permission each declares (`x-permission`).
STAFF_OPERATIONS = {
    ("/api/products", "post"): "catalog:write",
    ("/api/products/{product_id}", "put"): "catalog:write",
    ("/api/products/{product_id}", "patch"): "catalog:write",
    ("/api/products/{product_id}", "delete"): "catalog:write",
    ("/api/products/{product_id}/stock", "post"): "inventory:write",
    ("/api/products/{product_id}/stock-movements", "get"): "inventory:write",
    ("/api/categories", "post"): "catalog:write",
    ("/api/categories/{category_id}", "put"): "catalog:write",
    ("/api/categories/{category_id}", "patch"): "catalog:write",
    ("/api/categories/{category_id}", "delete"): "catalog:write",
    ("/api/orders/{order_id}", "patch"): "orders:write",
    ("/api/admin/orders", "get"): "orders:read",
    ("/api/admin/low-stock", "get"): "inventory:write",
    ("/api/admin/webhooks", "post"): "webhooks:write",
    ("/api/admin/webhooks", "get"): "webhooks:write",
    ("/api/admin/webhooks/{subscription_id}", "get"): "webhooks:write",
    ("/api/admin/webhooks/{subscription_id}", "patch"): "webhooks:write",
    ("/api/admin/webhooks/{subscription_id}", "delete"): "webhooks:write",
    ("/api/admin/webhooks/{subscription_id}/rotate-secret", "post"): "webhooks:write",
    ("/api/admin/webhooks/{subscription_id}/deliveries", "get"): "webhooks:write",
    ("/api/admin/webhooks/deliveries/{delivery_id}/redeliver", "post"): "webhooks:write",
    ("/api/admin/shipping-methods", "get"): "settings:write",
    ("/api/admin/shipping-methods", "post"): "settings:write",
    ("/api/admin/shipping-methods/{method_id}", "get"): "settings:write",
    ("/api/admin/shipping-methods/{method_id}", "patch"): "settings:write",
    ("/api/admin/shipping-methods/{method_id}", "delete"): "settings:write",
    ("/api/admin/tax-rates", "get"): "settings:write",
    ("/api/admin/tax-rates", "post"): "settings:write",
    ("/api/admin/tax-rates/{rate_id}", "get"): "settings:write",
    ("/api/admin/tax-rates/{rate_id}", "patch"): "settings:write",
    ("/api/admin/tax-rates/{rate_id}", "delete"): "settings:write",
    ("/api/admin/discounts", "get"): "settings:write",
    ("/api/admin/discounts", "post"): "settings:write",
    ("/api/admin/discounts/{discount_id}", "get"): "settings:write",
    ("/api/admin/discounts/{discount_id}", "patch"): "settings:write",
    ("/api/admin/discounts/{discount_id}", "delete"): "settings:write",
    ("/api/admin/users", "get"): "customers:read",
    ("/api/admin/users/{user_id}", "get"): "customers:read",
    ("/api/admin/users/{user_id}/roles", "put"): "staff:write",
    ("/api/admin/users/{user_id}/deactivate", "post"): "staff:write",
    ("/api/admin/users/{user_id}/activate", "post"): "staff:write",
    ("/api/admin/roles", "get"): "staff:write",
    ("/api/admin/roles", "post"): "staff:write",
    ("/api/admin/roles/{name}", "patch"): "staff:write",
    ("/api/admin/roles/{name}", "delete"): "staff:write",
    ("/api/admin/audit", "get"): "audit:read",
}
# Signed-in operations on one's own things, where staff with a permission may act on
# another user's (cancelling another user's order needs orders:write): they document 403.
OBJECT_PERMISSION_OPERATIONS = {("/api/orders/{order_id}/cancel", "post")}
# Public reads with an option reserved to staff (include_inactive, catalog:write): the token
# is optional, and the option's 401/403 are documented.
ADMIN_OPTION_OPERATIONS = {
    ("/api/products", "get"),
    ("/api/products/{product_id}", "get"),
    ("/api/products/by-slug/{slug}", "get"),
}
PUBLIC_OPERATIONS = {
    ("/api/auth/register", "post"),
    ("/api/auth/login", "post"),
    ("/api/auth/password/forgot", "post"),
    ("/api/auth/password/reset", "post"),
    ("/api/categories", "get"),
    ("/api/categories/{category_id}", "get"),
    ("/api/shipping-methods", "get"),
    ("/api/payments/stripe/webhook", "post"),
    ("/api/carts", "post"),
    ("/healthz", "get"),
    ("/readyz", "get"),
}


@pytest.fixture(scope="module")
def spec(app):
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def resolve(spec, obj: dict) -> dict:
    """Follow a local $ref (#/components/...)."""
    while "$ref" in obj:
        node = spec
        for part in obj["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        obj = node
    return obj


# --- the document as a whole ----------------------------------------------------------------


def test_document_is_valid_openapi(spec):
    assert spec["openapi"] == "3.0.3"
    validate(spec)  # raises OpenAPIValidationError naming what is wrong


def differences(a, b, path="") -> list[str]:
    """Where two JSON documents differ, as /json/pointer paths."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d
            for key in a.keys() | b.keys()
            for d in differences(a.get(key), b.get(key), f"{path}/{key}")
        ]
    return [] if a == b else [path or "/"]


def test_committed_openapi_json_is_current(spec):
    committed = json.loads(COMMITTED_SPEC.read_text())
    stale = sorted(differences(committed, spec))
    assert not stale, f"openapi.json is stale at {stale[:10]}: run `make openapi` and commit it"


def test_openapi_write_command_writes_the_served_document(app, spec, tmp_path):
    target = tmp_path / "openapi.json"
    result = app.test_cli_runner().invoke(args=["openapi", "write", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text()) == spec


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_every_route_is_documented(spec, path):
    assert path in spec["paths"]


def test_bearer_security_scheme(spec):
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def test_document_is_the_same_after_another_app_is_created(client, app, spec):
    other = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    try:
        assert client.get("/api/openapi.json").get_json() == spec
    finally:
        with other.app_context():
            db.engine.dispose()


# --- every operation ------------------------------------------------------------------------


def test_every_operation_has_a_summary_and_one_known_tag(spec):
    for path, method, operation in operations(spec):
        assert operation.get("summary"), (path, method)
        assert len(operation["tags"]) == 1 and operation["tags"][0] in TAGS, (path, method)
    assert {t for *_, op in operations(spec) for t in op["tags"]} == TAGS


# A cart's owner: a signed-in user, or a guest with the cart's token (X-Cart-Token).
CART_OWNER_OPERATIONS = {
    ("/api/cart", "get"),
    ("/api/cart", "post"),
    ("/api/cart", "delete"),
    ("/api/cart/{product_id}", "put"),
    ("/api/cart/{product_id}", "delete"),
}


def test_security_is_declared_exactly_where_a_token_is_needed(spec):
    for path, method, operation in operations(spec):
        if (path, method) in CART_OWNER_OPERATIONS:
            assert operation["security"] == [{"bearerAuth": []}, {"cartToken": []}], path
        elif (path, method) in ADMIN_OPTION_OPERATIONS:
            assert operation["security"] == [{}, {"bearerAuth": []}], path
        elif (path, method) in PUBLIC_OPERATIONS:
            assert "security" not in operation, path
        else:
            assert operation["security"] == [{"bearerAuth": []}], path
        if (path, method) not in PUBLIC_OPERATIONS:
            assert "401" in operation["responses"], (path, method)


def test_staff_operations_declare_their_permission(spec):
    for path, method, operation in operations(spec):
        permission = STAFF_OPERATIONS.get((path, method))
        assert operation.get("x-permission") == permission, (path, method)
        if permission:
            assert f"Permission: `{permission}`." in operation["description"], (path, method)


def test_operations_that_check_a_permission_document_403_and_others_do_not(spec):
    checked = set(STAFF_OPERATIONS) | ADMIN_OPTION_OPERATIONS | OBJECT_PERMISSION_OPERATIONS
    for path, method, operation in operations(spec):
        if (path, method) in checked:
            refusal = {"$ref": "#/components/responses/MISSING_PERMISSION"}
            assert operation["responses"]["403"] == refusal, (path, method)
        else:
            assert "403" not in operation["responses"], (path, method)


def test_operations_with_an_id_document_404(spec):
    for path, method, operation in operations(spec):
        if "{" in path:
            assert "404" in operation["responses"], (path, method)


def test_operations_with_a_body_document_its_errors(spec):
    for path, method, operation in operations(spec):
        if "requestBody" in operation:
            assert {"400", "413", "415", "422"} <= set(operation["responses"]), (path, method)


def test_writes_document_503_database_busy(spec):
    for path, method, operation in operations(spec):
        if method in WRITE_METHODS:
            assert "503" in operation["responses"], (path, method)


def test_there_is_no_catch_all_default_response(spec):
    for path, method, operation in operations(spec):
        assert "default" not in operation["responses"], (path, method)


# Checkout's 409 may carry the current totals and the changed lines (app.api.checkout.schemas).
EXTENDED_PROBLEMS = {("/api/orders", "post", "409"), ("/api/checkout/preview", "post", "409")}


def test_every_error_response_is_problem_json_with_an_example(spec):
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            content = resolve(spec, response)["content"]
            assert list(content) == [PROBLEM], (path, method, status)
            schema = resolve(spec, content[PROBLEM]["schema"])
            if (path, method, status) in EXTENDED_PROBLEMS:
                # A problem with members of its own (RFC 9457 extensions): Problem's and more.
                problem = spec["components"]["schemas"]["Problem"]
                assert schema["properties"].items() >= problem["properties"].items()
                assert set(schema["required"]) == set(problem["required"])
            elif status == "403":
                # A refused permission: Problem, and the name of the permission.
                problem = spec["components"]["schemas"]["Problem"]
                assert schema == spec["components"]["schemas"]["PermissionProblem"]
                assert set(schema["properties"]) == set(problem["properties"]) | {
                    "missing_permission"
                }
                assert set(schema["required"]) == set(problem["required"]) | {"missing_permission"}
            else:
                assert schema == spec["components"]["schemas"]["Problem"]
            assert content[PROBLEM]["example"]["status"] == int(status), (path, method, status)


def test_idempotent_operations_document_the_header_409_and_422(spec):
    for path in ("/api/orders", "/api/cart"):
        operation = spec["paths"][path]["post"]
        header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
        assert header["in"] == "header" and header["required"] is False
        assert header["schema"] == {
            "type": "string",
            "maxLength": 255,
            "pattern": "^([\\x20-\\x7e]{1,255})?$",
        }
        # Postman imports an example as an enabled header: a fixed key would replay.
        assert header["example"] == ""
        assert {"409", "422"} <= set(operation["responses"])


def test_path_ids_are_64_bit(spec):
    parameter = spec["paths"]["/api/products/{product_id}"]["parameters"][0]
    assert parameter["schema"] == {
        "type": "integer",
        "format": "int64",
        "minimum": 1,
        "maximum": 2**63 - 1,
        "example": 1,
    }


def test_path_parameters_have_examples_of_the_seed_catalog(spec):
    """Imported requests ask for something that exists after `make run` seeds the store."""
    for path, item in spec["paths"].items():
        for parameter in item.get("parameters", []):
            assert "example" in parameter or "example" in parameter["schema"], (path, parameter)
    by_slug = spec["paths"]["/api/products/by-slug/{slug}"]["parameters"][0]
    assert by_slug["example"] == "coffee-mug"


# --- realistic examples ---------------------------------------------------------------------


def test_schema_properties_carry_examples(spec):
    skipped = {"PaginationMetadata"}  # flask-smorest's own, unused here
    for name, schema in spec["components"]["schemas"].items():
        if name in skipped:
            continue
        for field, prop in schema.get("properties", {}).items():
            if "$ref" in prop or prop.get("type") in ("array", "object"):
                continue
            assert "example" in prop, f"{name}.{field} has no example"


def test_money_in_responses_is_a_decimal_string(spec):
    for schema in ("Product", "Cart", "CartLine", "Order", "OrderItem", "OrderSummary"):
        for name, prop in spec["components"]["schemas"][schema]["properties"].items():
            if name in ("price", "unit_price", "total", "line_total"):
                assert prop["type"] == "string", (schema, name)
                assert re.fullmatch(prop["pattern"], prop["example"]), (schema, name)
    assert spec["components"]["schemas"]["Product"]["properties"]["price"]["example"] == "19.99"


def test_money_in_requests_may_also_be_a_number(spec):
    for schema in ("ProductInput", "ProductUpdate"):
        string, number = spec["components"]["schemas"][schema]["properties"]["price"]["oneOf"]
        assert string == {
            "type": "string",
            "pattern": r"^\d{1,10}(\.\d{1,2})?$",
            "example": "19.99",
        }
        assert number["type"] == "number" and number["minimum"] == 0


def test_timestamps_have_an_utc_example(spec):
    created = spec["components"]["schemas"]["Product"]["properties"]["created_at"]
    assert created["format"] == "date-time"
    assert created["example"].endswith("+00:00")


# --- the docs pages, offline ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "marker"), [("/api/docs", "SwaggerUIBundle"), ("/api/redoc", "redoc")]
)
def test_docs_pages_load_their_assets_from_this_server(client, path, marker):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert marker in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served by this app (a CDN?)"
        loaded = client.get(asset)
        assert loaded.status_code == 200, asset
        assert len(loaded.data) > 1000, asset


def test_swagger_ui_keeps_the_bearer_token_and_reads_this_document(client):
    page = client.get("/api/docs").get_data(as_text=True)
    assert 'url: "/api/openapi.json"' in page
    assert '"persistAuthorization": true' in page


def test_every_route_the_app_serves_is_in_the_document(app, spec):
    """No shadow API: each rule the app answers is documented (bar the docs themselves)."""
    undocumented = {"/api/openapi.json", "/api/docs", "/api/redoc", "/favicon.ico"}
    documented = {path.replace("{", "<").replace("}", ">") for path in spec["paths"]}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule)
        if path in undocumented or path.startswith("/api/docs-assets/"):
            continue
        assert path in documented, f"{path} is served but not documented"


# --- every argument the server accepts is documented ----------------------------------------

PARAMETER_LOCATIONS = {"query": "query", "querystring": "query", "headers": "header"}


def accepted_arguments(app):
    """(path, method, location, name, field) for each query/header field a view parses, read
    from the argument schemas the routes registered (flask-smorest keeps them on the view)."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        documented = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for parameter in documented:
            location = PARAMETER_LOCATIONS.get(parameter.get("location", parameter.get("in")))
            schema = parameter.get("schema")
            schema = schema() if isinstance(schema, type) else schema
            if location is None or not isinstance(schema, ma.Schema):
                continue
            for name, field in schema.fields.items():
                if field.dump_only:
                    continue
                for method in rule.methods - {"HEAD", "OPTIONS"}:
                    yield path, method.lower(), location, field.data_key or name, field


def test_every_argument_the_server_accepts_is_documented(app, spec):
    """A decorator that rewrites an operation's parameters (as `doc(parameters=...)` once did)
    drops what `arguments` generated; the server would then refuse what clients never saw."""
    arguments = list(accepted_arguments(app))
    assert (
        len({(path, name) for path, _, location, name, _ in arguments if location == "query"}) >= 15
    )
    for path, method, location, name, field in arguments:
        operation = spec["paths"][path][method]
        parameters = {(p["in"], p["name"]): p for p in operation.get("parameters", [])}
        assert (location, name) in parameters, f"{method.upper()} {path}: {name} undocumented"
        schema = resolve(spec, parameters[(location, name)]["schema"])
        assert "type" in schema or "oneOf" in schema, f"{path} {name}: no type"
        for validator in field.validators:
            if isinstance(validator, ma.validate.OneOf):
                assert schema["enum"] == list(validator.choices), f"{path} {name}: enum"
            if isinstance(validator, ma.validate.Range):
                assert "minimum" in schema or "maximum" in schema, f"{path} {name}: bounds"


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/api/products", {"q", "category", "min_price", "max_price", "in_stock", "sort",
                           "page", "per_page", "include_inactive", "If-None-Match"}),
        ("/api/products/{product_id}", {"product_id", "include_inactive", "If-None-Match"}),
        ("/api/products/by-slug/{slug}", {"slug", "include_inactive", "If-None-Match"}),
        ("/api/categories", {"page", "per_page", "If-None-Match"}),
    ],
)  # fmt: skip
def test_cacheable_reads_keep_their_query_parameters(spec, path, names):
    item = spec["paths"][path]
    parameters = item.get("parameters", []) + item["get"].get("parameters", [])
    assert {p["name"] for p in parameters} == names


# --- shapes that generated clients rely on --------------------------------------------------


def schema_refs(node):
    """Every component name referenced under a node of the document."""
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"].rsplit("/", 1)[-1]
        for value in node.values():
            yield from schema_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from schema_refs(value)


def reachable(spec, names):
    """The components `names` reach, themselves included."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(schema_refs(spec["components"]["schemas"][name]))
    return seen


def response_components(spec):
    names = set()
    for _, _, operation in operations(spec):
        for response in operation["responses"].values():
            names |= set(schema_refs(resolve(spec, response).get("content", {})))
    return reachable(spec, names)


def request_components(spec):
    names = set()
    for _, _, operation in operations(spec):
        names |= set(schema_refs(operation.get("requestBody", {})))
    return reachable(spec, names)


def test_every_response_field_is_required(spec):
    """Generated types mark a field optional unless `required` says it is always there."""
    schemas = spec["components"]["schemas"]
    checked = response_components(spec)
    assert {"Product", "TokenPair", "Order", "Cart", "ProductPage", "Problem"} <= checked
    for name in checked:
        properties = set(schemas[name].get("properties", {}))
        optional = {
            "Problem": {"errors"},
            "PermissionProblem": {"errors"},
            "CheckoutConflict": {"errors", "totals", "changed_lines"},
        }.get(name, set())
        assert set(schemas[name].get("required", [])) == properties - optional, name


def test_requests_and_responses_never_share_a_schema(spec):
    assert not request_components(spec) & response_components(spec)


def test_request_bodies_hold_only_what_a_client_may_send(spec):
    """A read-only field in a request body is kept by converters and then refused (422)."""
    for name in request_components(spec):
        for field, prop in spec["components"]["schemas"][name].get("properties", {}).items():
            assert not prop.get("readOnly"), f"{name}.{field} is read-only"


def test_no_schema_is_an_empty_object(spec):
    """`anyOf: [{$ref}, {type: object}]` types as `Ref | {}` and lets converters send `{}`."""

    def walk(node, where):
        if isinstance(node, dict):
            if node.get("type") == "object" and not {"properties", "additionalProperties"} & set(
                node
            ):
                raise AssertionError(f"empty object schema at {where}")
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(spec["components"]["schemas"], "#/components/schemas")
    category = spec["components"]["schemas"]["Product"]["properties"]["category"]
    assert category["allOf"] == [{"$ref": "#/components/schemas/CategoryRef"}]
    assert category["nullable"] is True


def test_order_statuses_are_an_enum(spec):
    statuses = ["pending", "paid", "shipped", "delivered", "cancelled"]
    schemas = spec["components"]["schemas"]
    for name in ("Order", "OrderSummary", "AdminOrderSummary", "StatusChange", "OrderStatusUpdate"):
        assert schemas[name]["properties"]["status"]["enum"] == statuses, name


@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc"])
def test_docs_pages_load_no_image_from_elsewhere(client, path):
    """ReDoc's bundle shows a logo from its CDN: the page's policy keeps the browser here."""
    assert client.get(path).headers["Content-Security-Policy"] == "img-src 'self' data:"


def test_favicon_is_an_empty_answer_not_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 204
    assert response.data == b""
    assert "max-age=86400" in response.headers["Cache-Control"]
