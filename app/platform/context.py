"""Who is acting, and in which request: the edge says so when it knows (a verified token,
the request id it assigned), the domain reads it (the audit log's actor and request id).

Kept on flask.g, so it lasts one request (or one app context: a CLI command, a worker job,
where nobody set it and both are None).
"""

from flask import g, has_app_context


def set_actor(user_id: int | None) -> None:
    g.actor_id = user_id


def actor_id() -> int | None:
    return g.get("actor_id") if has_app_context() else None


def set_request_id(request_id: str) -> None:
    g.request_id = request_id


def request_id() -> str | None:
    return g.get("request_id") if has_app_context() else None
