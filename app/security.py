"""Transport-level protections: the client address behind proxies, CORS, security headers."""

from flask import Flask, request
from flask_cors import CORS
from werkzeug.middleware.proxy_fix import ProxyFix

# What a browser frontend may read from responses and send with requests.
EXPOSED_HEADERS = [
    "Location",
    "Retry-After",
    "Idempotent-Replayed",
    "X-RateLimit-Remaining",
    "X-Request-ID",
]
ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"]
HSTS = "max-age=31536000; includeSubDomains"


def register_security(app: Flask) -> None:
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Trust exactly that many X-Forwarded-* hops; more would let clients spoof their IP.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    if app.config["CORS_ORIGINS"]:
        CORS(
            app,
            resources={r"/api/*": {"origins": app.config["CORS_ORIGINS"]}},
            expose_headers=EXPOSED_HEADERS,
            allow_headers=ALLOWED_HEADERS,
            max_age=600,
        )
    app.after_request(_security_headers)


def _security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if "Authorization" in request.headers and not response.cache_control.public:
        headers["Cache-Control"] = "no-store"  # a user's data must not sit in shared caches
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response
