"""The audit log: one append-only entry for every staff write, in the write's transaction.

A service calls `record()` inside its `transaction()`, once the change is made: the entry
commits with the change or not at all, so a refused or failed write leaves none. An entry
names the actor (the signed-in user of the request; none for the worker), the action, the
target, the request id and the fields that changed, each with its old and new value, read
from the ORM objects by `state()`. Secrets and password hashes are never written: a changed
secret is listed with "[redacted]" on both sides. A field that may carry one (a webhook's URL,
with credentials or a token in it) is written as the caller's `shown` function shows it; a
change is decided on the real values, so a change of the hidden part alone still shows.
Nothing updates or deletes entries.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from enum import Enum

from sqlalchemy import inspect, select

from app.platform import context
from app.platform.db import db
from app.platform.models import AuditAction, AuditEntry
from app.platform.pages import paginate

REDACTED = "[redacted]"
SECRET_FIELDS = frozenset({"password_hash", "secret", "previous_secret", "token_hash"})
# Kept by the server, never edited by anyone: not part of a change.
UNTRACKED_FIELDS = frozenset({"id", "created_at", "updated_at", "search_vector"})
_NOT_IN_STATE = UNTRACKED_FIELDS | SECRET_FIELDS


def state(obj, **extra) -> dict:
    """The audited fields of an ORM object as JSON values, and `extra` ones."""
    names = [
        attribute.key
        for attribute in inspect(type(obj)).column_attrs
        if attribute.key not in _NOT_IN_STATE and not attribute.deferred
    ]
    values = {name: getattr(obj, name) for name in names} | extra
    return {name: _json(value) for name, value in values.items()}


def record(
    action: AuditAction,
    target_id,
    before: dict | None = None,
    after: dict | None = None,
    *,
    secrets_changed: tuple[str, ...] = (),
    shown: dict[str, Callable] | None = None,
) -> AuditEntry:
    """Add the entry for `action` on `target_id` to the current transaction. `before` and
    `after` are `state()`s (None for a creation or a deletion): the fields that differ are
    kept; `secrets_changed` names secrets that changed, without their values; `shown` maps a
    field to how its values are written."""
    before, after = before or {}, after or {}
    shown = shown or {}

    def show(name, value):
        return shown[name](value) if name in shown and value is not None else value

    changes = {
        name: {"old": show(name, before.get(name)), "new": show(name, after.get(name))}
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    }
    changes |= {name: {"old": REDACTED, "new": REDACTED} for name in secrets_changed}
    entry = AuditEntry(
        actor_id=context.actor_id(),
        action=action,
        target_type=action.target_type,
        target_id=str(target_id),
        changes=changes,
        request_id=context.request_id(),
    )
    db.session.add(entry)
    return entry


def created(action: AuditAction, obj, **kwargs) -> None:
    """Record a new row (flushed first, for its id): every field is new."""
    db.session.flush()
    record(action, obj.id, after=state(obj), **kwargs)


def deleted(action: AuditAction, obj, **kwargs) -> None:
    """Record a row about to be deleted: every field is old."""
    record(action, obj.id, before=state(obj), **kwargs)


@contextmanager
def updating(action: AuditAction, obj, **kwargs) -> Iterator[None]:
    """Record what the block changes on `obj` (nothing if it raises)."""
    before = state(obj)
    yield
    record(action, obj.id, before, state(obj), **kwargs)


def _json(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    return value


def list_entries(
    page: int,
    per_page: int,
    actor_id: int | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
):
    """Newest first; every filter given must match."""
    stmt = select(AuditEntry)
    for column, value in (
        (AuditEntry.actor_id, actor_id),
        (AuditEntry.action, action),
        (AuditEntry.target_type, target_type),
        (AuditEntry.target_id, target_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return paginate(stmt.order_by(AuditEntry.id.desc()), page, per_page)
