"""The application factory: configuration, then the domain (database, outbox, payment
settings), then the HTTP edge (app.api), then the CLI commands. The only importer of the
edge."""

import hashlib
import os
import re
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
    _configure_store_files(app)

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


def _configure_store_files(app: Flask) -> None:
    """The embedded queue and the mail folder belong to one database, named after it: a
    SQLite store keeps them beside its file (instance/store.db: instance/store.queue.db and
    instance/store.mail/), another engine's in the instance folder under the database's name
    and a digest of its URL. Two stores side by side never share jobs or mail."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        base = os.path.splitext(os.path.abspath(url.database))[0]
    else:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", url.database or "store")[:60]
        address = url.render_as_string(hide_password=True).encode()
        base = os.path.join(app.instance_path, f"{name}-{hashlib.sha256(address).hexdigest()[:8]}")
    app.config["QUEUE_SQLITE_PATH"] = app.config["QUEUE_SQLITE_PATH"] or f"{base}.queue.db"
    app.config["MAIL_FOLDER"] = app.config["MAIL_FOLDER"] or f"{base}.mail"


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
