"""Fixtures for the concurrency suite; see live.py."""

import pytest

from tests.concurrency.live import LiveStore
from tests.databases import fresh_database


@pytest.fixture
def live_store(app, tmp_path):
    """A gunicorn server with 4 workers on its own fresh database (`app` first: testing config)."""
    with fresh_database(tmp_path, "store_live") as url:
        store = LiveStore(url, tmp_path / "gunicorn.log")
        try:
            store.start()
            yield store
        finally:
            store.stop()
