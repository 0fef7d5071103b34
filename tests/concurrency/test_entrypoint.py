"""The Docker image's start, run here exactly as the image runs it (no Docker engine on this
machine): `./docker-entrypoint.sh` with the image's environment, on a fresh database. It must
migrate, serve through gunicorn.conf.py, take an order, and on SIGTERM finish the request in
flight before it exits cleanly."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.concurrency.live import PROJECT_ROOT, free_port
from tests.databases import fresh_database

SECRET = "s" * 48
ADMIN_PASSWORD = "entrypoint-admin-42"
SHOPPER = {"username": "shopper", "email": "shopper@example.com", "password": "k9!vR2pw-x"}
METRICS_TOKEN = "t" * 40


@pytest.fixture
def image_env(app, tmp_path):
    """The environment the Dockerfile sets, plus what an operator passes to `docker run`."""
    with fresh_database(tmp_path, "store_image") as url:
        yield {
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "FLASK_SKIP_DOTENV": "1",  # the image has no .env (.dockerignore); this folder may
            "APP_ENV": "production",
            "PORT": str(free_port()),
            "WEB_CONCURRENCY": "2",
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET,
            "JWT_SECRET_KEY": SECRET[::-1] + "j",
            "METRICS_TOKEN": METRICS_TOKEN,
        }


def run(env, *command, **kwargs):
    return subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60, **kwargs
    )


def start_entrypoint(env, log):
    """`./docker-entrypoint.sh` as the image's ENTRYPOINT runs it, output to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            ["./docker-entrypoint.sh"], cwd=PROJECT_ROOT, env=env, stdout=out, stderr=out
        )


def wait_for_answer(url, process, log, *, until=lambda response: True):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            response = requests.get(url, timeout=1)
            if until(response):
                return response
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no answer from {url}:\n{log.read_text()}")


def wait_ready(base, process, log):
    wait_for_answer(f"{base}/readyz", process, log, until=lambda r: r.status_code == 200)


def place_an_order(base, env):
    created = run(  # a one-off task, as `docker run IMAGE flask ...` runs it
        env, "./docker-entrypoint.sh", "flask", "--app", "app", "create-admin", "--username", "ops",
        "--email", "ops@example.com", "--password", ADMIN_PASSWORD,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr

    def token(username, password):
        body = {"username": username, "password": password}
        response = requests.post(f"{base}/api/auth/login", json=body, timeout=10)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    admin = token("ops", ADMIN_PASSWORD)
    product = requests.post(
        f"{base}/api/products", json={"name": "Mug", "price": "9.50", "stock": 3}, headers=admin
    ).json()
    assert requests.post(f"{base}/api/auth/register", json=SHOPPER).status_code == 201
    customer = token("shopper", SHOPPER["password"])
    line = {"product_id": product["id"], "quantity": 2}
    assert requests.post(f"{base}/api/cart", json=line, headers=customer).status_code == 200
    order = requests.post(f"{base}/api/orders", headers=customer)
    assert order.status_code == 201, order.text
    assert order.json()["total"] == "19.00"


def browse_concurrently(base, times):
    """More clients than workers, so every worker serves some."""

    def browse(_):
        return requests.get(f"{base}/api/products", timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(browse, range(times))) == {200}


def scrape(base):
    response = requests.get(
        f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.text


def test_entrypoint_migrates_serves_and_shuts_down_gracefully(image_env, tmp_path):
    log = tmp_path / "entrypoint.log"
    base = f"http://127.0.0.1:{image_env['PORT']}"
    process = start_entrypoint(image_env, log)
    try:
        wait_ready(base, process, log)
        place_an_order(base, image_env)
        browse_concurrently(base, 60)
        metrics = scrape(base)
        assert requests.get(f"{base}/metrics", timeout=10).status_code == 401

        # A request in flight: headers and half the body now, the rest after SIGTERM.
        body = json.dumps({"username": "shopper", "password": "k9!vR2pw-x"}).encode()
        head = (
            f"POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", int(image_env["PORT"])), timeout=30) as sock:
            sock.sendall(head + body[:10])
            time.sleep(0.5)  # the worker is now reading the body
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            sock.sendall(body[10:])
            answer = sock.makefile("rb").read().decode()

        assert answer.startswith("HTTP/1.1 200"), answer
        assert '"access_token"' in answer
        assert process.wait(timeout=30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines()]  # every line is JSON
    served = [line for line in lines if line["logger"] == "app.request"]
    assert {"method", "path", "status", "duration_ms", "request_id", "user_id"} <= set(served[0])
    assert any(line["path"] == "/api/orders" and line["status"] == 201 for line in served)
    assert not any(secret in text for secret in (ADMIN_PASSWORD, SHOPPER["password"]))

    # /metrics adds up every worker's samples, whichever worker answers the scrape.
    browsed = [
        line for line in served if (line["method"], line["path"]) == ("GET", "/api/products")
    ]
    assert len({line["pid"] for line in browsed}) == int(image_env["WEB_CONCURRENCY"])
    series = 'method="GET",status="200",url_rule="/api/products"'
    assert f"flask_http_request_duration_seconds_count{{{series}}} 60.0" in metrics.splitlines()
    assert "store_orders_placed_total 1.0" in metrics.splitlines()


def test_entrypoint_skips_migrations_when_told(image_env, tmp_path):
    """RUN_MIGRATIONS=0: the schema is someone else's job (e.g. a release step); the server
    is not ready until that job has run."""
    env = {**image_env, "RUN_MIGRATIONS": "0"}
    base = f"http://127.0.0.1:{env['PORT']}"
    log = tmp_path / "entrypoint.log"
    process = start_entrypoint(env, log)
    try:
        assert wait_for_answer(f"{base}/readyz", process, log).status_code == 503
        assert "(head)" not in run(env, "flask", "--app", "app", "db", "current").stdout
        assert run(env, "flask", "--app", "app", "db", "upgrade").returncode == 0
        wait_ready(base, process, log)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_entrypoint_runs_the_worker_until_sigterm(image_env, tmp_path):
    """`docker run IMAGE worker`: the background worker, on the image's environment; SIGTERM
    lets it finish what it holds and exit 0."""
    migrated = run(image_env, "./docker-entrypoint.sh", "flask", "--app", "app", "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    env = {**image_env, "QUEUE_SQLITE_PATH": str(tmp_path / "queue.db")}
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["./docker-entrypoint.sh", "worker"], cwd=PROJECT_ROOT, env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 30
        while "app.worker.pump" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()
