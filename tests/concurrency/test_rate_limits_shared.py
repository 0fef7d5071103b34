"""Rate limits under gunicorn: with REDIS_URL, 4 workers share one budget; with Redis down,
each worker falls back to limits in memory and nothing answers 5xx."""

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.concurrency.live import call

ATTEMPTS = 16
LIMIT = 5
REDIS_URL = "redis://127.0.0.1:6379/0"


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
