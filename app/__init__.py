"""Application factory."""

import os
from collections.abc import Mapping

from flask import Flask
from sqlalchemy.engine import make_url

from app.observability import configure_logging
from app.security import register_security
from config import get_config


def create_app(config: str | Mapping | None = None) -> Flask:
    """Build the app. `config` is a config name (see config.py) or a mapping of overrides."""
    app = Flask(__name__, static_folder=None)
    app.config.from_object(get_config(config if isinstance(config, str) else None))
    if isinstance(config, Mapping):
        app.config.update(config)
    _configure_database(app)

    # Routes answer with and without a trailing slash, never with a redirect; nor does
    # `//` (werkzeug's merge_slashes would redirect to a Location built from the Host header).
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False
    app.json.sort_keys = False  # type: ignore[attr-defined]  # the default provider has it

    configure_logging(app)
    register_security(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def _configure_database(app: Flask) -> None:
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, "store.db")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "postgresql":
        # An unreachable server fails requests (and /readyz) fast instead of hanging them.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {
            "connect_timeout": app.config["DATABASE_CONNECT_TIMEOUT"],
            **options.get("connect_args", {}),
        }
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def register_extensions(app: Flask) -> None:
    from app.auth.tokens import register_jwt_callbacks
    from app.caching import init_catalog_cache
    from app.extensions import api, jwt, limiter
    from app.fields import Int64Converter, Money
    from app.mail import mail
    from app.metrics import init_metrics
    from app.openapi import CART_TOKEN_HEADER, id_path_schema, register_country_code
    from app.orders.emails import order_email
    from app.outbox import init_app as init_outbox
    from app.payments.providers import check_settings as check_payment_settings
    from app.platform.db import db, migrate

    app.url_map.converters["int"] = Int64Converter
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    jwt.init_app(app)
    limiter.init_app(app)
    mail.init_app(app)
    init_outbox(app, email_for=order_email)
    init_metrics(app)
    # After the limiter's and the metrics' hooks: a kept answer is still counted and limited.
    init_catalog_cache(app)
    register_jwt_callbacks(jwt)
    api.init_app(app)
    api.register_converter(Int64Converter, id_path_schema)
    api.register_field(Money, None, None)  # documents its own type (app.fields)
    register_country_code(api.spec)
    check_payment_settings(app.config)
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


def register_blueprints(app: Flask) -> None:
    from app.addresses.routes import blp as addresses_blp
    from app.admin.routes import blp as admin_blp
    from app.audit.routes import blp as audit_blp
    from app.auth.routes import blp as auth_blp
    from app.cart.routes import blp as cart_blp
    from app.categories.routes import blp as categories_blp
    from app.checkout.routes import blp as checkout_blp
    from app.discounts.routes import blp as discounts_blp
    from app.docs_pages import doc_assets_blueprints
    from app.extensions import api
    from app.health import blp as health_blp
    from app.orders.routes import blp as orders_blp
    from app.payments.routes import blp as payments_blp
    from app.products.routes import blp as products_blp
    from app.shipping.routes import blp as shipping_blp
    from app.staff.routes import blp as staff_blp
    from app.taxes.routes import blp as taxes_blp
    from app.webhooks.routes import blp as webhooks_blp

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


def register_errorhandlers(app: Flask) -> None:
    from app.errors import register_error_handlers
    from app.guards import register_guards

    register_error_handlers(app)
    register_guards(app)


def register_commands(app: Flask) -> None:
    from app.commands import register_commands as add_commands

    add_commands(app)
