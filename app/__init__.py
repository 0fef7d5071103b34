"""The application factory: configuration, then the domain (database, outbox, payment
settings), then the HTTP edge (app.api), then the CLI commands. The only importer of the
edge."""

import os
from collections.abc import Mapping

from flask import Flask
from sqlalchemy.engine import make_url

from app import api
from app.api.observability import configure_logging
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
    register_domain(app)
    api.init_app(app)
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


def register_domain(app: Flask) -> None:
    """The database layer, the outbox (told who writes an event's email) and the payment
    provider's settings, checked at start-up."""
    from app.ordering.emails import order_email
    from app.outbox.dispatch import init_app as init_outbox
    from app.outbox.mail import mail
    from app.payments.providers import check_settings as check_payment_settings
    from app.platform.db import db, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    mail.init_app(app)
    init_outbox(app, email_for=order_email)
    check_payment_settings(app.config)


def register_commands(app: Flask) -> None:
    from app.commands import register_commands as add_commands

    add_commands(app)
