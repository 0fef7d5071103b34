"""Benchmark fixtures: a database loaded like a store in business, the real server on it,
and the SQL of one checkout captured from the app for the database ceiling."""

import os
import random
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import requests
from sqlalchemy import event, insert, select, text

from tests.databases import postgres_database

ROOT = Path(__file__).resolve().parent.parent
PYTHON_BIN = Path(sys.executable).parent
SECRET = "bench-secret-key-" + "s" * 32
JWT_SECRET = "bench-jwt-secret-" + "j" * 32
POSTGRES_SERVER = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CAPTURE_USER, CAPTURE_PRODUCTS = 900_000_001, (900_000_011, 900_000_012, 900_000_013)
BIG_STOCK = 100_000_000
# Transaction ends, as captured: the replay commits or rolls back there.
COMMIT, ROLLBACK = "-- commit", "-- rollback"


def server_env(database_url: str, port: int, workers: int, **extra) -> dict:
    """The production environment, with rate limits off (they would cap the load). The server
    logs each request at INFO, as production does (into the server's log file)."""
    return {
        **os.environ,
        "PATH": f"{PYTHON_BIN}:{os.environ['PATH']}",
        "APP_ENV": "production",
        "SECRET_KEY": SECRET,
        "JWT_SECRET_KEY": JWT_SECRET,
        "JWT_ACCESS_TOKEN_EXPIRES_SECONDS": "7200",
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "RATELIMIT_ENABLED": "false",
        "LOG_LEVEL": "INFO",
        **extra,
    }


@contextmanager
def database(engine: str, folder: Path):
    """An empty database of that engine; a PostgreSQL one is dropped afterwards."""
    if engine == "sqlite":
        yield f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        return
    with postgres_database(POSTGRES_SERVER, "bench") as url:
        yield url


def run(env: dict, *command: str) -> None:
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def prepare(url: str, products: int, customers: int, orders_each: int, buyers: int) -> dict:
    """Migrate, seed the catalog, add customers with order history, and the buyers the load
    uses (each with a token and three products of its own). Returns what the Lua script needs."""
    env = server_env(url, 0, 1)
    run(env, "flask", "--app", "app", "db", "upgrade")
    run(env, "python", "seed_data.py", "--products", str(products),
        "--admin-password", "bench-admin-password-1")  # fmt: skip
    os.environ.update({k: env[k] for k in ("APP_ENV", "SECRET_KEY", "JWT_SECRET_KEY")})
    os.environ["JWT_ACCESS_TOKEN_EXPIRES_SECONDS"] = "7200"
    from app import create_app
    from app.accounts.passwords import hash_password
    from app.accounts.services import issue_tokens
    from app.platform.db import db
    from app.platform.models import (
        BuiltinRole,
        Order,
        OrderItem,
        OrderStatusChange,
        Product,
        Role,
        User,
        user_roles,
    )
    from seed_data import analyze

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    rng = random.Random(7)
    with app.app_context():
        catalog = db.session.execute(
            select(Product.id, Product.name, Product.price).where(Product.is_active)
        ).all()
        password = hash_password("bench-password-1")
        db.session.execute(
            insert(User),
            [
                {"username": f"bench{i}", "email": f"bench{i}@example.com",
                 "password_hash": password}
                for i in range(customers)
            ],
        )  # fmt: skip
        user_ids = list(
            db.session.scalars(
                select(User.id).where(User.username.like("bench%")).order_by(User.id)
            )
        )
        customer = db.session.scalar(select(Role.id).where(Role.name == BuiltinRole.CUSTOMER))
        db.session.execute(
            insert(user_roles), [{"user_id": user_id, "role_id": customer} for user_id in user_ids]
        )
        _order_history(db, rng, catalog, user_ids, orders_each, Order, OrderItem,
                       OrderStatusChange)  # fmt: skip
        buyer_products = _buyer_products(db, Product, buyers * 3)
        tokens = [
            issue_tokens(db.session.get(User, user_id))["access_token"]
            for user_id in user_ids[:buyers]
        ]
        db.session.commit()
        analyze()  # statistics for the customers and orders just loaded
    db_dispose(app)
    return {
        "tokens": tokens,
        "products": [buyer_products[i * 3 : i * 3 + 3] for i in range(buyers)],
        "detail_ids": [row.id for row in catalog[:2000]],
        "logins": [f"bench{i}" for i in range(buyers)],
    }


def _order_history(db, rng, catalog, user_ids, orders_each, Order, OrderItem, StatusChange):
    orders, items, history = [], [], []
    first_order = (db.session.scalar(text("SELECT max(id) FROM orders")) or 0) + 1
    order_id = first_order
    for user_id in user_ids:
        for _ in range(orders_each):
            lines = rng.sample(catalog, 2)
            total = sum((Decimal(line.price) for line in lines), Decimal("0.00"))
            orders.append({"id": order_id, "user_id": user_id, "status": "delivered",
                           "subtotal": total, "total": total})  # fmt: skip
            items += [
                {"order_id": order_id, "product_id": line.id, "product_name": line.name,
                 "unit_price": line.price, "quantity": 1}
                for line in lines
            ]  # fmt: skip
            history.append({"order_id": order_id, "status": "delivered", "changed_by": None})
            order_id += 1
    for model, rows in ((Order, orders), (OrderItem, items), (StatusChange, history)):
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(model), rows[start : start + 5000])
    if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequence past them
        db.session.execute(text("SELECT setval('orders_id_seq', (SELECT max(id) FROM orders))"))


def _buyer_products(db, Product, count: int) -> list[int]:
    rows = [
        {"name": f"Bench item {i}", "slug": f"bench-item-{i}", "sku": f"BENCH-{i}",
         "price": Decimal("3.50"), "stock": BIG_STOCK, "images": [], "is_active": True}
        for i in range(count)
    ]  # fmt: skip
    db.session.execute(insert(Product), rows)
    return list(
        db.session.scalars(
            select(Product.id).where(Product.sku.like("BENCH-%")).order_by(Product.id)
        )
    )


def db_dispose(app) -> None:
    from app.platform.db import db

    with app.app_context():
        db.engine.dispose()


def capture_checkout(url: str) -> dict:
    """The SQL statements of one checkout as the app sends them (three cart adds and the
    order), captured from the app for a dedicated customer; per request, in order."""
    from app import create_app
    from app.accounts.services import issue_tokens
    from app.platform.db import db
    from app.platform.models import Product, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.session.add(User(id=CAPTURE_USER, username="capture", email="capture@example.com",
                            password_hash="-"))  # fmt: skip
        for product_id in CAPTURE_PRODUCTS:
            db.session.add(Product(id=product_id, name=f"Capture {product_id}",
                                   slug=f"capture-{product_id}", price=Decimal("3.50"),
                                   stock=BIG_STOCK))  # fmt: skip
        db.session.commit()
        token = issue_tokens(db.session.get(User, CAPTURE_USER))["access_token"]
        engine = db.engine
    requests_sql: list[list[tuple]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        requests_sql[-1].append((statement, parameters, executemany))

    def end(marker):
        return lambda conn: requests_sql[-1].append((marker, None, False))

    hooks = {
        "before_cursor_execute": record,
        "commit": end(COMMIT),
        "rollback": end(ROLLBACK),
    }
    for name, hook in hooks.items():
        event.listen(engine, name, hook)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for product_id in CAPTURE_PRODUCTS:
        requests_sql.append([])
        line = {"product_id": product_id, "quantity": 1}
        assert client.post("/api/cart", json=line, headers=headers).status_code == 200
    requests_sql.append([])
    assert client.post("/api/orders", headers=headers).status_code == 201
    for name, hook in hooks.items():
        event.remove(engine, name, hook)
    with app.app_context():
        family = db.session.scalar(
            text("SELECT id FROM token_families WHERE user_id = :u"), {"u": CAPTURE_USER}
        )
        order_id = db.session.scalar(
            text("SELECT id FROM orders WHERE user_id = :u"), {"u": CAPTURE_USER}
        )
    db_dispose(app)
    return {"requests": requests_sql, "family": family, "order_id": order_id}


def ceiling_buyers(url: str, count: int) -> list[dict]:
    """Customers for the database ceiling, each with a live login and three products."""
    from app import create_app
    from app.accounts.services import issue_tokens
    from app.platform.db import db
    from app.platform.models import Product, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    buyers = []
    with app.app_context():
        for i in range(count):
            user = User(username=f"ceiling{i}", email=f"ceiling{i}@example.com", password_hash="-")
            products = [
                Product(name=f"Ceiling {i}-{k}", slug=f"ceiling-{i}-{k}", price=Decimal("3.50"),
                        stock=BIG_STOCK)
                for k in range(3)
            ]  # fmt: skip
            db.session.add_all([user, *products])
            db.session.flush()
            buyers.append({"user": user.id, "products": [p.id for p in products]})
        db.session.commit()
        for buyer in buyers:
            issue_tokens(db.session.get(User, buyer["user"]))
            buyer["family"] = db.session.scalar(
                text("SELECT id FROM token_families WHERE user_id = :u"), {"u": buyer["user"]}
            )
    db_dispose(app)
    return buyers


class Server:
    """gunicorn started as production starts it: `gunicorn -c gunicorn.conf.py APP`."""

    def __init__(self, env: dict, app: str = "app:create_app()", log: Path | None = None):
        self.base = f"http://127.0.0.1:{env['PORT']}"
        self.log = open(log or os.devnull, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            ["gunicorn", "-c", "gunicorn.conf.py", app],
            cwd=ROOT, env=env, stdout=self.log, stderr=self.log,
        )  # fmt: skip
        probe = "/readyz" if app.startswith("app:") else "/api/products"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + probe, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{app} did not start")

    def worker_rss_mb(self) -> list[float]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        sizes = []
        for pid in children.read_text().split():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return sizes

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        self.log.close()
