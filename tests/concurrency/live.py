"""A real store server for the concurrency suite: gunicorn, 4 workers, a fresh database.

The server runs as production does (APP_ENV=production, `gunicorn "app:create_app()"`). The
test process opens the same database through its own app, to set up users and products and to
inspect the outcome; its tokens are signed with the server's JWT secret.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import flask_migrate
import requests
from flask import Flask

from app import create_app
from app.accounts.services import issue_tokens
from app.catalog.products import create_product
from app.platform.db import db
from app.platform.models import BuiltinRole
from tests.factories import UserFactory, roles_named

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
START_TIMEOUT_S = 30
REQUEST_TIMEOUT_S = 30


@dataclass
class Outcome:
    """What a client saw: a status and JSON body, or status None when the connection was cut."""

    op: str
    status: int | None
    body: dict | None = None
    content_type: str = ""
    retry_after: str | None = None


def call(http: requests.Session, method: str, url: str, op: str, **kwargs) -> Outcome:
    try:
        response = http.request(method, url, timeout=REQUEST_TIMEOUT_S, **kwargs)
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
        # Cut before or while the answer came (a worker killed mid-response).
        return Outcome(op, None)
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = {"raw": response.text[:500]}
    return Outcome(
        op,
        response.status_code,
        body,
        response.headers.get("Content-Type", ""),
        response.headers.get("Retry-After"),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    """Live child processes of `pid`, read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, IndexError):
            continue
        if int(ppid) == pid and state != "Z":
            children.append(int(stat.parent.name))
    return children


class LiveStore:
    def __init__(self, database_url: str, log_path: Path, **env: str):
        self.database_url = database_url
        self.log_path = log_path
        jwt_secret = secrets.token_urlsafe(48)
        self.app: Flask = create_app(
            {"SQLALCHEMY_DATABASE_URI": database_url, "JWT_SECRET_KEY": jwt_secret}
        )
        self.base_url = f"http://127.0.0.1:{free_port()}"
        self._env = {
            **os.environ,
            "APP_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "JWT_SECRET_KEY": jwt_secret,
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.process: subprocess.Popen | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        with self.app.app_context():
            flask_migrate.upgrade()
            db.engine.dispose()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(WORKERS),
            "--bind",
            self.base_url.removeprefix("http://"),
            "--graceful-timeout",
            "5",
            "app:create_app()",
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=self._env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log_tail()}")
            try:
                ready = requests.get(self.url("/readyz"), timeout=2).status_code == 200
            except requests.RequestException:  # not listening yet, or workers still booting
                ready = False
            if ready and len(self.worker_pids()) == WORKERS:
                return
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn was not ready in {START_TIMEOUT_S}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with self.app.app_context():
            db.engine.dispose()

    def worker_pids(self) -> list[int]:
        return _children(self.process.pid)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    # --- set-up, straight into the database ---------------------------------------------------

    def url(self, path: str) -> str:
        return self.base_url + path

    def users(self, count: int, *, admin: bool = False) -> list[SimpleNamespace]:
        with self.app.app_context():
            role = BuiltinRole.ADMIN if admin else BuiltinRole.CUSTOMER
            made = [UserFactory(roles=roles_named(role)) for _ in range(count)]
            return [
                SimpleNamespace(
                    id=user.id,
                    headers={"Authorization": f"Bearer {issue_tokens(user)['access_token']}"},
                )
                for user in made
            ]

    def product(self, stock: int, price: str = "19.99", name: str | None = None) -> int:
        with self.app.app_context():
            data = {"name": name or f"Item {secrets.token_hex(3)}", "price": Decimal(price)}
            return create_product({**data, "stock": stock}).id

    def add_to_cart(self, headers: dict, product_id: int, quantity: int = 1) -> Outcome:
        with requests.Session() as http:
            body = {"product_id": product_id, "quantity": quantity}
            return call(http, "POST", self.url("/api/cart"), "add", json=body, headers=headers)

    def query(self, fn):
        """Run fn(session) against the server's database."""
        with self.app.app_context():
            return fn(db.session)
