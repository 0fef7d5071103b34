"""Password reset: the same answer for every address, a single-use token stored as a hash,
queued email (sent by the worker: tests/concurrency/test_email_delivery.py), every other login
ended."""

import hashlib
import re
import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.platform.db import utcnow
from app.platform.models import OutgoingEmail, PasswordReset
from tests.helpers import assert_problem

NEW_PASSWORD = "staple-battery-horse-correct"
SENT = {"detail": "If an account has that address, a reset link is on its way."}


def forgot(client, email):
    return client.post("/api/auth/password/forgot", json={"email": email})


def reset(client, token, password=NEW_PASSWORD):
    return client.post("/api/auth/password/reset", json={"token": token, "new_password": password})


def emails(query) -> list[OutgoingEmail]:
    return query(lambda s: s.scalars(select(OutgoingEmail).order_by(OutgoingEmail.id)).all())


def token_in(email: OutgoingEmail) -> str:
    return re.search(r"token=([\w-]+)", email.body).group(1)


@pytest.fixture
def alice(auth):
    return auth.user("alice")


def test_a_known_address_gets_a_link_with_a_single_use_token(client, alice, query):
    response = forgot(client, alice.email.upper())  # as accounts store it: case-folded
    assert (response.status_code, response.get_json()) == (202, SENT)
    [email] = emails(query)
    assert (email.recipient, email.subject, email.status) == (
        alice.email,
        "Reset your password",
        "pending",
    )
    token = token_in(email)
    assert email.body.count(f"http://127.0.0.1:5000/reset-password?token={token}") == 1
    stored = query(lambda s: s.scalars(select(PasswordReset)).one())
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()  # never the token


def test_an_unknown_address_gets_the_same_answer_and_nothing_is_sent(client, query):
    response = forgot(client, "nobody@example.com")
    assert (response.status_code, response.get_json()) == (202, SENT)
    assert emails(query) == []


def test_known_and_unknown_addresses_take_about_as_long(client, alice):
    """Same status and body (above), and no timing tell: within one order of magnitude."""

    def median_ms(address):
        times = []
        for _ in range(7):
            started = time.perf_counter()
            assert forgot(client, address).status_code == 202
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    known, unknown = median_ms(alice.email), median_ms("nobody@example.com")
    assert max(known, unknown) < 10 * min(known, unknown), (known, unknown)


def test_the_reset_sets_the_password_and_ends_every_other_login(client, alice, query):
    logged_in = client.post(
        "/api/auth/login", json={"username": "alice", "password": "correct-horse-battery"}
    )
    old = {"Authorization": f"Bearer {logged_in.get_json()['access_token']}"}
    forgot(client, alice.email)

    response = reset(client, token_in(emails(query)[0]))

    assert response.status_code == 200, response.get_data(as_text=True)
    fresh = {"Authorization": f"Bearer {response.get_json()['access_token']}"}
    assert client.get("/api/auth/me", headers=fresh).status_code == 200
    assert_problem(client.get("/api/auth/me", headers=old), 401)
    assert_problem(client.get("/api/auth/me", headers=alice.headers), 401)
    login = {"username": "alice", "password": NEW_PASSWORD}
    assert client.post("/api/auth/login", json=login).status_code == 200


def test_a_token_works_once(client, alice, query):
    forgot(client, alice.email)
    token = token_in(emails(query)[0])
    assert reset(client, token).status_code == 200
    assert_problem(reset(client, token, "another-long-passphrase-9"), 422, "token")


def test_an_expired_token_is_422(client, alice, query):
    forgot(client, alice.email)
    query(
        lambda s: (
            s.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1))),
            s.commit(),
        )
    )
    assert_problem(reset(client, token_in(emails(query)[0])), 422, "token")


def test_a_wrong_token_is_422(client, alice):
    assert_problem(reset(client, "not-a-token-anyone-was-sent"), 422, "token")


def test_a_weak_password_is_422_and_keeps_the_token(client, alice, query):
    forgot(client, alice.email)
    token = token_in(emails(query)[0])
    assert_problem(reset(client, token, "password1"), 422, "new_password")
    assert reset(client, token).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "not-an-address"}, {"email": 7}, {"email": "a@b.co", "extra": 1}],
    ids=["missing", "malformed", "number", "unknown-field"],
)
def test_bad_input_is_422(client, query, body):
    response = client.post("/api/auth/password/forgot", json=body)
    assert response.status_code == 422
    assert emails(query) == []


def test_requests_are_limited_per_address(make_app, alice, query):
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    for _ in range(3):
        assert forgot(client, alice.email).status_code == 202
    assert_problem(forgot(client, alice.email.upper()), 429)  # one budget per address
    assert forgot(client, "someone.else@example.com").status_code == 202
    assert len(emails(query)) == 3


def two_links(client, user, query) -> tuple[str, str]:
    forgot(client, user.email)
    forgot(client, user.email)
    first, second = (token_in(email) for email in emails(query))
    return first, second


def test_using_one_link_ends_every_other(client, alice, query):
    first, second = two_links(client, alice, query)
    assert reset(client, second).status_code == 200
    assert_problem(reset(client, first, "another-long-passphrase-9"), 422, "token")


def test_a_password_change_ends_every_link(client, alice, query):
    first, second = two_links(client, alice, query)
    changed = client.post(
        "/api/auth/password",
        json={"current_password": "correct-horse-battery", "new_password": NEW_PASSWORD},
        headers=alice.headers,
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    for token in (first, second):
        assert_problem(reset(client, token, "another-long-passphrase-9"), 422, "token")


def test_deactivation_ends_every_link_for_good(client, auth, alice, query):
    token, _ = two_links(client, alice, query)
    for action in ("deactivate", "activate"):
        path = f"/api/admin/users/{alice.id}/{action}"
        assert client.post(path, headers=auth.admin).status_code == 200
    assert_problem(reset(client, token), 422, "token")


def test_a_new_password_from_the_admin_command_ends_every_link(app, client, alice, query):
    from app.accounts.services import ensure_admin

    token, _ = two_links(client, alice, query)
    with app.app_context():
        ensure_admin("alice", alice.email, "a-brand-new-admin-passphrase")
    assert_problem(reset(client, token), 422, "token")


def test_known_and_unknown_addresses_run_the_same_statements(app, client, alice):
    """The timing tell, at its source: the same SQL, in the same order, either way."""
    from sqlalchemy import event

    from app.platform.db import db

    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        runs = []
        for address in (alice.email, "nobody@example.com", alice.email):
            seen.clear()
            assert forgot(client, address).status_code == 202
            runs.append(list(seen))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert runs[0] == runs[1] == runs[2]
    assert any(s.lstrip().upper().startswith("INSERT") for s in runs[0])
