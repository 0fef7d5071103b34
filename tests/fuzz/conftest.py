"""Schemathesis against the committed openapi.json, in-process through the WSGI app.

The document is the committed file (what frontends and Postman import); test_openapi.py
proves it is what the app serves. Budget: FUZZ_EXAMPLES per operation and role (default 50,
`make fuzz` raises it), with a fixed seed so a run is reproducible.
"""

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

SPEC = Path(__file__).resolve().parents[2] / "openapi.json"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
SEED = int(os.environ.get("FUZZ_SEED", "20261125"))

schema = schemathesis.openapi.from_path(
    SPEC,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # Anonymous means no Authorization header at all, not a made-up one.
            "generation": {"with-security-parameters": False},
        }
    ),
)


class SessionApp:
    """A WSGI callable forwarding to the test session's app (made later, by a fixture)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


# Every request, the checks' own probes included, goes to the app in-process.
schema.app = SessionApp()

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def _bind_app(app):
    schema.app.app = app


@pytest.fixture
def shop(make_product):
    """Something for the fuzzer to find: products 1-3 (ids restart with every test)."""
    for _ in range(3):
        make_product(stock=50)
