"""Extension objects, created once and bound to the app in create_app."""

import sqlite3
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

from flask import has_request_context, request
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, DateTime, Engine, Integer, MetaData, Numeric, event, select
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

from app.openapi import Api, DocumentPlugin, schema_name


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


SQLITE_BUSY_TIMEOUT_MS = 5000
READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}
DEFER_COMMIT = "defer_commit"


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
    """Writes take SQLite's write lock up front (BEGIN IMMEDIATE), so the busy timeout
    applies and a read-then-write transaction never fails on a stale snapshot."""
    if connection.dialect.name != "sqlite":
        return
    read_only = has_request_context() and request.method in READ_ONLY_METHODS
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address)
api = Api(spec_kwargs={"marshmallow_plugin": DocumentPlugin(schema_name_resolver=schema_name)})


def taken(id_column, condition, own_id: int | None = None) -> bool:
    """Whether a row other than `own_id` matches `condition` (a unique SKU or slug, say)."""
    stmt = select(id_column).where(condition)
    if own_id is not None:
        stmt = stmt.where(id_column != own_id)
    return db.session.scalar(stmt.limit(1)) is not None


@contextmanager
def transaction():
    """One unit of work: commit on success, roll back on any error.

    Inside atomic_request() it only flushes: the request commits once, at its end.
    """
    try:
        yield db.session
        if db.session.info.get(DEFER_COMMIT):
            db.session.flush()
        else:
            db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


@contextmanager
def atomic_request():
    """Join every transaction() inside into one; the caller commits or rolls back."""
    db.session.info[DEFER_COMMIT] = True
    try:
        yield db.session
    finally:
        db.session.info.pop(DEFER_COMMIT, None)
