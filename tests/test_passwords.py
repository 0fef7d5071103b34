"""Password storage and policy: memory-hard hashes, upgrades on login, no common passwords,
and a login that takes the same work whether or not the account exists."""

import pytest
from sqlalchemy import select

from app.accounts import passwords
from app.accounts.passwords import COMMON_PASSWORDS, hash_password
from app.platform.models import User
from tests.helpers import assert_problem, count_rows, login

STRONG = "k9!vR2pw-long-enough"


def register(client, **overrides):
    payload = {"username": "alice", "email": "alice@example.com", "password": STRONG}
    return client.post("/api/auth/register", json={**payload, **overrides})


def stored_hash(query, username):
    return query(lambda s: s.scalar(select(User.password_hash).where(User.username == username)))


# --- policy --------------------------------------------------------------------------------


def test_the_shipped_list_holds_the_10000_most_common_passwords():
    assert len(COMMON_PASSWORDS) == 10_000
    assert {"123456", "password", "qwerty", "iloveyou", "sunshine"} <= COMMON_PASSWORDS


@pytest.mark.parametrize(
    "password",
    ["password1", "iloveyou", "qwertyuiop", "sunshine", "Sunshine", "IloveYou"],
    ids=str,
)
def test_common_password_is_422_and_creates_nothing(client, query, password):
    body = assert_problem(register(client, password=password), 422, "password")
    assert "most common passwords" in body["errors"]["password"][0]
    assert count_rows(query, User) == 0


@pytest.mark.parametrize(
    "password", ["alice-in-wonder", "ALICE@EXAMPLE.COM", "alice@example.com"], ids=str
)
def test_password_equal_to_username_or_email_is_422(client, query, password):
    response = register(client, username="alice-in-wonder", password=password)
    body = assert_problem(response, 422, "password")
    assert body["errors"]["password"] == ["Must not be your username or email."]
    assert count_rows(query, User) == 0


@pytest.mark.parametrize(("length", "status"), [(7, 422), (8, 201), (128, 201), (129, 422)])
def test_password_length_bounds(client, length, status):
    password = ("Zq7!" * 40)[:length]
    assert register(client, password=password).status_code == status


def test_create_admin_refuses_a_common_password(app, query):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-admin",
            "--username",
            "root",
            "--email",
            "r@example.com",
            "--password",
            "password1",
        ]
    )
    assert result.exit_code != 0
    assert "most common passwords" in result.output
    assert count_rows(query, User) == 0


# --- hashing -------------------------------------------------------------------------------


def test_production_hashes_with_scrypt(app, monkeypatch, client, query):
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "scrypt")
    assert register(client).status_code == 201
    assert stored_hash(query, "alice").startswith("scrypt:32768:8:1$")


def test_login_upgrades_a_hash_made_with_old_parameters(app, auth, client, query, monkeypatch):
    auth.user("bob")  # hashed with pbkdf2:sha256:1000 by the factory
    old = stored_hash(query, "bob")
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "pbkdf2:sha256:2000")

    assert login(client, "bob").status_code == 200

    upgraded = stored_hash(query, "bob")
    assert upgraded != old and upgraded.startswith("pbkdf2:sha256:2000$")
    assert login(client, "bob").status_code == 200  # the new hash checks out


def test_login_keeps_a_current_hash(app, auth, client, query, monkeypatch):
    auth.user("bob")
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
    before = stored_hash(query, "bob")
    assert login(client, "bob").status_code == 200
    assert stored_hash(query, "bob") == before


def test_failed_login_never_upgrades(app, auth, client, query, monkeypatch):
    auth.user("bob")
    before = stored_hash(query, "bob")
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "pbkdf2:sha256:2000")
    assert_problem(login(client, "bob", "wrong-password"), 401)
    assert stored_hash(query, "bob") == before


# --- login does not reveal whether the account exists ---------------------------------------


@pytest.fixture
def hash_checks(monkeypatch):
    """Every password hash verification login performs, by hash method."""
    seen = []
    real = passwords.check_password_hash

    def spy(password_hash, password):
        seen.append(password_hash.split("$", 1)[0])
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "check_password_hash", spy)
    return seen


def test_unknown_user_costs_one_hash_check_like_a_wrong_password(app, auth, client, hash_checks):
    auth.user("bob")
    wrong_password = assert_problem(login(client, "bob", "wrong-password"), 401)
    unknown_user = assert_problem(login(client, "nobody"), 401)

    assert wrong_password == unknown_user
    with app.app_context():
        method = hash_password("x").split("$", 1)[0]
    # One verification each, with the same method and parameters: the same work either way.
    assert hash_checks == [method, method]
