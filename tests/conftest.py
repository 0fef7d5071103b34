"""Fixtures: app -> database -> client, plus `auth` (tokens) and `make_product`.

TEST_DATABASE=sqlite (default) runs on a fresh SQLite file; TEST_DATABASE=postgresql creates a
fresh database on TEST_POSTGRES_URL's server and drops it afterwards. The schema is built by
the committed migrations, so every run also tests them.
"""

import os
import uuid
from types import SimpleNamespace

import factory
import flask_migrate
import pytest
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.products.schemas import ProductSchema
from app.products.services import create_product
from tests.factories import DEFAULT_PASSWORD, ProductFactory, UserFactory

TEST_DATABASE = os.environ.get("TEST_DATABASE", "sqlite").lower()
TEST_POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _render(url) -> str:
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if TEST_DATABASE == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    if TEST_DATABASE != "postgresql":
        raise pytest.UsageError(f"TEST_DATABASE must be sqlite or postgresql, not {TEST_DATABASE}")
    server = make_url(TEST_POSTGRES_URL)
    name = f"store_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_render(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield _render(server.set(database=name))
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def app(database_url):
    os.environ["APP_ENV"] = "testing"
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _isolate(app):
    """Each test starts from empty tables."""
    yield
    with app.app_context():
        tables = db.metadata.sorted_tables
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(table.name for table in tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                db.session.execute(table.delete())
        db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


class Auth:
    """Users and their bearer headers, made directly in the database for speed."""

    password = DEFAULT_PASSWORD

    def __init__(self, app):
        self._app = app
        self._cache = {}

    def user(self, username: str | None = None, *, admin: bool = False) -> SimpleNamespace:
        with self._app.app_context():
            kwargs = {"is_admin": admin}
            if username:
                kwargs["username"] = username
            user = UserFactory(**kwargs)
            return SimpleNamespace(
                id=user.id,
                username=user.username,
                email=user.email,
                headers={"Authorization": f"Bearer {create_access_token(identity=user)}"},
                refresh_headers={"Authorization": f"Bearer {create_refresh_token(identity=user)}"},
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
