"""`Idempotency-Key` for unsafe requests, with the semantics Stripe documents.

The key is scoped to the user and kept 24 hours in the database, so every worker sees it:
- same key, same request (user, method, path, body): the stored response is replayed with
  `Idempotent-Replayed: true`;
- same key, another request: 422; same key while the first one runs: 409;
- 4xx answers are stored and replayed; a 5xx is not stored, so the client may retry.

The claim is committed first (so concurrent duplicates see it). Then the view runs inside
one transaction() that also stores its response: the service's own transaction() becomes a
savepoint of it, so the work and the stored response commit together (a crash leaves both
or neither), and what the service defers with after_commit() runs only then. A claim left
without a response by a crashed worker is reclaimed once it is older than STALE_AFTER.
"""

import contextlib
import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from flask import Response, g, make_response, request
from flask_jwt_extended import current_user
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from app.api.openapi import error_responses, header_parameter
from app.api.problems import problem_from_error, problem_from_http_exception
from app.platform.db import db, transaction, utcnow
from app.platform.errors import Conflict, StoreError, ValidationFailed
from app.platform.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")
TTL = timedelta(hours=24)
STALE_AFTER = timedelta(minutes=2)
REPLAYED_RESPONSE_HEADERS = ("Location",)

HEADER_DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "description": (
        "Makes a retry safe: a repeated request with the same key (within 24 h) gets the "
        "first response back instead of acting twice. The same key with another body is a "
        "422; while the first request still runs, a 409. Use a new key (a UUID) for each new "
        "request; an empty value is the same as none."
    ),
    "schema": {"type": "string", "maxLength": 255, "pattern": f"^({KEY_PATTERN.pattern})?$"},
    # Empty, not a sample key: Postman imports the example as an enabled header, and one
    # fixed key would make every later request a replay or a 422.
    "example": "",
}


def fingerprint(user_id: int) -> str:
    """Hash of user, method, path and body; JSON bodies are compared by content."""
    body = request.get_data()
    if body:
        # Not JSON (or beyond the parser's limits): compare the raw bytes.
        with contextlib.suppress(ValueError, RecursionError):
            body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    path = request.path.rstrip("/") or "/"
    head = f"{user_id}\n{request.method}\n{path}\n".encode()
    return hashlib.sha256(head + body).hexdigest()


def _replay(record: IdempotencyKey) -> Response:
    response = Response(record.response_body, status=record.response_status)
    response.headers.update(json.loads(record.response_headers or "{}"))
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _claim(user_id: int, key: str, digest: str) -> int | Response:
    """Insert the claim and return its id, or answer from an existing one (replay, 409 or
    422)."""
    for _ in range(3):
        try:
            with transaction() as session:
                return _claim_once(session, user_id, key, digest)
        except IntegrityError:
            continue  # a concurrent request claimed it first: look again
    raise Conflict("A request with this Idempotency-Key is still in progress.")


def _claim_once(session, user_id: int, key: str, digest: str) -> int | Response:
    now = utcnow()
    record = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    )
    if record is not None:
        stale = record.response_status is None and record.created_at < now - STALE_AFTER
        if record.expires_at > now and not stale:
            if record.fingerprint != digest:
                raise ValidationFailed(
                    {HEADER: ["This key was already used for a different request."]}
                )
            if record.response_status is None:
                raise Conflict("A request with this Idempotency-Key is still in progress.")
            return _replay(record)
        session.delete(record)
        session.flush()
    record = IdempotencyKey(user_id=user_id, key=key, fingerprint=digest, expires_at=now + TTL)
    session.add(record)
    session.flush()
    return record.id


def _run(view, args, kwargs) -> Response:
    try:
        return make_response(view(*args, **kwargs))
    except StoreError as error:
        return problem_from_error(error)
    except HTTPException as error:
        return problem_from_http_exception(error)


def _store(record_id: int, response: Response) -> None:
    record = db.session.get_one(IdempotencyKey, record_id)
    record.response_status = response.status_code
    record.response_body = response.get_data()
    headers = {"Content-Type": response.headers.get("Content-Type")}
    headers.update(
        {h: response.headers[h] for h in REPLAYED_RESPONSE_HEADERS if h in response.headers}
    )
    record.response_headers = json.dumps(headers)


def _release(record_id: int) -> None:
    with transaction() as session:
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == record_id))


class _NotStored(Exception):
    """A 5xx from the view: its transaction rolls back and the claim is released."""

    def __init__(self, response: Response):
        self.response = response


def answer_after_commit(answer: Callable[[], object]) -> None:
    """For a view whose answer gains something once its transaction has committed (a new
    order's payment client secret): under an Idempotency-Key the view runs inside the
    transaction that stores its response, so the response is made again from `answer()`
    after that commit, and stored again. Without a key the view's own answer already has it."""
    g.idempotency_answer_after_commit = answer


def idempotent(view):
    """Honour an Idempotency-Key header on this (authenticated) route."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        # Keys are kept per signed-in user; a guest's cart (X-Cart-Token) has none.
        if not key or "Authorization" not in request.headers:
            return view(*args, **kwargs)
        if not KEY_PATTERN.fullmatch(key):
            raise ValidationFailed({HEADER: ["Must be 1 to 255 printable ASCII characters."]})
        claimed = _claim(current_user.id, key, fingerprint(current_user.id))
        if isinstance(claimed, Response):
            return claimed
        try:
            with transaction():
                response = _run(view, args, kwargs)
                if response.status_code >= 500:
                    raise _NotStored(response)
                _store(claimed, response)
        except _NotStored as failed:
            _release(claimed)
            return failed.response
        except BaseException:
            _release(claimed)
            raise
        if (answer := g.pop("idempotency_answer_after_commit", None)) is not None:
            response = make_response(answer())
            with transaction():
                _store(claimed, response)
        return response

    return header_parameter(HEADER_DOC)(error_responses(409, 422)(wrapper))
