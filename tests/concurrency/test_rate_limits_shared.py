"""Rate limits under gunicorn: with REDIS_URL, 4 workers share one budget, and malformed
bodies cannot move a worker off it; with Redis down, each worker falls back to limits in
memory and nothing answers 5xx."""

import json
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.concurrency.live import Outcome, call
from tests.helpers import redis_database_url

ATTEMPTS = 16
LIMIT = 5
REDIS_URL = redis_database_url(0)


def guess_at_once(store, attempts: int = ATTEMPTS) -> list:
    """Wrong logins for one account, fired together."""
    start = threading.Barrier(attempts)

    def guess(n):
        with requests.Session() as http:
            start.wait()
            body = {"username": "victim", "password": f"guess-{n}"}
            return call(http, "POST", store.url("/api/auth/login"), "login", json=body)

    with ThreadPoolExecutor(attempts) as pool:
        return list(pool.map(guess, range(attempts)))


def test_login_limit_is_shared_by_all_workers_through_redis(start_live_store):
    store = start_live_store(
        REDIS_URL=REDIS_URL,
        RATELIMIT_LOGIN=f"{LIMIT} per minute",
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",  # a fresh budget for this run
    )
    outcomes = guess_at_once(store)

    # With per-worker memory storage, 4 workers would let up to 4 x 5 guesses through.
    assert Counter(o.status for o in outcomes) == {401: LIMIT, 429: ATTEMPTS - LIMIT}
    for outcome in outcomes:
        if outcome.status == 429:
            assert outcome.content_type == "application/problem+json"
            assert int(outcome.retry_after) > 0


def test_redis_down_falls_back_to_limits_per_worker_and_never_errors(start_live_store):
    store = start_live_store(
        REDIS_URL="redis://127.0.0.1:1/0", RATELIMIT_LOGIN=f"{LIMIT} per minute"
    )
    # Each of the 4 workers keeps its own count: at most 4 x LIMIT get through, and with one
    # more attempt per worker than that, some worker must refuse.
    statuses = Counter(o.status for o in guess_at_once(store, attempts=4 * (LIMIT + 1)))
    assert set(statuses) == {401, 429}, statuses
    assert LIMIT <= statuses[401] <= 4 * LIMIT


DEEP = "[" * 100_000 + "]" * 100_000
# Bodies that once made the login's key function raise, which Flask-Limiter took for Redis
# being down: the worker then counted in its own memory (issue 12).
MALFORMED = [
    DEEP.encode(),
    ('{"username": ' + DEEP + "}").encode(),
    b'{"username": "\\ud800x", "password": "guess"}',
    b'{"username": "victim@\\udbe2.com", "password": "guess"}',
    b'["victim", "guess"]',
    b'{"username": "' + b"v" * 500_000 + b'", "password": "guess"}',
    b'{"username": "victim", ',
]


def test_malformed_bodies_keep_every_worker_on_the_shared_budget(start_live_store):
    store = start_live_store(
        REDIS_URL=REDIS_URL,
        RATELIMIT_LOGIN=f"{LIMIT} per minute",
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
        TRUSTED_PROXIES="1",  # each request from its own address: only the account budget
    )
    addresses = (f"10.{n // 256}.{n % 256}.1" for n in range(100_000))

    def post(body: bytes) -> Outcome:
        headers = {"Content-Type": "application/json", "X-Forwarded-For": next(addresses)}
        with requests.Session() as http:
            return call(
                http, "POST", store.url("/api/auth/login"), "login", data=body, headers=headers
            )

    guesses = []
    with ThreadPoolExecutor(2 * len(MALFORMED)) as pool:
        for n in range(3 * LIMIT):
            # Every worker gets some of each round's malformed bodies, then comes a guess.
            refused = list(pool.map(post, MALFORMED * 2))
            assert all(o.status is not None and 400 <= o.status < 500 for o in refused), refused
            assert all(o.content_type == "application/problem+json" for o in refused)
            guess = json.dumps({"username": "victim", "password": f"guess-{n}"}).encode()
            guesses.append(post(guess).status)

    assert guesses == [401] * LIMIT + [429] * (2 * LIMIT), guesses
    log = store.log_path.read_text(errors="replace")
    assert "falling back to in-memory" not in log
    assert "Traceback" not in log
