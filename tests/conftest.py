"""Fixtures: app -> database -> client, plus `auth` (tokens) and `make_product`.

The session runs on a fresh database of the engine TEST_DATABASE names (see tests/databases.py).
The schema is built by the committed migrations, so every run also tests them.
A developer's `.env` configures `make run`, never the tests (tests/__init__.py).
"""

import os
from types import SimpleNamespace

import factory
import flask_migrate
import pytest
from flask.cli import FlaskGroup
from sqlalchemy import event, text

from app import create_app
from app.accounts.services import issue_tokens
from app.api.extensions import limiter
from app.api.products.schemas import ProductSchema
from app.catalog.products import create_product
from app.platform.db import db
from app.platform.models import BuiltinRole, Role, builtin_role_rows
from tests.databases import fresh_database
from tests.factories import DEFAULT_PASSWORD, ProductFactory, UserFactory, roles_named


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    with fresh_database(tmp_path_factory.mktemp("db"), "store_test") as url:
        yield url


@pytest.fixture(scope="session")
def store_files(tmp_path_factory) -> dict:
    """The queue file and mail folder of the apps on the session database: a temporary
    folder, never the project's instance/ (each PostgreSQL run has a new database name)."""
    folder = tmp_path_factory.mktemp("store")
    return {"QUEUE_SQLITE_PATH": str(folder / "queue.db"), "MAIL_FOLDER": str(folder / "mail")}


@pytest.fixture(scope="session")
def app(database_url, store_files):
    os.environ["APP_ENV"] = "testing"
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, **store_files})
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _isolate(app):
    """Each test starts from empty tables, no kept catalog answers, and rate limits off."""
    yield
    empty_tables(app)
    app.extensions["catalog_cache"].clear()
    # Flask-Limiter keeps one state per process, set by the last app made: hand it back.
    if limiter.enabled:
        limiter.init_app(app)


def empty_tables(app) -> None:
    """Delete every row; PostgreSQL ids restart at 1 (SQLite reuses them once tables are empty).

    DELETE rather than TRUNCATE: on tables this small TRUNCATE costs about 40 ms a test on
    PostgreSQL (new files for every table), DELETE a few; row triggers keep catalog_stats right.
    """
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            # A tree (categories.parent_id, ON DELETE RESTRICT) is cut loose first: SQLite
            # checks a RESTRICT row by row, parents may come before their children.
            for key in table.foreign_keys:
                if key.column.table is table:
                    db.session.execute(table.update().values({key.parent.name: None}))
            db.session.execute(table.delete())
        if db.engine.dialect.name == "postgresql":
            sequences = db.session.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
            ).scalars()
            for name in sequences:
                db.session.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))
        # The built-in roles are rows the schema comes with (models.Role).
        db.session.execute(Role.__table__.insert(), builtin_role_rows())
        db.session.commit()


@pytest.fixture(scope="session")
def fake_stripe():
    """localstripe on loopback for the session (tests/fake_stripe.py)."""
    from tests.fake_stripe import FakeStripe

    server = FakeStripe()
    yield server
    server.stop()


@pytest.fixture
def make_app(app):
    """Another app on the session database, with extra settings: make_app(**settings)."""
    made = []

    def make(**settings):
        inherited = {
            key: app.config[key]
            for key in ("SQLALCHEMY_DATABASE_URI", "QUEUE_SQLITE_PATH", "MAIL_FOLDER")
        }
        made.append(create_app(inherited | settings))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class Auth:
    """Users and their bearer headers, made directly in the database for speed."""

    password = DEFAULT_PASSWORD

    def __init__(self, app):
        self._app = app
        self._cache = {}

    def user(
        self, username: str | None = None, *, admin: bool = False, roles: tuple[str, ...] = ()
    ) -> SimpleNamespace:
        """A user holding `roles` (the customer role when none is named; `admin=True` is the
        admin role) and a login of his."""
        with self._app.app_context():
            names = roles or (BuiltinRole.ADMIN if admin else BuiltinRole.CUSTOMER,)
            kwargs = {"roles": roles_named(*names)}
            if username:
                kwargs["username"] = username
            user = UserFactory(**kwargs)
            tokens = issue_tokens(user)  # a login, as POST /api/auth/login makes one
            return SimpleNamespace(
                id=user.id,
                username=user.username,
                email=user.email,
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
                refresh_headers={"Authorization": f"Bearer {tokens['refresh_token']}"},
            )

    def _cached(self, role: str, admin: bool) -> SimpleNamespace:
        if role not in self._cache:
            self._cache[role] = self.user(role, admin=admin)
        return self._cache[role]

    @property
    def customer_user(self) -> SimpleNamespace:
        return self._cached("customer", admin=False)

    @property
    def admin_user(self) -> SimpleNamespace:
        return self._cached("admin", admin=True)

    @property
    def customer(self) -> dict:
        return self.customer_user.headers

    @property
    def admin(self) -> dict:
        return self.admin_user.headers


@pytest.fixture
def auth(app):
    return Auth(app)


@pytest.fixture
def make_product(app):
    """Create a product in the database; returns its JSON representation as a namespace."""

    def make(**kwargs) -> SimpleNamespace:
        # Through the service, so the stock ledger opens like it does for admin-made products.
        with app.app_context():
            product = create_product(factory.build(dict, FACTORY_CLASS=ProductFactory, **kwargs))
            return SimpleNamespace(**ProductSchema().dump(product))

    return make


@pytest.fixture
def query(app):
    """Run a function against the database inside an app context: query(lambda s: ...)."""

    def run(fn):
        with app.app_context():
            return fn(db.session)

    return run


@pytest.fixture
def statements(app):
    """Counts the SQL statements the app sends (transaction control aside) per request."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)

    def count(client, url, headers=None, *, method="get", status=200) -> int:
        seen.clear()
        response = client.open(url, method=method.upper(), headers=headers or {})
        assert response.status_code == status, response.get_data(as_text=True)
        return len(seen)

    yield count
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def cli(app, monkeypatch):
    """Run a command as `flask --app app <command>` would, on the test app.

    The `flask` entry point (FlaskGroup) pushes the app context that commands added to
    app.cli rely on, so the runner goes through a FlaskGroup rather than app.cli itself.
    """
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")  # FlaskGroup sets it; restored after
    runner = app.test_cli_runner()
    flask_command = FlaskGroup(add_default_commands=False, load_dotenv=False)

    def invoke(*args, **kwargs):
        return runner.invoke(flask_command, args=list(args), **kwargs)

    return invoke
