"""gunicorn settings, read from the environment: `gunicorn -c gunicorn.conf.py "app:create_app()"`.

PORT (8000), WEB_CONCURRENCY (2 x cores + 1), GUNICORN_TIMEOUT (30 s),
GUNICORN_GRACEFUL_TIMEOUT (30 s: in-flight requests finish on SIGTERM), FORWARDED_ALLOW_IPS
(the proxies whose X-Forwarded-* gunicorn trusts; the app's own setting is TRUSTED_PROXIES).
"""

import json
import multiprocessing
import os
from datetime import UTC, datetime

from gunicorn.glogging import Logger

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then (leaks stay bounded); jitter keeps them from restarting at once.
max_requests = 1000
max_requests_jitter = 100
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"


class JsonAccessLogger(Logger):
    """One JSON line per request on stdout; query strings and headers other than the
    request id stay out (they may carry tokens)."""

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        response_headers = dict((name.lower(), value) for name, value in resp.headers)
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "type": "access",
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": resp.status_code,
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "bytes": getattr(resp, "sent", None),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "request_id": response_headers.get("x-request-id"),
        }
        self.access_log.info(json.dumps(line))


logger_class = JsonAccessLogger
