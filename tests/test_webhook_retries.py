"""The wait before the next attempt of a webhook delivery: the outbox engine's schedule
(app.outbox.engine.next_wait) and what a 429 or 503 asked for (app.outbox.deliveries)."""

from datetime import timedelta

import pytest
from flask import current_app

from app.outbox.deliveries import MAX_RETRY_AFTER, _retry_after
from app.outbox.engine import JITTER, next_wait

SCHEDULE = (5.0, 300.0)


@pytest.fixture
def settings(make_app):
    app = make_app(WEBHOOK_RETRY_SCHEDULE=SCHEDULE)
    with app.app_context():
        yield


def _next_wait(attempts: int, status_code: int | None, retry_after: str | None):
    """The wait delivery._record asks the engine for after that answer."""
    schedule = current_app.config["WEBHOOK_RETRY_SCHEDULE"]
    return next_wait(attempts, schedule, _retry_after(status_code, retry_after))


def within_jitter(wait: timedelta, seconds: float) -> bool:
    return seconds * (1 - JITTER) <= wait.total_seconds() <= seconds * (1 + JITTER)


@pytest.mark.usefixtures("settings")
def test_each_attempt_waits_its_step_of_the_schedule_with_jitter():
    waits = [_next_wait(1, 500, None) for _ in range(50)]
    assert all(within_jitter(wait, 5) for wait in waits)
    assert len(set(waits)) > 1  # jittered, not all alike
    assert within_jitter(_next_wait(2, None, None), 300)
    assert _next_wait(3, 500, None) is None  # the schedule has run out


@pytest.mark.usefixtures("settings")
@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured_on_429_and_503(status):
    assert _next_wait(1, status, "60") >= timedelta(seconds=60)
    assert within_jitter(_next_wait(1, status, "1"), 5)  # never sooner than the schedule
    assert _next_wait(1, status, "99999999") == MAX_RETRY_AFTER
    assert within_jitter(_next_wait(1, status, "Wed, 21 Oct 2015 07:28:00 GMT"), 5)


@pytest.mark.usefixtures("settings")
def test_retry_after_is_ignored_on_other_statuses():
    assert within_jitter(_next_wait(1, 500, "60"), 5)
