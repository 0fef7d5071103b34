"""Request guards: checks every request passes before routing reaches a view.

They answer with app.api.problems' problem(); the error definitions themselves live there.
"""

import io

from flask import Flask, request

from app.api.arguments import printable_name
from app.api.problems import problem, problem_from_error
from app.platform.errors import ValidationFailed, bad_text

# The methods that change state: they may carry a body, are rate limited as writes and may
# find the database busy.
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def has_body() -> bool:
    """A Content-Length above 0, or a chunked body (no Content-Length at all)."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    return bool(request.content_length) or chunked


def require_json_body():
    """A body, when present, must be JSON; body-less requests need no Content-Type."""
    if request.method in WRITE_METHODS and has_body() and not request.is_json:
        return problem(415, "The request body must be JSON (Content-Type: application/json).")
    return None


def refuse_unstorable_text():
    """NUL or a lone surrogate in the path or the query string is refused before any view
    can pass it to the database (PostgreSQL cannot hold NUL: a 500 there, a 404 on SQLite).
    The path names no resource (404); a query parameter is named (422)."""
    if bad_text(request.path):
        return problem(404, "The requested URL was not found on the server.")
    errors = {}
    for name, values in request.args.lists():
        for text in (name, *values):
            if reason := bad_text(text):
                errors[printable_name(name)] = [reason]
    return problem_from_error(ValidationFailed(errors)) if errors else None


class ChunkedBodyLimit:
    """WSGI middleware: a chunked body (any Content-Length ignored) is read up to
    MAX_CONTENT_LENGTH + 1 bytes and handed on with its length. werkzeug would cut it at
    the limit silently (a 400 for the truncated JSON); past the limit it answers 413."""

    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ, start_response):
        limit = self.app.config.get("MAX_CONTENT_LENGTH")
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if limit and chunked and environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read(limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ["wsgi.input_terminated"] = False
        return self.wsgi_app(environ, start_response)


def register_guards(app: Flask) -> None:
    app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, app)  # type: ignore[method-assign]
    app.before_request(refuse_unstorable_text)
    app.before_request(require_json_body)
