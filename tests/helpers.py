"""Assertions shared by the test modules."""

from sqlalchemy import func, select

PROBLEM_MIMETYPE = "application/problem+json"
PROBLEM_FIELDS = {"type", "title", "status", "detail"}


def assert_problem(response, status: int, *fields: str) -> dict:
    """The response is an RFC 9457 problem with this status, with errors for `fields`."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == PROBLEM_MIMETYPE
    body = response.get_json(force=True)
    expected_keys = PROBLEM_FIELDS | ({"errors"} if status == 422 else set())
    assert set(body) == expected_keys, body
    assert body["status"] == status
    for key in ("type", "title", "detail"):
        assert isinstance(body[key], str) and body[key], body
    if status == 422:
        assert isinstance(body["errors"], dict) and body["errors"], body
    for field in fields:
        messages = body["errors"][field]
        assert isinstance(messages, list) and messages, body
        assert all(isinstance(message, str) and message for message in messages), body
    return body


def count_rows(query, model) -> int:
    return query(lambda session: session.scalar(select(func.count()).select_from(model)))
