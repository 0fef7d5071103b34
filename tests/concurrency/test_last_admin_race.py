"""The last admin under concurrent demotions on a real 4-worker server: two admins taking the
role from one another (or deactivating one another) at the same instant leave exactly one
active admin, round after round (app.accounts.staff locks the admin role's row before it
counts the others). A request checks its caller's roles as it starts, so both requests of a
round pass that check; only the locked count keeps the last admin.
"""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from app.platform.models import AuditEntry, Role, User
from tests.concurrency.live import call

ROUNDS = 12


def active_admins(session) -> int:
    return session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.active, User.roles.any(Role.name == "admin"))
    )


def audit_entries(session, action: str) -> int:
    return session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    )


def duel(live_store, request) -> Counter:
    """ROUNDS times: the admin left by the last round and a new one each send
    `request(http, actor, target)` against the other at once."""
    (survivor,) = live_store.users(1, admin=True)
    statuses = Counter()
    for _ in range(ROUNDS):
        (newcomer,) = live_store.users(1, admin=True)
        start = threading.Barrier(2)
        pairs = [(survivor, newcomer, start), (newcomer, survivor, start)]
        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(lambda pair: _send(request, *pair), pairs))
        round_statuses = [outcome.status for outcome in outcomes]
        assert round_statuses.count(200) == 1, [(o.status, o.body) for o in outcomes]
        assert live_store.query(active_admins) == 1
        survivor = survivor if outcomes[0].status == 200 else newcomer
        statuses.update(round_statuses)
    return statuses


def _send(request, actor, target, start: threading.Barrier):
    with requests.Session() as http:
        start.wait()
        return request(http, actor, target)


def test_two_admins_demoting_each_other_at_once_leave_one(live_store):
    def demote(http, actor, target):
        return call(
            http,
            "PUT",
            live_store.url(f"/api/admin/users/{target.id}/roles"),
            "demote",
            json={"roles": ["customer"]},
            headers=actor.headers,
        )

    statuses = duel(live_store, demote)

    # The loser is refused as the last admin (409), or, once demoted, by his own roles (403).
    assert set(statuses) <= {200, 403, 409}, statuses
    assert live_store.query(lambda s: audit_entries(s, "user.set_roles")) == ROUNDS


def test_two_admins_deactivating_each_other_at_once_leave_one(live_store):
    def deactivate(http, actor, target):
        return call(
            http,
            "POST",
            live_store.url(f"/api/admin/users/{target.id}/deactivate"),
            "deactivate",
            headers=actor.headers,
        )

    statuses = duel(live_store, deactivate)

    # The loser is refused as the last admin (409), or, once deactivated, his login (401).
    assert set(statuses) <= {200, 401, 409}, statuses
    assert live_store.query(lambda s: audit_entries(s, "user.deactivate")) == ROUNDS
