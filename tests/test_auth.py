"""Accounts and tokens: register, login, refresh, me, logout, and the admin guard."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token, decode_token
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from app.platform.db import db
from app.platform.models import BuiltinRole, TokenFamily, User
from tests.factories import DEFAULT_PASSWORD, roles_named
from tests.helpers import assert_problem, bearer, login

USER_FIELDS = {
    "id",
    "username",
    "email",
    "is_admin",
    "active",
    "roles",
    "permissions",
    "created_at",
}
TOKEN_PAIR_FIELDS = {"access_token", "refresh_token", "token_type", "expires_in"}
PASSWORD = "s3cret-enough"


def registration(**overrides):
    payload = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    payload.update(overrides)
    return payload


def register(client, **overrides):
    return client.post("/api/auth/register", json=registration(**overrides))


def user_count(query):
    return query(lambda s: s.scalar(select(func.count()).select_from(User)))


def set_admin(query, user_id, is_admin):
    """Give or take the admin role, behind the API's back (as another worker would)."""
    role = BuiltinRole.ADMIN if is_admin else BuiltinRole.CUSTOMER

    def update(session):
        session.get(User, user_id).roles = roles_named(role)
        session.commit()

    query(update)


def jti_of(app, token):
    with app.app_context():
        return decode_token(token, allow_expired=True)["jti"]


# --- register ------------------------------------------------------------------------------


def test_register_creates_customer(client, query):
    response = register(client)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == USER_FIELDS
    assert isinstance(body["id"], int)
    assert body["username"] == "alice"
    assert body["email"] == "alice@example.com"
    assert body["is_admin"] is False
    assert (body["roles"], body["permissions"], body["active"]) == (["customer"], [], True)
    created_at = datetime.fromisoformat(body["created_at"])
    assert created_at.utcoffset() == timedelta(0)
    stored = query(lambda s: s.get(User, body["id"]))
    assert stored.username == "alice"
    assert stored.is_admin is False


def test_register_never_returns_the_password_or_its_hash(client, query):
    response = register(client)
    assert response.status_code == 201
    text = response.get_data(as_text=True)
    assert PASSWORD not in text
    assert "password" not in text
    stored_hash = query(lambda s: s.get(User, response.get_json()["id"]).password_hash)
    assert stored_hash not in text


def test_register_stores_a_password_hash_not_the_password(client, query):
    user_id = register(client).get_json()["id"]
    stored_hash = query(lambda s: s.get(User, user_id).password_hash)
    assert stored_hash != PASSWORD
    assert check_password_hash(stored_hash, PASSWORD)


@pytest.mark.parametrize(
    "username",
    ["abc", "a" * 80, "Alice_1.b-c", "007"],
    ids=["3-chars", "80-chars", "all-allowed-symbols", "digits"],
)
def test_register_accepts_valid_usernames(client, username):
    response = register(client, username=username)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["username"] == username


@pytest.mark.parametrize(
    "username",
    ["ab", "a" * 81, "al ice", "al@ice", "", "alice!", "al/ice", 123, None],
    ids=["too-short", "too-long", "space", "at-sign", "empty", "bang", "slash", "int", "null"],
)
def test_register_rejects_invalid_username(client, query, username):
    body = assert_problem(register(client, username=username), 422, "username")
    assert set(body["errors"]) == {"username"}
    assert user_count(query) == 0


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "alice@", "@example.com", "alice example@example.com", "", 42],
    ids=["no-at", "no-domain", "no-local-part", "space", "empty", "int"],
)
def test_register_rejects_invalid_email(client, query, email):
    body = assert_problem(register(client, email=email), 422, "email")
    assert set(body["errors"]) == {"email"}
    assert user_count(query) == 0


@pytest.mark.parametrize("password", ["", "short", "1234567"], ids=["empty", "5-chars", "7-chars"])
def test_register_rejects_short_password(client, query, password):
    body = assert_problem(register(client, password=password), 422, "password")
    assert set(body["errors"]) == {"password"}
    assert user_count(query) == 0


def test_register_accepts_eight_character_password(client):
    response = register(client, password="k9!vR2pw")  # 8 characters, not a common one
    assert response.status_code == 201
    assert login(client, "alice", "k9!vR2pw").status_code == 200


def test_register_missing_fields_lists_each(client, query):
    response = client.post("/api/auth/register", json={})
    body = assert_problem(response, 422, "username", "email", "password")
    assert set(body["errors"]) == {"username", "email", "password"}
    assert user_count(query) == 0


def test_register_cannot_make_itself_admin(client, query):
    response = register(client, is_admin=True)
    body = assert_problem(response, 422, "is_admin")
    assert "is_admin" in body["detail"]
    assert user_count(query) == 0


@pytest.mark.parametrize("existing", ["alice", "Alice", "ALICE"])
def test_register_duplicate_username_case_insensitive_is_409(client, query, existing):
    assert register(client, username=existing).status_code == 201
    response = register(client, username="alice", email="other@example.com")
    body = assert_problem(response, 409)
    assert "username" in body["detail"].lower()
    assert user_count(query) == 1


def test_register_duplicate_email_case_insensitive_is_409(client, query):
    assert register(client, email="alice@example.com").status_code == 201
    response = register(client, username="alice2", email="ALICE@Example.COM")
    body = assert_problem(response, 409)
    assert "email" in body["detail"].lower()
    assert user_count(query) == 1


# --- login ---------------------------------------------------------------------------------


def test_login_returns_a_token_pair(client, auth, app):
    user = auth.user("bob")
    response = login(client, "bob")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == TOKEN_PAIR_FIELDS
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    with app.app_context():
        access = decode_token(body["access_token"])
        refresh = decode_token(body["refresh_token"])
    assert access["type"] == "access"
    assert refresh["type"] == "refresh"
    assert access["sub"] == refresh["sub"] == str(user.id)
    assert access["exp"] - access["iat"] == 900


def test_login_access_token_works_on_me(client, auth):
    user = auth.user("bob")
    token = login(client, "bob").get_json()["access_token"]
    response = client.get("/api/auth/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["id"] == user.id


@pytest.mark.parametrize(
    "identifier",
    ["bob", "BOB", "Bob", "bob@example.com", "BOB@EXAMPLE.COM", "Bob@Example.com"],
)
def test_login_with_username_or_email_in_any_case(client, auth, identifier):
    user = auth.user("bob")
    response = login(client, identifier)
    assert response.status_code == 200, response.get_json()
    token = response.get_json()["access_token"]
    assert client.get("/api/auth/me", headers=bearer(token)).get_json()["id"] == user.id


def test_login_wrong_password_is_401(client, auth):
    auth.user("bob")
    response = login(client, "bob", "wrong-password")
    assert_problem(response, 401)
    assert "access_token" not in response.get_data(as_text=True)


def test_login_unknown_user_is_401(client):
    assert_problem(login(client, "nobody"), 401)


def test_login_wrong_password_and_unknown_user_give_the_same_detail(client, auth):
    auth.user("bob")
    wrong_password = assert_problem(login(client, "bob", "wrong-password"), 401)
    unknown_user = assert_problem(login(client, "nobody"), 401)
    assert wrong_password == unknown_user


def test_login_password_is_case_sensitive(client, auth):
    auth.user("bob")
    assert_problem(login(client, "bob", DEFAULT_PASSWORD.upper()), 401)


def test_login_missing_fields_lists_each(client):
    body = assert_problem(client.post("/api/auth/login", json={}), 422, "username", "password")
    assert set(body["errors"]) == {"username", "password"}


def test_expires_in_follows_configuration(client, auth, app, monkeypatch):
    auth.user("bob")
    monkeypatch.setitem(app.config, "JWT_ACCESS_TOKEN_EXPIRES", timedelta(minutes=5))
    assert login(client, "bob").get_json()["expires_in"] == 300


# --- refresh -------------------------------------------------------------------------------


def test_refresh_returns_a_new_token_pair(client, auth, app):
    user = auth.user("bob")
    response = client.post("/api/auth/refresh", headers=user.refresh_headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == TOKEN_PAIR_FIELDS
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    with app.app_context():
        assert decode_token(body["access_token"])["type"] == "access"


def test_refreshed_access_token_works_on_me(client, auth):
    user = auth.user("bob")
    token = client.post("/api/auth/refresh", headers=user.refresh_headers).get_json()[
        "access_token"
    ]
    response = client.get("/api/auth/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["username"] == "bob"


def test_refresh_with_login_refresh_token(client, auth):
    auth.user("bob")
    refresh_token = login(client, "bob").get_json()["refresh_token"]
    response = client.post("/api/auth/refresh", headers=bearer(refresh_token))
    assert response.status_code == 200
    assert set(response.get_json()) == TOKEN_PAIR_FIELDS


def test_refresh_with_access_token_is_401(client, auth):
    user = auth.user("bob")
    response = client.post("/api/auth/refresh", headers=user.headers)
    assert_problem(response, 401)


def test_refresh_without_token_is_401(client):
    assert_problem(client.post("/api/auth/refresh"), 401)


# --- me ------------------------------------------------------------------------------------


def test_me_returns_the_current_user(client, auth):
    user = auth.user("bob")
    response = client.get("/api/auth/me", headers=user.headers)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == USER_FIELDS
    assert body["id"] == user.id
    assert body["username"] == "bob"
    assert body["email"] == user.email
    assert body["is_admin"] is False


def test_me_reports_admin_flag(client, auth):
    response = client.get("/api/auth/me", headers=auth.admin)
    assert response.status_code == 200
    assert response.get_json()["is_admin"] is True


def test_me_without_token_is_401(client):
    response = client.get("/api/auth/me")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Token abc", "Bearer", "Bearer ", "Bearer not.a.jwt", "Bearer abc", "Basic dXNlcjpwdw=="],
    ids=["other-scheme", "no-token", "empty-token", "not-a-jwt", "garbage", "basic"],
)
def test_me_with_malformed_authorization_header_is_401(client, header):
    response = client.get("/api/auth/me", headers={"Authorization": header})
    assert_problem(response, 401)


def live_family(app, user_id) -> str:
    """A login row for hand-made tokens: every token the server accepts belongs to one."""
    family_id = str(uuid.uuid4())
    with app.app_context():
        db.session.add(
            TokenFamily(
                id=family_id,
                user_id=user_id,
                refresh_jti=str(uuid.uuid4()),
                expires_at=datetime.now(UTC) + timedelta(days=1),
            )
        )
        db.session.commit()
    return family_id


def _claims(user_id, fam=None, **overrides):
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "fam": fam,
        "jti": str(uuid.uuid4()),
        "type": "access",
        "fresh": False,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


def test_hand_made_token_with_the_right_key_is_accepted(client, auth, app):
    """Control for the forged-token test below: the claims alone are valid."""
    user = auth.user("bob")
    claims = _claims(user.id, live_family(app, user.id))
    token = pyjwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    response = client.get("/api/auth/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["id"] == user.id


def test_me_with_token_signed_by_another_key_is_401(client, auth, app):
    user = auth.user("bob")
    other_key = "another-secret-key-that-is-long-enough-0123456789"
    assert other_key != app.config["JWT_SECRET_KEY"]
    token = pyjwt.encode(_claims(user.id, live_family(app, user.id)), other_key, algorithm="HS256")
    assert_problem(client.get("/api/auth/me", headers=bearer(token)), 401)


def test_me_with_unsigned_token_is_401(client, auth, app):
    user = auth.user("bob")
    token = pyjwt.encode(_claims(user.id, live_family(app, user.id)), None, algorithm="none")
    assert_problem(client.get("/api/auth/me", headers=bearer(token)), 401)


def test_me_with_expired_token_is_401(client, auth, app):
    user = auth.user("bob")
    with app.app_context():
        token = create_access_token(
            identity=db.session.get(User, user.id), expires_delta=timedelta(seconds=-1)
        )
    body = assert_problem(client.get("/api/auth/me", headers=bearer(token)), 401)
    assert "expired" in body["detail"].lower()


def test_me_with_refresh_token_is_401(client, auth):
    user = auth.user("bob")
    assert_problem(client.get("/api/auth/me", headers=user.refresh_headers), 401)


def test_me_with_token_of_deleted_user_is_401(client, auth, query):
    user = auth.user("bob")

    def delete(session):
        session.delete(session.get(User, user.id))
        session.commit()

    query(delete)
    assert_problem(client.get("/api/auth/me", headers=user.headers), 401)


@pytest.mark.parametrize("sub", ["not-a-number", "999999999"], ids=["non-numeric", "unknown-id"])
def test_me_with_token_for_nonexistent_subject_is_401(client, app, sub):
    token = pyjwt.encode(_claims(sub), app.config["JWT_SECRET_KEY"], algorithm="HS256")
    assert_problem(client.get("/api/auth/me", headers=bearer(token)), 401)


# --- logout --------------------------------------------------------------------------------


def test_logout_is_204_with_empty_body(client, auth):
    user = auth.user("bob")
    response = client.post("/api/auth/logout", headers=user.headers)
    assert response.status_code == 204
    assert response.get_data() == b""


def test_logout_without_body_or_content_type(client, auth):
    user = auth.user("bob")
    response = client.open("/api/auth/logout", method="POST", headers=user.headers)
    assert "Content-Type" not in response.request.headers
    assert response.status_code == 204


def test_logged_out_token_is_refused(client, auth):
    user = auth.user("bob")
    assert client.get("/api/auth/me", headers=user.headers).status_code == 200
    assert client.post("/api/auth/logout", headers=user.headers).status_code == 204
    body = assert_problem(client.get("/api/auth/me", headers=user.headers), 401)
    assert "revoked" in body["detail"].lower()


def test_logout_revokes_only_the_presented_token(client, auth):
    user = auth.user("bob")
    other_token = login(client, "bob").get_json()["access_token"]
    assert client.post("/api/auth/logout", headers=user.headers).status_code == 204
    assert client.get("/api/auth/me", headers=bearer(other_token)).status_code == 200


def test_logout_twice_is_401(client, auth):
    user = auth.user("bob")
    assert client.post("/api/auth/logout", headers=user.headers).status_code == 204
    assert_problem(client.post("/api/auth/logout", headers=user.headers), 401)


def test_logout_without_token_is_401(client):
    assert_problem(client.post("/api/auth/logout"), 401)


def family_of(app, token) -> TokenFamily:
    with app.app_context():
        family = db.session.get(TokenFamily, decode_token(token, allow_expired=True)["fam"])
        db.session.expunge(family)
        return family


def test_logout_stores_the_revocation_in_the_database(client, auth, app):
    user = auth.user("bob")
    token = user.headers["Authorization"].removeprefix("Bearer ")
    assert family_of(app, token).revoked_at is None
    assert client.post("/api/auth/logout", headers=user.headers).status_code == 204
    family = family_of(app, token)
    assert family.user_id == user.id
    assert family.expires_at > family.revoked_at


def test_logout_with_refresh_token_revokes_it(client, auth, app):
    user = auth.user("bob")
    assert client.post("/api/auth/logout", headers=user.refresh_headers).status_code == 204
    refresh_token = user.refresh_headers["Authorization"].removeprefix("Bearer ")
    assert family_of(app, refresh_token).revoked_at is not None
    assert_problem(client.post("/api/auth/refresh", headers=user.refresh_headers), 401)


@pytest.fixture
def other_worker(make_app):
    """A second app instance on the same database, like another server process."""
    return make_app()


def test_revocation_is_shared_with_other_workers(client, auth, other_worker):
    user = auth.user("bob")
    still_valid = auth.user("carol")
    other_client = other_worker.test_client()
    assert other_client.get("/api/auth/me", headers=user.headers).status_code == 200
    assert client.post("/api/auth/logout", headers=user.headers).status_code == 204
    assert_problem(other_client.get("/api/auth/me", headers=user.headers), 401)
    assert other_client.get("/api/auth/me", headers=still_valid.headers).status_code == 200


# --- full flow -----------------------------------------------------------------------------


def test_register_login_me_flow(client):
    registered = register(client, username="Dana", email="dana@example.com")
    assert registered.status_code == 201
    tokens = login(client, "dana", PASSWORD)
    assert tokens.status_code == 200
    me = client.get("/api/auth/me", headers=bearer(tokens.get_json()["access_token"]))
    assert me.status_code == 200
    assert me.get_json() == registered.get_json()


# --- admin_required ------------------------------------------------------------------------


def create_product(client, headers):
    return client.post(
        "/api/products", json={"name": "Coffee mug", "price": "12.50"}, headers=headers
    )


def test_staff_route_refuses_customer_with_403_naming_the_permission(client, auth):
    body = assert_problem(create_product(client, auth.customer), 403)
    assert body["missing_permission"] == "catalog:write"
    assert "catalog:write" in body["detail"]


def test_admin_route_allows_admin(client, auth):
    response = create_product(client, auth.admin)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["name"] == "Coffee mug"


def test_admin_route_without_token_is_401(client):
    assert_problem(create_product(client, {}), 401)


def test_demoted_admin_is_refused_on_next_request(client, auth, query):
    admin = auth.admin_user
    assert create_product(client, admin.headers).status_code == 201
    set_admin(query, admin.id, False)
    assert_problem(create_product(client, admin.headers), 403)


def test_promoted_customer_is_allowed_on_next_request(client, auth, query):
    customer = auth.customer_user
    assert_problem(create_product(client, customer.headers), 403)
    set_admin(query, customer.id, True)
    assert create_product(client, customer.headers).status_code == 201


# --- look-alike names (issue 12) -------------------------------------------------------------

FULLWIDTH_ALICE = "\uff41lice"  # fullwidth a: NFKC makes it "alice"
CYRILLIC_ALICE = "\u0430lice"  # Cyrillic a: looks like "alice", is not


@pytest.mark.parametrize(
    "email",
    [f"{FULLWIDTH_ALICE}@example.com", "ALICE@\uff25xample.com", "Alice@Example.COM"],
    ids=["fullwidth-local", "fullwidth-domain", "case"],
)
def test_register_an_email_equal_after_nfkc_and_case_folding_is_409(client, query, email):
    assert register(client).status_code == 201
    assert_problem(register(client, username="alice2", email=email), 409)
    assert user_count(query) == 1


@pytest.mark.parametrize(
    "email",
    [
        f"{CYRILLIC_ALICE}@example.com",  # a look-alike local part
        "bob@ex\u0430mple.com",  # a domain label mixing Latin and Cyrillic
        "bob@\udbe2.com",  # a lone surrogate
    ],
    ids=["cyrillic-local", "mixed-script-domain", "surrogate"],
)
def test_register_refuses_look_alike_emails(client, query, email):
    assert_problem(register(client, email=email), 422, "email")
    assert user_count(query) == 0


def test_register_stores_the_canonical_email(client):
    response = register(client, email="Alice@B\u00fccher.Example")
    assert response.status_code == 201, response.get_json()
    # An internationalised domain is stored as its IDNA A-label: a look-alike would show.
    assert response.get_json()["email"] == "alice@xn--bcher-kva.example"


def test_register_folds_a_fullwidth_username_and_finds_it_taken(client, query):
    assert register(client).status_code == 201
    taken = register(client, username="\uff21LICE", email="other@example.com")
    assert_problem(taken, 409)
    assert user_count(query) == 1


@pytest.mark.parametrize(
    "identifier",
    ["\uff41\uff4c\uff49\uff43\uff45", f"{FULLWIDTH_ALICE}@EXAMPLE.com", "ALICE@\uff45xample.com"],
    ids=["fullwidth-username", "fullwidth-email", "fullwidth-domain"],
)
def test_login_normalises_the_name_as_sign_up_does(client, identifier):
    assert register(client).status_code == 201
    assert login(client, identifier, PASSWORD).status_code == 200


def test_login_with_a_look_alike_email_is_401(client):
    assert register(client).status_code == 201
    assert_problem(login(client, f"{CYRILLIC_ALICE}@example.com", PASSWORD), 401)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/auth/login", {"username": "\ud800x", "password": "x"}, "username"),
        ("/api/auth/login", {"username": "alice", "password": "pass\udbe2word"}, "password"),
        ("/api/auth/register", registration(password="pass\udbe2word"), "password"),
    ],
    ids=["login-username", "login-password", "register-password"],
)
def test_lone_surrogates_are_a_422_naming_the_field(client, path, body, field):
    assert_problem(client.post(path, json=body), 422, field)


# --- the project's own wording for token problems (issue 12) ---------------------------------


@pytest.mark.parametrize(
    "token",
    ["abc", "not.a.jwt", "eyJhbGciOiJIUzI1NiJ9.e30", "a.b.c", "eyJ.eyJ.sig!"],
)
def test_a_garbage_token_is_401_in_the_projects_words(client, token):
    body = assert_problem(client.get("/api/auth/me", headers=bearer(token)), 401)
    assert body["detail"] == "The token is invalid."


def test_a_missing_token_is_401_in_the_projects_words(client):
    body = assert_problem(client.get("/api/auth/me"), 401)
    assert body["detail"].startswith("A bearer token is required")


def test_a_refresh_token_where_an_access_token_is_needed_says_so(client, auth):
    user = auth.user("bob")
    body = assert_problem(client.get("/api/auth/me", headers=user.refresh_headers), 401)
    assert body["detail"] == "An access token is required, not a refresh token."


def test_logout_204_has_no_content_type(client, auth):
    response = client.post("/api/auth/logout", headers=auth.user("bob").headers)
    assert response.status_code == 204
    assert "Content-Type" not in response.headers
    assert "Content-Length" not in response.headers
