"""Account names compare in one canonical form (app.accounts.identity), and the migration brings
rows stored before it to that form without breaking uniqueness (issue 12)."""

import flask_migrate
import pytest
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from app import create_app
from app.accounts.identity import InvalidIdentity, login_key, normalize_email
from app.platform.db import db
from tests.databases import fresh_database
from tests.factories import DEFAULT_PASSWORD

BEFORE = "d7a3c9e4b512"
PASSWORD_HASH = generate_password_hash(DEFAULT_PASSWORD, method="pbkdf2:sha256:1000")


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Alice@Example.COM", "alice@example.com"),
        ("\uff41lice@\uff45xample.com", "alice@example.com"),  # fullwidth
        ("alice@B\u00fccher.de", "alice@xn--bcher-kva.de"),
        ("alice@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444", "alice@xn--e1afmkfd.xn--p1ai"),
        ("  alice@example.com ", "alice@example.com"),
    ],
)
def test_canonical_email(typed, canonical):
    assert normalize_email(typed) == canonical


@pytest.mark.parametrize(
    "typed",
    [
        "\u0430lice@example.com",  # Cyrillic a
        "bob@ex\u0430mple.com",  # Latin and Cyrillic in one label
        "bob@\udbe2.com",
        "no-at-sign",
        "@example.com",
        "bob@",
    ],
)
def test_look_alike_or_broken_emails_are_refused(typed):
    with pytest.raises(InvalidIdentity):
        normalize_email(typed)


def test_login_key_folds_usernames_and_canonicalises_addresses():
    assert login_key("\uff22\uff4f\uff42") == "bob"
    assert login_key("BOB@\uff25xample.com") == "bob@example.com"
    assert login_key("\u0430lice@example.com") == "\u0430lice@example.com"  # finds nobody


# --- the data migration -------------------------------------------------------------------------

LEGACY_USERS = [
    # id, username, email as stored before the migration
    (1, "carol", "\uff23AROL@example.com"),  # becomes carol@example.com
    (2, "dave", "dave@example.com"),
    (3, "dave2", "\uff44ave@example.com"),  # its canonical form is dave's: left as it is
    (4, "eve", "\u0430lice@example.com"),  # no canonical form: kept, owner keeps the account
    (5, "\uff46rank", "frank@b\u00fccher.de"),  # username NFKC, domain as A-label
]


@pytest.fixture
def migrated(app, tmp_path):
    """A fresh database with legacy users, migrated to head; yields its app."""
    with fresh_database(tmp_path, "store_names") as url:
        other = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with other.app_context():
            flask_migrate.upgrade(revision=BEFORE)
            with db.engine.begin() as conn:
                for user_id, username, email in LEGACY_USERS:
                    conn.execute(
                        text(
                            "INSERT INTO users (id, username, email, password_hash, is_admin, "
                            "created_at) VALUES (:id, :name, :email, :hash, FALSE, "
                            "CURRENT_TIMESTAMP)"
                        ),
                        {"id": user_id, "name": username, "email": email, "hash": PASSWORD_HASH},
                    )
            flask_migrate.upgrade()
        yield other
        with other.app_context():
            db.engine.dispose()


def rows(app) -> dict:
    with app.app_context():
        result = db.session.execute(text("SELECT id, username, email FROM users ORDER BY id"))
        return {user_id: (username, email) for user_id, username, email in result}


def test_migration_stores_canonical_names_and_keeps_uniqueness(migrated):
    assert rows(migrated) == {
        1: ("carol", "carol@example.com"),
        2: ("dave", "dave@example.com"),
        3: ("dave2", "\uff44ave@example.com"),
        4: ("eve", "\u0430lice@example.com"),
        5: ("frank", "frank@xn--bcher-kva.de"),
    }


def test_migrated_accounts_log_in_by_any_form_of_their_name(migrated):
    client = migrated.test_client()

    def login(name):
        body = {"username": name, "password": DEFAULT_PASSWORD}
        return client.post("/api/auth/login", json=body).status_code

    assert login("\uff43arol@EXAMPLE.com") == 200
    assert login("frank@B\u00fccher.de") == 200
    assert login("\uff26RANK") == 200
    assert login("eve") == 200  # the grandfathered address still has its username


def test_migration_downgrades(migrated):
    with migrated.app_context():
        flask_migrate.downgrade(revision=BEFORE)
    assert rows(migrated)[1] == ("carol", "carol@example.com")
