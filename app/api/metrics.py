"""Prometheus metrics at `GET /metrics` (prometheus-flask-exporter).

Off unless `METRICS_ENABLED` is true (open: scrape it from inside the network) or
`METRICS_TOKEN` is set (then it needs `Authorization: Bearer <token>`). Under gunicorn,
gunicorn.conf.py sets `PROMETHEUS_MULTIPROC_DIR` so every worker's counts are summed.

The outbox is measured from the database at each scrape (OutboxCollector), so what the
background workers did shows whichever process answers: the backlog, the age of the oldest
due work, and delivery attempts by outcome.
"""

import hmac
import math
import os
from functools import wraps

from flask import Flask, request
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from prometheus_flask_exporter import PrometheusMetrics
from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

from app.api.problems import problem
from app.ordering.counters import CHECKOUT_CONFLICTS, ORDERS_PLACED

BUSINESS_METRICS = (ORDERS_PLACED, CHECKOUT_CONFLICTS)


class OutboxCollector(Collector):
    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        from app.outbox.deliveries import attempt_outcomes, backlog
        from app.outbox.heartbeat import last_seen_seconds

        with self.app.app_context():
            waiting, oldest = backlog()
            outcomes = attempt_outcomes()
            worker_age = last_seen_seconds()
        yield GaugeMetricFamily(
            "store_worker_heartbeat_age_seconds",
            "Seconds since a background worker last showed it is alive (+Inf: never seen)",
            value=math.inf if worker_age is None else worker_age,
        )
        yield GaugeMetricFamily(
            "store_outbox_backlog",
            "Events not yet dispatched plus webhook deliveries not yet delivered",
            value=waiting,
        )
        yield GaugeMetricFamily(
            "store_outbox_oldest_due_age_seconds",
            "How long the oldest due event or delivery has waited (0 when none)",
            value=oldest,
        )
        attempts = CounterMetricFamily(
            "store_webhook_attempts", "Webhook delivery attempts by outcome", labels=["outcome"]
        )
        for outcome, count in sorted(outcomes.items()):
            attempts.add_metric([outcome], count)
        yield attempts


def init_metrics(app: Flask) -> None:
    token = app.config["METRICS_TOKEN"]
    if not (app.config["METRICS_ENABLED"] or token):
        return
    # Labelled by route template (/api/orders/<int:order_id>), not by path: bounded series.
    options = {"group_by": "url_rule", "metrics_decorator": _require_token(token)}
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every process writes its samples to that directory; /metrics reads them all.
        exporter = GunicornInternalPrometheusMetrics(app=None, **options)
    else:
        # A registry per app: several apps in one process (tests) each count their own.
        exporter = PrometheusMetrics(app=None, registry=CollectorRegistry(), **options)
        for metric in BUSINESS_METRICS:
            exporter.registry.register(metric)
    exporter.registry.register(OutboxCollector(app))
    exporter.init_app(app)


def _require_token(token: str | None):
    def decorator(view):
        if not token:
            return view

        @wraps(view)
        def guarded(*args, **kwargs):
            sent = request.headers.get("Authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
                return problem(
                    401,
                    "The metrics need the bearer token set in METRICS_TOKEN.",
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
            return view(*args, **kwargs)

        return guarded

    return decorator
