"""Token families: refresh rotation and reuse detection, logout of a whole login, password
change ending every login, and the claims every token carries."""

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token, decode_token

from app.platform.db import db
from app.platform.models import TokenFamily, User
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import assert_problem, bearer, signed_in

NEW_PASSWORD = "staple-battery-horse-correct"


def refresh(client, refresh_token):
    return client.post("/api/auth/refresh", headers=bearer(refresh_token))


def me(client, access_token):
    return client.get("/api/auth/me", headers=bearer(access_token))


def change_password(client, access_token, current=DEFAULT_PASSWORD, new=NEW_PASSWORD):
    return client.post(
        "/api/auth/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(access_token),
    )


@pytest.fixture
def bob(auth):
    return auth.user("bob")


# --- claims --------------------------------------------------------------------------------


def test_tokens_carry_a_string_sub_a_jti_and_their_login(app, client, bob):
    tokens = signed_in(client, "bob")
    with app.app_context():
        access, refresh_ = (decode_token(tokens[k]) for k in ("access_token", "refresh_token"))
    assert access["sub"] == refresh_["sub"] == str(bob.id)
    assert access["jti"] and refresh_["jti"] and access["jti"] != refresh_["jti"]
    assert access["fam"] == refresh_["fam"]
    assert (access["type"], refresh_["type"]) == ("access", "refresh")


def test_a_validly_signed_token_outside_any_login_is_401(app, client, bob):
    with app.app_context():
        token = create_access_token(identity=db.session.get(User, bob.id))
    body = assert_problem(me(client, token), 401)
    assert body["detail"] == "The token has been revoked."


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("alg", ["none", "HS384"])
def test_tokens_signed_otherwise_are_401(app, client, bob, alg):
    claims = decode_token_unverified(bob.headers["Authorization"].removeprefix("Bearer "))
    key = None if alg == "none" else app.config["JWT_SECRET_KEY"]
    forged = pyjwt.encode(claims, key, algorithm=alg)
    assert_problem(me(client, forged), 401)


def decode_token_unverified(token):
    return pyjwt.decode(token, options={"verify_signature": False})


# --- refresh rotation ------------------------------------------------------------------------


def test_refresh_rotates_the_refresh_token(app, client, bob):
    first = signed_in(client, "bob")
    second = refresh(client, first["refresh_token"]).get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert me(client, second["access_token"]).status_code == 200
    third = refresh(client, second["refresh_token"])
    assert third.status_code == 200


def test_reusing_a_spent_refresh_token_revokes_the_whole_login(app, client, bob):
    first = signed_in(client, "bob")
    second = refresh(client, first["refresh_token"]).get_json()

    body = assert_problem(refresh(client, first["refresh_token"]), 401)

    assert "already used" in body["detail"]
    # Whoever held the copy and whoever refreshed first are both signed out.
    for token in (second["access_token"], first["access_token"]):
        assert_problem(me(client, token), 401)
    assert_problem(refresh(client, second["refresh_token"]), 401)


def test_reuse_revokes_only_that_login(client, bob):
    victim, other = signed_in(client, "bob"), signed_in(client, "bob")
    refresh(client, victim["refresh_token"])
    assert_problem(refresh(client, victim["refresh_token"]), 401)
    assert me(client, other["access_token"]).status_code == 200
    assert refresh(client, other["refresh_token"]).status_code == 200


def test_refresh_of_a_deleted_user_is_401(client, bob, query):
    tokens = signed_in(client, "bob")

    def delete(session):
        session.delete(session.get(User, bob.id))
        session.commit()

    query(delete)
    assert_problem(refresh(client, tokens["refresh_token"]), 401)


# --- logout ----------------------------------------------------------------------------------


@pytest.mark.parametrize("presented", ["access_token", "refresh_token"])
def test_logout_ends_the_login_access_and_refresh_alike(client, bob, presented):
    tokens = signed_in(client, "bob")
    assert client.post("/api/auth/logout", headers=bearer(tokens[presented])).status_code == 204
    assert_problem(me(client, tokens["access_token"]), 401)
    assert_problem(refresh(client, tokens["refresh_token"]), 401)


def test_logout_keeps_the_users_other_logins(client, bob):
    phone, laptop = signed_in(client, "bob"), signed_in(client, "bob")
    assert client.post("/api/auth/logout", headers=bearer(phone["access_token"])).status_code == 204
    assert me(client, laptop["access_token"]).status_code == 200


def test_revocation_survives_a_restart(app, client, bob):
    """Stored in the database, not in the process: a new app instance refuses it too."""
    tokens = signed_in(client, "bob")
    client.post("/api/auth/logout", headers=bearer(tokens["access_token"]))
    with app.app_context():
        family = db.session.get(TokenFamily, decode_token_unverified(tokens["access_token"])["fam"])
        assert family.revoked_at is not None


# --- password change ---------------------------------------------------------------------------


def test_password_change_returns_a_new_login_and_ends_every_other(client, bob):
    current, elsewhere = signed_in(client, "bob"), signed_in(client, "bob")

    response = change_password(client, current["access_token"])

    assert response.status_code == 200, response.get_json()
    fresh = response.get_json()
    assert me(client, fresh["access_token"]).status_code == 200
    assert refresh(client, fresh["refresh_token"]).status_code == 200
    for tokens in (current, elsewhere):
        assert_problem(me(client, tokens["access_token"]), 401)
        assert_problem(refresh(client, tokens["refresh_token"]), 401)


def test_password_change_replaces_the_password(client, bob):
    assert change_password(client, signed_in(client, "bob")["access_token"]).status_code == 200
    assert_problem(
        client.post("/api/auth/login", json={"username": "bob", "password": DEFAULT_PASSWORD}),
        401,
    )
    assert signed_in(client, "bob", NEW_PASSWORD)["access_token"]


class Crash(Exception):
    """Stands for a worker dying in the middle of the password change."""


def _fail_before(original):
    def failing(*args, **kwargs):
        raise Crash

    return failing


def _fail_after(original):
    def failing(*args, **kwargs):
        original(*args, **kwargs)
        raise Crash

    return failing


@pytest.mark.parametrize(
    ("step", "fail"),
    [
        ("_revoke", _fail_before),  # the new hash set, no login ended yet
        ("_revoke", _fail_after),  # the new hash set, every login ended
        ("issue_tokens", _fail_before),  # all of it but the new login
    ],
    ids=["before-revoking", "after-revoking", "before-the-new-login"],
)
def test_a_password_change_failing_midway_changes_nothing(client, bob, monkeypatch, step, fail):
    """One transaction: either the old password with every old login, or (not here) the new
    password with every old login ended; never the new password beside an old login."""
    import app.accounts.services as services

    tokens = signed_in(client, "bob")
    monkeypatch.setattr(services, step, fail(getattr(services, step)))

    assert_problem(change_password(client, tokens["access_token"]), 500)

    monkeypatch.undo()
    assert me(client, tokens["access_token"]).status_code == 200
    assert refresh(client, tokens["refresh_token"]).status_code == 200
    assert signed_in(client, "bob")["access_token"]  # the old password
    assert_problem(
        client.post("/api/auth/login", json={"username": "bob", "password": NEW_PASSWORD}), 401
    )


@pytest.mark.parametrize(
    ("current", "new", "field"),
    [
        ("wrong-password", NEW_PASSWORD, "current_password"),
        (DEFAULT_PASSWORD, DEFAULT_PASSWORD, "new_password"),
        (DEFAULT_PASSWORD, "password1", "new_password"),
        (DEFAULT_PASSWORD, "bob@example.com", "new_password"),
        (DEFAULT_PASSWORD, "short", "new_password"),
        (DEFAULT_PASSWORD, "x" * 129, "new_password"),
    ],
    ids=["wrong-current", "unchanged", "common", "email", "short", "long"],
)
def test_refused_password_change_changes_nothing(client, bob, current, new, field):
    tokens = signed_in(client, "bob")
    assert_problem(change_password(client, tokens["access_token"], current, new), 422, field)
    assert me(client, tokens["access_token"]).status_code == 200
    assert signed_in(client, "bob")["access_token"]  # the old password still works


def test_password_change_needs_an_access_token(client, bob):
    tokens = signed_in(client, "bob")
    assert_problem(change_password(client, tokens["refresh_token"]), 401)
    assert_problem(
        client.post(
            "/api/auth/password",
            json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        ),
        401,
    )
