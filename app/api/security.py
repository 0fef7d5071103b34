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
# Retry-After means "come back later": only a refusal says that. Flask-Limiter adds it to every
# limited response; the X-RateLimit-* budget headers stay on all of them, deliberately.
RETRY_AFTER_STATUSES = {429, 503}


def register_security(app: Flask) -> None:
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Trust exactly that many X-Forwarded-* hops; more would let clients spoof their IP.
        # Flask documents wrapping wsgi_app as middleware; typeshed calls it a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    if app.config["CORS_ORIGINS"]:
        CORS(
            app,
            resources={r"/api/*": {"origins": app.config["CORS_ORIGINS"]}},
            expose_headers=EXPOSED_HEADERS,
            allow_headers=ALLOWED_HEADERS,
            max_age=600,
        )
        app.after_request(_vary_on_origin)
    # Registered before the extensions: runs after their hooks (Flask-Limiter's headers).
    app.after_request(_security_headers)


def _vary_on_origin(response):
    """CORS headers depend on Origin (flask-cors adds Vary only for an allowed origin): a
    shared cache must not hand one origin's copy to another."""
    response.vary.add("Origin")
    return response


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    # A user's data (any request with a credential) and anything a write answers (a new
    # cart token, a token pair) must not sit in any cache.
    credentialed = "Authorization" in request.headers or "X-Cart-Token" in request.headers
    if (credentialed or request.method not in SAFE_METHODS) and not response.cache_control.public:
        headers["Cache-Control"] = "no-store"
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if response.status_code not in RETRY_AFTER_STATUSES:
        headers.pop("Retry-After", None)
    if response.status_code == 204:
        # No content: no body, no Content-Type, no Content-Length (RFC 9110 6.4.1, 8.6).
        response.data = b""
        headers.pop("Content-Type", None)
        headers.pop("Content-Length", None)
    return response
