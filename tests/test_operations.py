"""Operations: health probes, OpenAPI document, CLI, seeding, configuration, migrations."""

from datetime import timedelta

import flask
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import scoped_session

import config
import seed_data
from app import create_app
from app.platform.db import db, include_object, utcnow
from app.platform.models import GuestCart, IdempotencyKey, PasswordReset, Product, TokenFamily, User
from tests.helpers import assert_problem, count_rows, login

STRONG_SECRET = "s" * 40
STRONG_JWT_SECRET = "j" * 40


def create_product(client, token):
    return client.post(
        "/api/products",
        json={"name": "Coffee mug", "price": "12.50"},
        headers={"Authorization": f"Bearer {token}"},
    )


# --- health --------------------------------------------------------------------------------


def test_healthz_is_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ok_when_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "worker": {"last_seen_seconds": None}}


@pytest.fixture
def database_down(monkeypatch):
    def fail(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(scoped_session, "execute", fail)


def test_readyz_is_503_problem_when_database_fails(client, database_down):
    response = client.get("/readyz")
    body = assert_problem(response, 503)
    assert body["title"] == "Service Unavailable"
    assert "connection refused" not in response.get_data(as_text=True)


def test_healthz_does_not_need_the_database(client, database_down):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


# --- trailing slash ------------------------------------------------------------------------


def test_trailing_slash_is_served_without_redirect(client):
    response = client.post(
        "/api/auth/register/",
        json={"username": "alice", "email": "alice@example.com", "password": "long-enough"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["username"] == "alice"


def test_trailing_slash_on_get_is_not_redirected(client):
    response = client.get("/api/products/")
    assert response.status_code == 200
    assert "Location" not in response.headers


# --- CLI -----------------------------------------------------------------------------------


def test_create_admin_is_registered_on_app_cli(app):
    assert "create-admin" in app.cli.list_commands(None)


def find_user(query, username):
    return query(lambda s: s.scalars(select(User).where(User.username == username)).first())


def test_create_admin_creates_an_admin(cli, query):
    result = cli(
        "create-admin", "--username", "root", "--email", "root@example.com",
        "--password", "root-password",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "root" in result.output
    user = find_user(query, "root")
    assert user is not None
    assert user.is_admin is True
    assert user.email == "root@example.com"


def test_created_admin_can_log_in_and_create_products(cli, client):
    result = cli(
        "create-admin", "--username", "root", "--email", "root@example.com",
        "--password", "root-password",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    response = login(client, "root", "root-password")
    assert response.status_code == 200
    created = create_product(client, response.get_json()["access_token"])
    assert created.status_code == 201, created.get_json()


def test_create_admin_promotes_an_existing_customer(cli, auth, query):
    customer = auth.user("bob")
    result = cli(
        "create-admin", "--username", "bob", "--email", customer.email,
        "--password", "new-password",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Updated admin 'bob' (id {customer.id})." in result.output
    user = find_user(query, "bob")
    assert user.id == customer.id
    assert user.is_admin is True
    assert count_rows(query, User) == 1


def test_promoted_customer_token_now_passes_admin_guard(cli, auth, client):
    customer = auth.user("bob")
    token = customer.headers["Authorization"].removeprefix("Bearer ")
    assert create_product(client, token).status_code == 403
    result = cli(
        "create-admin", "--username", "bob", "--email", customer.email,
        "--password", "new-password",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert create_product(client, token).status_code == 201


def test_create_admin_prompts_for_password(cli, client, query):
    result = cli(
        "create-admin", "--username", "root", "--email", "root@example.com",
        input="pw12345678\npw12345678\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Password" in result.output
    assert "pw12345678" not in result.output
    assert find_user(query, "root").is_admin is True
    assert login(client, "root", "pw12345678").status_code == 200


def test_create_admin_prompt_rejects_mismatched_confirmation(cli, query):
    result = cli(
        "create-admin", "--username", "root", "--email", "root@example.com",
        input="pw12345678\nsomething-else\n",
    )  # fmt: skip
    assert result.exit_code != 0
    assert find_user(query, "root") is None


def test_create_admin_rejects_short_password(cli, query):
    result = cli(
        "create-admin", "--username", "root", "--email", "root@example.com",
        "--password", "short",
    )  # fmt: skip
    assert result.exit_code != 0
    assert "password" in result.output.lower()
    assert find_user(query, "root") is None
    assert count_rows(query, User) == 0


@pytest.mark.parametrize("missing", ["--username", "--email"])
def test_create_admin_requires_username_and_email(cli, query, missing):
    args = {"--username": "root", "--email": "root@example.com", "--password": "root-password"}
    del args[missing]
    result = cli("create-admin", *[part for pair in args.items() for part in pair])
    assert result.exit_code != 0
    assert count_rows(query, User) == 0


# --- seed ----------------------------------------------------------------------------------


def test_seed_creates_demo_products_and_admin(app, query):
    with app.app_context():
        created, admin_created = seed_data.seed("admin", "admin@example.com", "admin-password")
    assert created == seed_data.DEFAULT_PRODUCTS
    assert admin_created is True
    assert count_rows(query, Product) == seed_data.DEFAULT_PRODUCTS
    admin = find_user(query, "admin")
    assert admin.is_admin is True


def test_seed_is_idempotent(app, query):
    with app.app_context():
        seed_data.seed("admin", "admin@example.com", "admin-password")
        created, admin_created = seed_data.seed("admin", "admin@example.com", "admin-password")
    assert created == 0
    assert admin_created is False
    assert count_rows(query, Product) == seed_data.DEFAULT_PRODUCTS
    assert count_rows(query, User) == 1
    names = query(lambda s: s.scalars(select(Product.name)).all())
    assert sorted(names) == sorted(product["name"] for product in seed_data.catalog())


def test_seeded_admin_can_log_in(app, client):
    with app.app_context():
        seed_data.seed("admin", "admin@example.com", "admin-password")
    response = login(client, "admin", "admin-password")
    assert response.status_code == 200
    assert create_product(client, response.get_json()["access_token"]).status_code == 201


def test_seeded_products_are_listed(app, client):
    with app.app_context():
        seed_data.seed("admin", "admin@example.com", "admin-password")
    response = client.get("/api/products?per_page=100")
    assert response.status_code == 200
    # Inactive products are hidden from the public list.
    active = sum(product["is_active"] for product in seed_data.catalog())
    assert response.get_json()["total"] == active


# --- config --------------------------------------------------------------------------------


@pytest.fixture
def clean_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    return monkeypatch


def test_production_refuses_missing_secrets(clean_secrets):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.get_config("production")


def test_production_refuses_missing_jwt_secret(clean_secrets):
    clean_secrets.setenv("SECRET_KEY", STRONG_SECRET)
    with pytest.raises(RuntimeError, match="JWT_SECRET_KEY"):
        config.get_config("production")


def test_production_refuses_development_secrets(clean_secrets):
    clean_secrets.setenv("SECRET_KEY", config.DEV_SECRET_KEY)
    clean_secrets.setenv("JWT_SECRET_KEY", config.DEV_JWT_SECRET_KEY)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.get_config("production")


@pytest.mark.parametrize("weak", ["SECRET_KEY", "JWT_SECRET_KEY"])
def test_production_refuses_31_character_secrets(clean_secrets, weak):
    clean_secrets.setenv("SECRET_KEY", STRONG_SECRET)
    clean_secrets.setenv("JWT_SECRET_KEY", STRONG_JWT_SECRET)
    clean_secrets.setenv(weak, "w" * 31)
    with pytest.raises(RuntimeError, match=weak):
        config.get_config("production")


def test_production_accepts_strong_secrets(clean_secrets):
    clean_secrets.setenv("SECRET_KEY", STRONG_SECRET)
    clean_secrets.setenv("JWT_SECRET_KEY", STRONG_JWT_SECRET)
    settings = config.get_config("production")
    assert settings.SECRET_KEY == STRONG_SECRET
    assert settings.JWT_SECRET_KEY == STRONG_JWT_SECRET
    assert settings.DEBUG is False
    assert settings.TESTING is False


def test_production_is_selected_by_app_env(clean_secrets):
    clean_secrets.setenv("APP_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config.get_config()


def test_unknown_config_name_raises():
    with pytest.raises(RuntimeError, match="staging"):
        config.get_config("staging")


def test_unknown_app_env_raises(monkeypatch):
    monkeypatch.setenv("APP_ENV", "staging")
    with pytest.raises(RuntimeError, match="staging"):
        config.get_config()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///store.db", "sqlite:///store.db"),
    ],
)
def test_normalize_database_url(url, expected):
    assert config.normalize_database_url(url) == expected


def test_database_url_environment_variable_is_normalized(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert config.get_config("testing").SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@h/db"


def test_access_token_lifetime_defaults_to_15_minutes(monkeypatch):
    monkeypatch.delenv("JWT_ACCESS_TOKEN_EXPIRES_SECONDS", raising=False)
    assert config.get_config("testing").JWT_ACCESS_TOKEN_EXPIRES.total_seconds() == 900


def test_default_database_is_sqlite_file_in_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    instance = tmp_path / "instance"
    # Keep the instance folder out of the source tree.
    monkeypatch.setattr(flask.Flask, "auto_find_instance_path", lambda self: str(instance))
    default_app = create_app()
    uri = default_app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///")
    assert uri.endswith("store.db")
    assert uri == f"sqlite:///{instance / 'store.db'}"
    assert default_app.instance_path == str(instance)


def test_test_app_uses_testing_config(app):
    assert app.config["TESTING"] is True
    assert app.config["ENV_NAME"] == "testing"


# --- migrations ----------------------------------------------------------------------------


@pytest.mark.filterwarnings(
    # SQLite cannot reflect the lower(username) index; the test below checks it directly.
    "ignore:Skipped unsupported reflection of expression-based index:sqlalchemy.exc.SAWarning",
    "ignore:autogenerate skipping metadata-specified expression-based index:UserWarning",
)
def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        options = {"compare_type": True, "include_object": include_object}
        context = MigrationContext.configure(connection, opts=options)
        assert compare_metadata(context, db.metadata) == []


def test_migrated_schema_enforces_case_insensitive_usernames(app):
    with app.app_context():
        db.session.add(User(username="Alice", email="a1@example.com", password_hash="x"))
        db.session.commit()
        db.session.add(User(username="alice", email="a2@example.com", password_hash="x"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_migrated_schema_enforces_unique_emails(app):
    with app.app_context():
        db.session.add(User(username="a1", email="same@example.com", password_hash="x"))
        db.session.commit()
        db.session.add(User(username="a2", email="same@example.com", password_hash="x"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_migrations_are_at_head(app):
    from alembic.script import ScriptDirectory

    with app.app_context():
        config_ = app.extensions["migrate"].migrate.get_config()
        heads = set(ScriptDirectory.from_config(config_).get_heads())
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    assert heads
    assert current == heads


def test_prune_expired_deletes_only_what_expired(cli, query, auth):
    """The same housekeeping as the worker's (app.platform.housekeeping): keys, logins, guest carts
    and reset links."""
    user_id = auth.customer_user.id
    now = utcnow()

    def add_rows(session):
        for key, expires_at in (
            ("old", now - timedelta(seconds=1)),
            ("new", now + timedelta(hours=1)),
        ):
            session.add(
                IdempotencyKey(
                    user_id=user_id, key=key, fingerprint="f" * 64, expires_at=expires_at
                )
            )
            session.add(
                TokenFamily(id=key, user_id=user_id, refresh_jti=key, expires_at=expires_at)
            )
            session.add(GuestCart(token_hash=key * 16, expires_at=expires_at))
            session.add(PasswordReset(user_id=user_id, token_hash=key * 20, expires_at=expires_at))
        session.commit()

    query(add_rows)
    result = cli("prune-expired")
    assert result.exit_code == 0, result.output
    assert (
        "Deleted 1 expired idempotency key(s), 1 expired login(s), 1 expired guest cart(s) "
        "and 1 expired password reset link(s)." in result.output
    )
    assert query(lambda s: s.scalars(select(GuestCart.expires_at)).all())[0] > now
    assert query(lambda s: len(s.scalars(select(PasswordReset)).all())) == 1
    assert query(lambda s: s.scalars(select(IdempotencyKey.key)).all()) == ["new"]
    # The customer's own login (from the auth fixture) lives on, with the new row.
    assert "new" in query(lambda s: s.scalars(select(TokenFamily.id)).all())
    assert "old" not in query(lambda s: s.scalars(select(TokenFamily.id)).all())
