"""The HTTP edge: everything that knows Flask's request and response.

Owns the routes (one package per resource: `routes.py` parses with its schemas, calls one
service function, returns), the request and response schemas, argument parsing, guards,
rate limits, caching, idempotency, problem+json rendering, the OpenAPI document and its
pages, health and the metrics export. `init_app` binds all of it to the app.

May import: the domain packages and the platform. Nothing imports the edge but the
application factory (`app.create_app`); import-linter keeps it so (pyproject.toml).
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Bind the edge to the app: hooks, extensions, the document, blueprints, error pages."""
    from app.api.auth.tokens import register_jwt_callbacks
    from app.api.caching import init_catalog_cache
    from app.api.extensions import api, jwt, limiter
    from app.api.fields import Int64Converter, Money
    from app.api.guards import register_guards
    from app.api.metrics import init_metrics
    from app.api.openapi import CART_TOKEN_HEADER, id_path_schema, register_country_code
    from app.api.problems import register_error_handlers
    from app.api.security import register_security

    register_security(app)
    app.url_map.converters["int"] = Int64Converter
    jwt.init_app(app)
    limiter.init_app(app)
    init_metrics(app)
    # After the limiter's and the metrics' hooks: a kept answer is still counted and limited.
    init_catalog_cache(app)
    register_jwt_callbacks(jwt)
    api.init_app(app)
    api.register_converter(Int64Converter, id_path_schema)
    api.register_field(Money, None, None)  # documents its own type (app.api.fields)
    register_country_code(api.spec)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    api.spec.components.security_scheme(
        "cartToken",
        {
            "type": "apiKey",
            "in": "header",
            "name": CART_TOKEN_HEADER,
            "description": "A guest cart's token, from POST /api/carts",
        },
    )
    _register_blueprints(app)
    register_error_handlers(app)
    register_guards(app)


def _register_blueprints(app: Flask) -> None:
    from app.api.addresses.routes import blp as addresses_blp
    from app.api.admin.routes import blp as admin_blp
    from app.api.audit.routes import blp as audit_blp
    from app.api.auth.routes import blp as auth_blp
    from app.api.cart.routes import blp as cart_blp
    from app.api.categories.routes import blp as categories_blp
    from app.api.checkout.routes import blp as checkout_blp
    from app.api.discounts.routes import blp as discounts_blp
    from app.api.docs_pages import doc_assets_blueprints
    from app.api.extensions import api
    from app.api.health import blp as health_blp
    from app.api.orders.routes import blp as orders_blp
    from app.api.payments.routes import blp as payments_blp
    from app.api.products.routes import blp as products_blp
    from app.api.shipping.routes import blp as shipping_blp
    from app.api.staff.routes import blp as staff_blp
    from app.api.taxes.routes import blp as taxes_blp
    from app.api.webhooks.routes import blp as webhooks_blp

    for blueprint in (
        auth_blp,
        products_blp,
        categories_blp,
        cart_blp,
        addresses_blp,
        checkout_blp,
        orders_blp,
        payments_blp,
        shipping_blp,
        admin_blp,
        taxes_blp,
        discounts_blp,
        webhooks_blp,
        staff_blp,
        audit_blp,
        health_blp,
    ):
        api.register_blueprint(blueprint)
    for assets in doc_assets_blueprints():
        app.register_blueprint(assets)
