"""Configuration classes, read from the environment (and from `.env` in the current folder
when present, unless FLASK_SKIP_DOTENV is set, as the test suite sets it: Flask's CLI honours
the same switch).

`APP_ENV` picks the class: development (default), testing or production.
"""

import os
from datetime import timedelta

from dotenv import find_dotenv, load_dotenv

if os.environ.get("FLASK_SKIP_DOTENV", "").strip().lower() not in {"1", "true", "yes", "on"}:
    load_dotenv(find_dotenv(usecwd=True))

# Development-only fallbacks; production refuses to start with these.
DEV_SECRET_KEY = "dev-secret-key-change-me-0123456789abcdef"
DEV_JWT_SECRET_KEY = "dev-jwt-secret-key-change-me-0123456789ab"
MIN_SECRET_LENGTH = 32


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    normalized = value.strip().lower()
    if normalized in {"1", "true", "yes", "on"}:
        return True
    if normalized in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be one of true/false/1/0/yes/no, got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None


def env_floats(name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    """A comma-separated list of non-negative numbers, e.g. "5,300,1800"."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return tuple(float(item) for item in default)
    try:
        numbers = tuple(float(item) for item in value.split(","))
    except ValueError:
        raise ValueError(f"{name} must be comma-separated numbers, got {value!r}") from None
    if any(number < 0 for number in numbers):
        raise ValueError(f"{name} must not hold negative numbers, got {value!r}")
    return numbers


def normalize_database_url(url: str) -> str:
    """Route PostgreSQL URLs to psycopg 3 (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Settings shared by every environment. Values are read when instantiated."""

    DEBUG = False
    TESTING = False

    def __init__(self) -> None:
        self.SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
        self.JWT_SECRET_KEY = os.environ.get("JWT_SECRET_KEY", DEV_JWT_SECRET_KEY)
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(
            seconds=env_int("JWT_ACCESS_TOKEN_EXPIRES_SECONDS", 15 * 60)
        )
        self.JWT_REFRESH_TOKEN_EXPIRES = timedelta(
            seconds=env_int("JWT_REFRESH_TOKEN_EXPIRES_SECONDS", 30 * 24 * 3600)
        )
        # None means "a SQLite file in the instance folder", resolved by create_app.
        url = os.environ.get("DATABASE_URL")
        self.SQLALCHEMY_DATABASE_URI = normalize_database_url(url) if url else None
        # Seconds to wait for a PostgreSQL connection before the request fails.
        self.DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5)
        self.LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
        # Rendered catalog answers each worker keeps (app.api.caching); 0 keeps none.
        self.CATALOG_CACHE_MAX_BYTES = env_int("CATALOG_CACHE_MAX_BYTES", 8 * 1024 * 1024)
        # Catalog search through the database's full-text index (app.catalog.search); false: LIKE.
        self.SEARCH_FULLTEXT = env_bool("SEARCH_FULLTEXT", True)
        # /metrics: open with METRICS_ENABLED, bearer-protected with METRICS_TOKEN, else absent.
        self.METRICS_ENABLED = env_bool("METRICS_ENABLED", False)
        self.METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
        # Rate limits (Flask-Limiter). Redis shares the counts between workers; memory is
        # per worker. Limits are "N per minute;M per hour" strings, tunable per deployment.
        self.RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", self.RATELIMIT_DEFAULT_ON)
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        # The worker's queue without Redis: a SQLite file (None: the database's own, beside
        # it: instance/store.queue.db for the default store; see create_app).
        self.QUEUE_SQLITE_PATH = os.environ.get("QUEUE_SQLITE_PATH") or None
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        # Separates the counts of deployments sharing one Redis.
        self.RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "store")
        self.RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "5 per minute;20 per hour")
        self.RATELIMIT_REGISTER = os.environ.get("RATELIMIT_REGISTER", "5 per minute;20 per hour")
        self.RATELIMIT_WRITES = os.environ.get("RATELIMIT_WRITES", "120 per minute")
        # How many proxies in front of the app set X-Forwarded-For (0: trust none).
        self.TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
        # Outgoing webhooks (app.outbox.deliveries). Private, loopback, link-local and reserved
        # destinations are refused unless allowed (development and tests allow them).
        self.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env_bool(
            "WEBHOOKS_ALLOW_PRIVATE_NETWORKS", self.WEBHOOKS_PRIVATE_DEFAULT
        )
        self.WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10.0)
        # Seconds between attempts; the default is the Standard Webhooks schedule (about
        # three days: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
        self.WEBHOOK_RETRY_SCHEDULE = env_floats(
            "WEBHOOK_RETRY_SCHEDULE", (5, 300, 1800, 7200, 18000, 36000, 36000)
        )
        # The same for outgoing emails and for calls to the payment provider (refunds,
        # cancellations); after the last wait the job is failed (and logged).
        self.EMAIL_RETRY_SCHEDULE = env_floats("EMAIL_RETRY_SCHEDULE", (30, 300, 1800, 7200))
        self.PAYMENT_RETRY_SCHEDULE = env_floats(
            "PAYMENT_RETRY_SCHEDULE", (10, 60, 300, 1800, 7200, 21600)
        )
        # A delivery claimed by a worker that died is claimed again once its lease ends.
        self.OUTBOX_LEASE_SECONDS = env_float("OUTBOX_LEASE_SECONDS", 30.0)
        # How often the worker looks for due work (at most 15 s after it falls due).
        self.OUTBOX_POLL_SECONDS = env_float("OUTBOX_POLL_SECONDS", 1.0)
        # A worker renews its heartbeat this often; one not seen for the max age is reported
        # dead (`flask worker --check`, /readyz, store_worker_heartbeat_age_seconds).
        self.WORKER_HEARTBEAT_SECONDS = env_float("WORKER_HEARTBEAT_SECONDS", 5.0)
        self.WORKER_HEARTBEAT_MAX_AGE_SECONDS = env_float("WORKER_HEARTBEAT_MAX_AGE_SECONDS", 60)
        # Email (Flask-Mail), sent by the worker. Without MAIL_SERVER each message is written
        # to MAIL_FOLDER (None: the database's own, instance/store.mail/ for the default
        # store) as an .eml file and logged instead.
        self.MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
        self.MAIL_PORT = env_int("MAIL_PORT", 25)
        self.MAIL_USE_TLS = env_bool("MAIL_USE_TLS", False)
        self.MAIL_USE_SSL = env_bool("MAIL_USE_SSL", False)
        self.MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
        self.MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "store@localhost")
        self.MAIL_FOLDER = os.environ.get("MAIL_FOLDER") or None
        # Flask-Mail would not send under TESTING; app.outbox.mail decides instead (MAIL_SERVER).
        self.MAIL_SUPPRESS_SEND = False
        self.PASSWORD_RESET_URL = os.environ.get(
            "PASSWORD_RESET_URL", "http://127.0.0.1:5000/reset-password?token={token}"
        )
        self.PASSWORD_RESET_TTL_SECONDS = env_int("PASSWORD_RESET_TTL_SECONDS", 1800)
        # Reset requests: per address asked for, and per client IP.
        self.RATELIMIT_PASSWORD_FORGOT = os.environ.get("RATELIMIT_PASSWORD_FORGOT", "3 per hour")
        self.RATELIMIT_PASSWORD_FORGOT_IP = os.environ.get(
            "RATELIMIT_PASSWORD_FORGOT_IP", "10 per hour"
        )
        # Checkout: the store's currency, and the country whose tax a pickup order pays.
        self.STORE_CURRENCY = os.environ.get("STORE_CURRENCY", "usd").lower()
        self.STORE_COUNTRY = os.environ.get("STORE_COUNTRY", "US").upper()
        # Payments: `manual` (an admin marks orders paid) or `stripe`. STRIPE_API_BASE points
        # the stripe library elsewhere (the tests' fake Stripe server).
        self.PAYMENT_PROVIDER = os.environ.get("PAYMENT_PROVIDER", "manual").lower()
        self.STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY") or None
        self.STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET") or None
        self.STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE") or None
        # An order still unpaid this long after it was placed is cancelled (stock returned).
        self.ORDER_PAYMENT_TIMEOUT_SECONDS = env_int("ORDER_PAYMENT_TIMEOUT_SECONDS", 1800)
        self.CORS_ORIGINS = [
            origin.strip()
            for origin in os.environ.get("CORS_ORIGINS", "").split(",")
            if origin.strip()
        ]

    RATELIMIT_DEFAULT_ON = True
    WEBHOOKS_PRIVATE_DEFAULT = False
    RATELIMIT_HEADERS_ENABLED = True  # X-RateLimit-* and Retry-After
    RATELIMIT_STRATEGY = "moving-window"
    # Redis down: limit per worker in memory and log it, rather than fail every request.
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True

    # hide_parameters: database errors in the logs never show values (hashes, token ids).
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    MAX_CONTENT_LENGTH = 1024 * 1024
    PASSWORD_HASH_METHOD = "scrypt"
    JWT_TOKEN_LOCATION = ["headers"]

    API_TITLE = "Flask Store API"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    API_SPEC_OPTIONS = {
        "info": {
            "description": (
                "E-commerce store: accounts, catalog, cart and orders. Authenticate with "
                "`Authorization: Bearer <access_token>` from `POST /api/auth/login`. Money is a "
                'decimal string with two places (`"19.99"`). Every error is '
                "`application/problem+json` (RFC 9457)."
            ),
        },
        # Relative first: "Try it out" calls whichever host serves the docs.
        "servers": [
            {"url": "/", "description": "This server"},
            {"url": "http://127.0.0.1:5000", "description": "Local (make run)"},
        ],
    }
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    # Assets served by the app itself (app.api.openapi): the docs work offline.
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/api/docs-assets/swagger_ui/"
    OPENAPI_SWAGGER_UI_CONFIG = {
        "persistAuthorization": True,
        "deepLinking": True,
        "displayRequestDuration": True,
        "validatorUrl": None,
    }
    OPENAPI_REDOC_PATH = "redoc"
    OPENAPI_REDOC_URL = "/api/docs-assets/redoc/redoc.standalone.js"

    def validate(self) -> None:
        """Hook for environments that must refuse unsafe settings."""


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = True
    WEBHOOKS_PRIVATE_DEFAULT = True  # a receiver on localhost


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    # Fast hashing keeps the suite quick; production keeps scrypt.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    # Tests log in as the same user many times; the rate-limit tests turn limits on.
    RATELIMIT_DEFAULT_ON = False
    # Receivers run on loopback; the guard's tests turn it back on.
    WEBHOOKS_PRIVATE_DEFAULT = True


class ProductionConfig(Config):
    ENV_NAME = "production"

    def validate(self) -> None:
        problems = []
        for name, dev_value in (
            ("SECRET_KEY", DEV_SECRET_KEY),
            ("JWT_SECRET_KEY", DEV_JWT_SECRET_KEY),
        ):
            value = os.environ.get(name, "")
            if not value or value == dev_value:
                problems.append(f"{name} is not set")
            elif len(value) < MIN_SECRET_LENGTH:
                problems.append(f"{name} must be at least {MIN_SECRET_LENGTH} characters")
        if problems:
            hint = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            raise RuntimeError(
                f"Refusing to start in production: {'; '.join(problems)}. Generate one with: {hint}"
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def get_config(name: str | None = None) -> Config:
    name = (name or os.environ.get("APP_ENV") or "development").strip().lower()
    try:
        config = CONFIGS[name]()
    except KeyError:
        raise RuntimeError(
            f"Unknown APP_ENV {name!r}; expected one of: {', '.join(CONFIGS)}"
        ) from None
    config.validate()
    return config
