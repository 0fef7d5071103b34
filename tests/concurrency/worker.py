"""A real background worker (`flask --app app worker`) and a real webhook receiver on
loopback that verifies every signature with the `standardwebhooks` package."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Short waits so the suite stays quick: retries 0.3 s apart, a lease of 2 s, polls every 0.2 s.
WORKER_SETTINGS = {
    "WEBHOOK_RETRY_SCHEDULE": "0.3,0.3,0.3",
    "WEBHOOK_TIMEOUT_SECONDS": "1",
    "OUTBOX_LEASE_SECONDS": "2",
    "OUTBOX_POLL_SECONDS": "0.2",
}


class Worker:
    """The worker process on the test database; `kill()` is SIGKILL, `stop()` SIGTERM."""

    def __init__(self, database_url: str, queue_path: Path, log_path: Path, **env: str):
        self.env = {
            **os.environ,
            "APP_ENV": "testing",
            "DATABASE_URL": database_url,
            "QUEUE_SQLITE_PATH": str(queue_path),
            **WORKER_SETTINGS,
            **env,
        }
        if "REDIS_URL" not in env:
            self.env.pop("REDIS_URL", None)  # the SQLite queue unless a test asks for Redis
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker", "--threads", "4"],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@dataclass
class Received:
    path: str
    headers: dict
    body: dict
    verified_with: list[str]


@dataclass
class Receiver:
    """Answers each path with the statuses queued for it (then 200); records every request
    with the secrets whose signature it carried. A step may also be ("sleep", s): answer 200
    after s seconds; ("trickle", s): a status line, then a byte of headers every 0.2 s for s
    seconds; ("flood", n): 200 with a body of n bytes."""

    secrets: dict[str, list[str]] = field(default_factory=dict)  # path -> secrets to try
    plans: dict[str, list] = field(default_factory=dict)  # path -> [status or (kind, arg)]
    received: list[Received] = field(default_factory=list)
    flooded: list[int] = field(default_factory=list)  # bytes each flood got out

    def __post_init__(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                plan = receiver.plans.get(self.path) or []
                step = plan.pop(0) if plan else 200
                headers = {key.lower(): value for key, value in self.headers.items()}
                verified = []
                for secret in receiver.secrets.get(self.path, []):
                    try:
                        Webhook(secret).verify(raw, headers)
                        verified.append(secret)
                    except WebhookVerificationError:
                        pass
                receiver.received.append(Received(self.path, headers, json.loads(raw), verified))
                if isinstance(step, tuple) and step[0] == "trickle":
                    self.trickle(step[1])
                    return
                if isinstance(step, tuple) and step[0] == "flood":
                    self.flood(step[1])
                    return
                if isinstance(step, tuple):  # ("sleep", seconds): a receiver that hangs
                    time.sleep(step[1])
                    step = 200
                self.send_response(step)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def trickle(self, seconds: float) -> None:
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                until = time.monotonic() + seconds
                try:
                    while time.monotonic() < until:
                        self.wfile.write(b"X")
                        self.wfile.flush()
                        time.sleep(0.2)
                except OSError:
                    pass  # the sender hung up: what it should do
                self.close_connection = True

            def flood(self, size: int) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                chunk, written = b"x" * 65536, 0
                try:
                    for _ in range(size // len(chunk)):
                        self.wfile.write(chunk)
                        written += len(chunk)
                except OSError:
                    pass  # the sender hung up
                receiver.flooded.append(written)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def at(self, path: str) -> list[Received]:
        return [request for request in self.received if request.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for(predicate, timeout: float = 20.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
