"""A real worker's heartbeat: `flask --app app worker --check` (the worker container's health
check) passes while a worker runs, fails once it has been killed (SIGKILL: it says no
goodbye), and passes again when a new one starts; /readyz tells the same."""

import os
import subprocess
import sys
import time

from tests.concurrency.worker import PROJECT_ROOT

BEAT = "0.3"  # WORKER_HEARTBEAT_SECONDS of the worker under test
MAX_AGE = "3"  # WORKER_HEARTBEAT_MAX_AGE_SECONDS of the check


def check(database_url: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "WORKER_HEARTBEAT_MAX_AGE_SECONDS": MAX_AGE,
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--check"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def check_until(database_url: str, returncode: int, within: float) -> str:
    """Run the check until it exits with `returncode`; its output line."""
    deadline = time.monotonic() + within
    while True:
        result = check(database_url)
        if result.returncode == returncode:
            return result.stdout
        assert time.monotonic() < deadline, (result.returncode, result.stdout, result.stderr)
        time.sleep(0.5)


def test_the_check_follows_a_worker_started_killed_and_restarted(
    start_worker, database_url, client
):
    assert check(database_url).stdout == "No worker has ever been seen.\n"

    worker = start_worker(WORKER_HEARTBEAT_SECONDS=BEAT)
    assert check_until(database_url, 0, within=30).startswith("A worker was seen ")
    assert client.get("/readyz").get_json()["worker"]["last_seen_seconds"] < float(MAX_AGE)

    worker.kill()
    dead = check_until(database_url, 1, within=30)
    assert dead.startswith("The last worker was seen ")
    assert dead.endswith(f" s ago (more than {MAX_AGE} s).\n")
    assert client.get("/readyz").get_json()["worker"]["last_seen_seconds"] > float(MAX_AGE)

    start_worker(WORKER_HEARTBEAT_SECONDS=BEAT)
    assert check_until(database_url, 0, within=30).startswith("A worker was seen ")
