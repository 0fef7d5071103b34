"""Permission checks: what a user's roles grant (models.Permission, BUILTIN_ROLES).

`require` is the one check behind every staff route (app.api.auth.decorators) and the few
object rules of the services (staff reading or cancelling another user's order).
"""

from collections.abc import Iterable

from app.platform.errors import MissingPermission
from app.platform.models import Permission, User


def require(user: User, permission: Permission) -> None:
    """MissingPermission (403) unless one of the user's roles grants `permission`."""
    if permission not in user.permissions:
        raise MissingPermission(permission)


def require_all(user: User, permissions: Iterable[str], detail: str) -> None:
    """MissingPermission naming the first (by name) of `permissions` the user lacks."""
    missing = sorted(set(permissions) - user.permissions)
    if missing:
        raise MissingPermission(missing[0], f"{detail} ({', '.join(missing)}).")
