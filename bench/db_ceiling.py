"""The database ceiling for checkout: the SQL statements the app sends for one checkout
(captured by bench/store.py: three cart adds and the order, with their transaction ends),
replayed straight through the driver (sqlite3 or psycopg) by as many concurrent clients as
the load test has connections, each client its own customer with its own products."""

import multiprocessing
import sqlite3
import time

import psycopg
from sqlalchemy.engine import make_url

from app.outbox.events import new_event_id
from bench.store import CAPTURE_PRODUCTS, CAPTURE_USER, COMMIT, ROLLBACK


def _connect(url: str):
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # What the app's connect hook sets (app/platform/db.py).
        conn = sqlite3.connect(parsed.database, isolation_level=None, timeout=5)
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn
    return psycopg.connect(parsed.set(drivername="postgresql").render_as_string(False))


def _swap(value, mapping):
    if isinstance(value, dict):
        return {key: _swap(item, mapping) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_swap(item, mapping) for item in value)
    if isinstance(value, int | str) and not isinstance(value, bool):
        return mapping.get(value, value)
    return value


def _fresh_event_ids(value):
    """Each replayed checkout writes an order.created event of its own (events.uid is
    unique)."""
    if isinstance(value, dict):
        return {key: _fresh_event_ids(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_fresh_event_ids(item) for item in value)
    if isinstance(value, str) and value.startswith("evt_"):
        return new_event_id()
    return value


def _client(url, captured, buyer, start, deadline, results):
    mapping = {CAPTURE_USER: buyer["user"], captured["family"]: buyer["family"]}
    mapping.update(zip(CAPTURE_PRODUCTS, buyer["products"], strict=True))
    conn = _connect(url)
    latencies, errors = [], 0
    time.sleep(max(0.0, start - time.monotonic()))
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            for statements in captured["requests"]:
                cursor = conn.cursor()
                for statement, parameters, many in statements:
                    if statement in (COMMIT, ROLLBACK):
                        conn.commit() if statement == COMMIT else conn.rollback()
                        continue
                    parameters = _swap(parameters, mapping)
                    if statement.startswith("INSERT INTO events"):
                        parameters = _fresh_event_ids(parameters)
                    if many:
                        cursor.executemany(statement, parameters)
                    else:
                        cursor.execute(statement, parameters)
                    rows = cursor.fetchall() if cursor.description else []
                    if statement.startswith("INSERT INTO orders"):
                        mapping[captured["order_id"]] = rows[0][0]
        except (sqlite3.Error, psycopg.Error):
            conn.rollback()
            errors += 1
            continue
        latencies.append(time.perf_counter() - started)
    conn.close()
    results.put((latencies, errors))


def measure(url: str, captured: dict, buyers: list[dict], duration: float) -> dict:
    """Checkouts per second, p50, p99 and errors with len(buyers) concurrent clients."""
    results = multiprocessing.Queue()
    start = time.monotonic() + 1.0  # every client connected before the clock runs
    deadline = start + duration
    clients = [
        multiprocessing.Process(
            target=_client, args=(url, captured, buyer, start, deadline, results)
        )
        for buyer in buyers
    ]
    for client in clients:
        client.start()
    collected = [results.get(timeout=duration + 60) for _ in clients]
    for client in clients:
        client.join()
    latencies = sorted(lat for lats, _ in collected for lat in lats)
    errors = sum(err for _, err in collected)
    return {
        "rps": len(latencies) / duration,
        "p50_ms": _percentile(latencies, 50) * 1000,
        "p99_ms": _percentile(latencies, 99) * 1000,
        "errors": errors,
        "server_errors": 0,
    }


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(len(values) * pct / 100))]
