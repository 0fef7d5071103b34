"""The unit of work (app.platform.db): nesting, after-commit side effects, SQLite's BEGIN choice."""

import pytest
from sqlalchemy import event, inspect, select

from app.platform.db import after_commit, db, transaction
from app.platform.models import Category, User
from tests.factories import UserFactory


def category(name: str) -> Category:
    return Category(name=name, slug=name.lower())


def names(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(Category.name)))


class Refused(Exception):
    pass


def test_the_outermost_transaction_commits(app):
    with app.app_context(), transaction() as session:
        session.add(category("Tea"))
    assert names(app) == ["Tea"]


def test_an_error_rolls_the_whole_unit_back(app):
    with app.app_context(), pytest.raises(Refused), transaction() as session:
        session.add(category("Tea"))
        session.flush()
        raise Refused
    assert names(app) == []


def test_an_inner_transaction_is_a_savepoint_of_the_outer_one(app):
    with app.app_context(), transaction() as session:
        session.add(category("Tea"))
        with pytest.raises(Refused), transaction() as inner:
            assert inner.in_nested_transaction()
            inner.add(category("Coffee"))
            inner.flush()
            raise Refused
        with transaction() as inner:
            inner.add(category("Cocoa"))
        assert names(app) == []  # nothing is committed before the outermost ends
    assert names(app) == ["Cocoa", "Tea"]


def test_an_inner_commit_is_undone_with_the_outer_transaction(app):
    with app.app_context(), pytest.raises(Refused), transaction():
        with transaction() as inner:
            inner.add(category("Tea"))
        raise Refused
    assert names(app) == []


def test_side_effects_run_after_the_outermost_commit_only(app):
    ran = []
    with app.app_context():
        with transaction():
            after_commit(lambda: ran.append("outer"))
            with transaction():
                after_commit(lambda: ran.append("inner"))
            with pytest.raises(Refused), transaction():
                after_commit(lambda: ran.append("rolled back savepoint"))
                raise Refused
            assert ran == []
        assert ran == ["outer", "inner"]

        with pytest.raises(Refused), transaction():
            after_commit(lambda: ran.append("rolled back"))
            raise Refused
    assert ran == ["outer", "inner"]


def test_after_commit_needs_a_transaction(app):
    with app.app_context(), pytest.raises(RuntimeError):
        after_commit(lambda: None)


def test_a_read_before_the_unit_keeps_what_it_loaded(app):
    """The session's own read transaction is ended without expiring the objects it loaded
    (no second SELECT for the user the token check already read)."""
    with app.app_context():
        user_id = UserFactory().id
    with app.app_context():
        user = db.session.get(User, user_id)
        with transaction() as session:
            session.add(category("Tea"))
        # The commit of the unit expires it as usual; before, it was kept.
        assert inspect(user).expired
    with app.app_context():
        user = db.session.get(User, user_id)
        with transaction():
            assert not inspect(user).expired


def test_sqlite_writes_take_the_lock_at_begin_and_reads_do_not(app):
    """On SQLite the unit asks for the write lock, a plain read does not; PostgreSQL's
    driver begins by itself (no BEGIN goes through the cursor)."""
    with app.app_context():
        engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    begins = []

    def record(conn, cursor, statement, *args):
        if statement.startswith("BEGIN"):
            begins.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with app.app_context():
            db.session.scalar(select(Category.id))
            with transaction() as session:
                session.add(category("Tea"))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert begins == (["BEGIN", "BEGIN IMMEDIATE"] if sqlite else [])
