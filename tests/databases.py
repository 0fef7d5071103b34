"""Throwaway databases of the engine under test.

TEST_DATABASE=sqlite (default) gives a SQLite file; TEST_DATABASE=postgresql creates a fresh
database on TEST_POSTGRES_URL's server and drops it afterwards.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

TEST_DATABASE = os.environ.get("TEST_DATABASE", "sqlite").lower()
TEST_POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def fresh_database(folder: Path, prefix: str, engine: str = TEST_DATABASE) -> Iterator[str]:
    """Yield the URL of an empty database; `folder` holds the SQLite file. `engine` defaults
    to the one under test (tests comparing engines ask for each)."""
    if engine == "sqlite":
        yield f"sqlite:///{folder / f'{prefix}.db'}"
        return
    if engine != "postgresql":
        raise pytest.UsageError(f"TEST_DATABASE must be sqlite or postgresql, not {engine}")
    with postgres_database(TEST_POSTGRES_URL, prefix) as url:
        yield url


@contextmanager
def postgres_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new database on that PostgreSQL server (also used by bench/), dropped afterwards."""
    server = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(
        server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
