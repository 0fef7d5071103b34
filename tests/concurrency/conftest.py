"""Fixtures for the concurrency suite; see live.py."""

from contextlib import ExitStack

import pytest

from tests.concurrency.live import LiveStore
from tests.databases import fresh_database


@pytest.fixture
def start_live_store(app, tmp_path):
    """Start a gunicorn server with 4 workers on its own fresh database, with extra settings
    (`app` first: testing config). Stopped, and its database dropped, after the test."""
    with ExitStack() as stack:

        def start(**env: str) -> LiveStore:
            url = stack.enter_context(fresh_database(tmp_path, "store_live"))
            store = LiveStore(url, tmp_path / "gunicorn.log", **env)
            stack.callback(store.stop)
            store.start()
            return store

        yield start


@pytest.fixture
def live_store(start_live_store):
    # Load tests: thousands of writes from a few users would trip the per-user write limit.
    return start_live_store(RATELIMIT_ENABLED="false")


@pytest.fixture
def receiver():
    from tests.concurrency.worker import Receiver

    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def start_worker(database_url, tmp_path):
    """Start `flask --app app worker` on the session database: start_worker(**env). Every
    worker started is stopped (SIGTERM) before the tables are emptied."""
    from tests.concurrency.worker import Worker

    workers = []

    def start(**env: str) -> "Worker":
        worker = Worker(database_url, tmp_path / "queue.db", tmp_path / "worker.log", **env)
        workers.append(worker.start())
        return worker

    yield start
    for worker in workers:
        worker.stop()
