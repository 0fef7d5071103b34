"""The database layer: `db`, the declarative `Base` and its column types, the engine events,
and the unit of work every write goes through. Nothing here knows about HTTP.

Transactions. `transaction()` is the only way to write:
- the outermost one is `session.begin()`: it commits when its block ends, or rolls back if
  the block raises; on SQLite it starts with `BEGIN IMMEDIATE` (the write lock up front, so
  the busy timeout applies and a read-then-write never fails on a stale snapshot);
- one opened inside another is a savepoint (`session.begin_nested()`): it joins the outer
  transaction, and an error rolls back only what it did;
- a transaction the session began on its own (a plain query, such as the token check) is
  committed first, keeping the objects it loaded: on SQLite a write could not safely
  upgrade its read snapshot. (Writes belong in transaction(); any made outside one are
  committed there.)
`after_commit(callback)` defers a side effect (a metric now; events and emails later) until
the outermost transaction has committed; it is dropped if that transaction, or the savepoint
that registered it, rolls back.

Outboxes. `skip_locked` is how a claim (app.outbox.engine, the outbox engine) skips the rows another
worker holds; `changed(result)` how many rows a statement changed.
"""

import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    delete,
    event,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransactionOrigin, registry
from sqlalchemy.types import TypeDecorator

SQLITE_BUSY_TIMEOUT_MS = 5000
# Execution option with which transaction() asks SQLite for the write lock at BEGIN.
SQLITE_BEGIN = "sqlite_begin"
_AFTER_COMMIT = "after_commit"


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every engine (SQLite stores naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        # Named constraints keep Alembic migrations portable (SQLite batch mode needs names).
        metadata=MetaData(
            naming_convention={
                "ix": "ix_%(column_0_label)s",
                "uq": "uq_%(table_name)s_%(column_0_name)s",
                "ck": "ck_%(table_name)s_%(constraint_name)s",
                "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
                "pk": "pk_%(table_name)s",
            }
        ),
        type_annotation_map={
            datetime: UTCDateTime,
            Decimal: Numeric(12, 2),
            # 64-bit ids on PostgreSQL; SQLite's INTEGER is already 64-bit (and must stay
            # INTEGER for primary keys to alias the rowid).
            int: BigInteger().with_variant(Integer, "sqlite"),
        },
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record):
    """Foreign keys, WAL (readers never block the writer) and a busy timeout for SQLite.

    synchronous stays FULL: a committed order survives a power cut, not only a crash.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin); pysqlite's own is deferred.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    """`BEGIN IMMEDIATE` when transaction() opened the transaction, a plain (deferred,
    read) `BEGIN` otherwise."""
    if connection.dialect.name != "sqlite":
        return
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "")
    connection.exec_driver_sql(f"BEGIN {mode}".rstrip())


@contextmanager
def transaction() -> Iterator[Session]:
    """A unit of work (see the module docstring): commit on success, roll back on error."""
    session = db.session()
    current = session.get_transaction()
    if current is not None and current.origin is not SessionTransactionOrigin.AUTOBEGIN:
        with _savepoint(session):
            yield session
        return
    if current is not None:
        _end_read_transaction(session)
    pending = session.info[_AFTER_COMMIT] = []
    try:
        with session.begin():
            session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
            yield session
    finally:
        del session.info[_AFTER_COMMIT]
    for callback in pending:
        callback()


@contextmanager
def _savepoint(session: Session) -> Iterator[None]:
    pending = session.info.setdefault(_AFTER_COMMIT, [])
    registered_before = len(pending)
    try:
        with session.begin_nested():
            yield
    except BaseException:
        del pending[registered_before:]
        raise


def _end_read_transaction(session: Session) -> None:
    """Commit what the session began by itself, keeping the objects it loaded (their state
    is what that transaction saw; the unit rereads what it must lock)."""
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire_on_commit


def after_commit(callback: Callable[[], object]) -> None:
    """Run `callback` once the current transaction() has committed (never if it rolls back)."""
    pending = db.session().info.get(_AFTER_COMMIT)
    if pending is None:
        raise RuntimeError("after_commit() needs an open transaction()")
    pending.append(callback)


def skip_locked(stmt):
    """Skip the rows another worker holds (PostgreSQL's FOR UPDATE SKIP LOCKED); SQLite has
    one writer, which serialises the claims anyway."""
    if db.engine.dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt


def delete_expired(model: Any) -> int:
    """Delete the rows of `model` whose `expires_at` has passed, in a transaction of their
    own; returns how many."""
    with transaction() as session:
        return changed(session.execute(delete(model).where(model.expires_at <= utcnow())))


def insert_on_conflict(model: Any) -> Any:
    """An INSERT of `model` that takes ON CONFLICT clauses, for the engine in use (both
    dialects support them)."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def changed(result: Result[Any]) -> int:
    """How many rows an INSERT, UPDATE or DELETE changed: its cursor's rowcount (typed)."""
    return cast("CursorResult[Any]", result).rowcount


def taken(id_column, condition, own_id: int | None = None) -> bool:
    """Whether a row other than `own_id` matches `condition` (a unique SKU or slug, say)."""
    stmt = select(id_column).where(condition)
    if own_id is not None:
        stmt = stmt.where(id_column != own_id)
    return db.session.scalar(stmt.limit(1)) is not None


# Objects the migrations create that the models do not describe: the search index
# (SQLite's products_fts, PostgreSQL's search_vector), the per-engine name-sort index, and
# the listed-products count and the catalog version that the catalog triggers keep
# (catalog_stats, catalog_versions).
DATABASE_MANAGED_TABLES = re.compile(r"products_fts(_\w+)?$|catalog_stats$|catalog_versions$")
DATABASE_MANAGED_COLUMNS = {"search_vector"}
DATABASE_MANAGED_INDEXES = {"ix_products_search_vector", "ix_products_name_key"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter: autogenerate leaves the objects the database manages alone."""
    if type_ == "table":
        return not DATABASE_MANAGED_TABLES.match(name or "")
    if type_ == "column":
        return name not in DATABASE_MANAGED_COLUMNS
    if type_ == "index":
        return name not in DATABASE_MANAGED_INDEXES
    return True
