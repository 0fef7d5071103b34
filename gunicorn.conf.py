"""gunicorn settings, read from the environment: `gunicorn -c gunicorn.conf.py "app:create_app()"`.

PORT (8000), WEB_CONCURRENCY (2 x cores + 1), GUNICORN_TIMEOUT (30 s),
GUNICORN_GRACEFUL_TIMEOUT (30 s: in-flight requests finish on SIGTERM), FORWARDED_ALLOW_IPS
(the proxies whose X-Forwarded-* gunicorn trusts; the app's own setting is TRUSTED_PROXIES).
The app writes one JSON line per request (app.api.observability), so gunicorn's access log is off
and its own lines are JSON too. With metrics on (METRICS_ENABLED or METRICS_TOKEN), the
workers share PROMETHEUS_MULTIPROC_DIR so /metrics counts all of them.
"""

import multiprocessing
import os
import shutil
import tempfile

# gunicorn serves production: without APP_ENV it runs the production settings, which refuse
# the development secret keys, rather than silently running development ones.
os.environ.setdefault("APP_ENV", "production")

from config import env_bool

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then (leaks stay bounded); jitter keeps them from restarting at once.
# A restart costs a worker boot, so at high request rates raise it (GUNICORN_MAX_REQUESTS).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "app.api.observability.json_formatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        }
    },
    "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["stdout"], "propagate": False}},
    "root": {"level": "INFO", "handlers": []},
}

_metrics_on = os.environ.get("METRICS_TOKEN") or env_bool("METRICS_ENABLED", False)
if _metrics_on and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Set before any worker imports prometheus_client: it picks its storage on import.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="store-metrics-")


def on_starting(server):
    """Counts left by an earlier run in a reused directory would be added to this run's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
