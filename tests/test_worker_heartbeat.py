"""The worker's heartbeat as /readyz, /metrics and `flask worker --check` report it
(app.outbox.heartbeat); tests/concurrency/test_worker_heartbeat.py runs a real worker."""

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.outbox import heartbeat
from app.platform.db import db, utcnow
from app.platform.models import WorkerHeartbeat
from tests.helpers import count_rows, sample


@pytest.fixture
def beat(app):
    """Record a heartbeat of `worker`, `age` seconds old: beat("host:1", age=0)."""

    def record(worker: str = "worker-host:101", age: float = 0) -> None:
        with app.app_context():
            heartbeat.beat(worker)
            if age:
                seen = utcnow() - timedelta(seconds=age)
                db.session.execute(
                    update(WorkerHeartbeat)
                    .where(WorkerHeartbeat.worker == worker)
                    .values(seen_at=seen)
                )
                db.session.commit()

    return record


def test_readyz_says_when_no_worker_was_ever_seen(client):
    assert client.get("/readyz").get_json()["worker"] == {"last_seen_seconds": None}


def test_readyz_gives_the_age_of_the_freshest_heartbeat(client, beat):
    beat("old-host:1", age=300)
    beat("new-host:2", age=12)

    age = client.get("/readyz").get_json()["worker"]["last_seen_seconds"]

    assert 12 <= age < 17


def test_a_worker_beating_again_renews_its_one_row(app, client, beat, query):
    beat("worker-host:7", age=100)
    beat("worker-host:7")

    assert count_rows(query, WorkerHeartbeat) == 1
    assert client.get("/readyz").get_json()["worker"]["last_seen_seconds"] < 5


def test_workers_gone_for_a_day_are_forgotten(app, beat, query):
    beat("gone:1", age=25 * 3600)
    beat("alive:2", age=30)

    with app.app_context():
        assert heartbeat.prune() == 1
    assert [row.worker for row in query(lambda s: s.query(WorkerHeartbeat).all())] == ["alive:2"]


def test_check_fails_when_no_worker_was_ever_seen(cli):
    result = cli("worker", "--check")

    assert result.exit_code == 1
    assert result.output == "No worker has ever been seen.\n"


def test_check_passes_for_a_recent_heartbeat(cli, beat):
    beat(age=20)

    result = cli("worker", "--check")

    assert result.exit_code == 0, result.output
    assert result.output.startswith("A worker was seen 2")


def test_check_fails_for_an_old_heartbeat_naming_its_age(cli, beat):
    beat(age=95)

    result = cli("worker", "--check")

    assert result.exit_code == 1
    assert result.output == "The last worker was seen 95 s ago (more than 60 s).\n"


def test_check_takes_its_limit_from_the_setting(cli, beat, app, monkeypatch):
    monkeypatch.setitem(app.config, "WORKER_HEARTBEAT_MAX_AGE_SECONDS", 10)
    beat(age=20)

    result = cli("worker", "--check")

    assert result.exit_code == 1
    assert result.output == "The last worker was seen 20 s ago (more than 10 s).\n"


def test_check_fails_with_one_line_when_the_database_does_not_answer(cli, monkeypatch):
    def fail(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(Session, "execute", fail)
    monkeypatch.setattr(Session, "scalar", fail)

    result = cli("worker", "--check")

    assert result.exit_code == 1
    assert result.output == "The database did not answer: OperationalError.\n"


def test_metrics_give_the_heartbeat_age(make_app, beat):
    client = make_app(METRICS_ENABLED=True).test_client()
    never = client.get("/metrics").get_data(as_text=True)
    beat(age=40)
    seen = client.get("/metrics").get_data(as_text=True)

    assert sample(never, "store_worker_heartbeat_age_seconds") == float("inf")
    assert 40 <= sample(seen, "store_worker_heartbeat_age_seconds") < 45
