"""Staff management: roles (built-in and custom), who holds them, deactivation.

The routes only require staff:write (customers:read to look users up); the rules that keep
anyone from raising himself above the permissions he holds are checked here, on every change,
inside the change's transaction:

- nobody grants a permission he does not hold: the roles he gives, and the custom roles he
  makes or edits, carry only permissions he holds;
- nobody changes a user who holds a permission he does not hold (roles, deactivation), nor
  a custom role that does; the rule is checked on the effect, not the path: editing a role's
  permissions changes the permissions of its holders, so each holder whose permissions
  would change must hold none the editor lacks;
- the last active admin keeps the admin role and stays active. The admin role's row is
  locked first (FOR UPDATE on PostgreSQL; SQLite's write lock is already held), so of two
  concurrent demotions of the last two admins one waits and then sees the other's;
- nobody deactivates himself; built-in roles cannot be changed or deleted.

Nothing is cached: the token check reads the user's roles on every request
(app.accounts.services.live_family), so a change applies to tokens already issued, and
deactivation also ends every login of the user.
"""

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.accounts.identity import fold
from app.accounts.permissions import require_all
from app.accounts.services import end_every_login, end_password_resets
from app.audit import services as audit
from app.platform.db import db, taken, transaction
from app.platform.errors import Conflict, NotFound, ValidationFailed
from app.platform.models import AuditAction, BuiltinRole, Role, User, user_roles
from app.platform.pages import paginate

# --- users ------------------------------------------------------------------------------


def list_users(page: int, per_page: int, q: str | None = None, role: str | None = None):
    stmt = select(User)
    if q:
        key = fold(q)
        stmt = stmt.where(
            func.lower(User.username).contains(key, autoescape=True)
            | User.email.contains(key, autoescape=True)
        )
    if role:
        stmt = stmt.where(User.roles.any(Role.name == role))
    return paginate(stmt.order_by(User.id), page, per_page)


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} was not found.")
    return user


def set_roles(actor: User, user_id: int, names: list[str]) -> User:
    """Give the user exactly these roles."""
    with transaction():
        user = _changeable_user(actor, user_id)
        roles = _roles_named(names)
        granted = {permission for role in roles for permission in role.permissions}
        require_all(actor, granted, "You cannot grant permissions you do not hold")
        if user.is_admin and BuiltinRole.ADMIN not in names:
            _keep_an_admin(user)
        before = {"roles": user.role_names}
        user.roles = roles
        audit.record(AuditAction.USER_SET_ROLES, user_id, before, {"roles": user.role_names})
    return user


def deactivate(actor: User, user_id: int) -> User:
    """The user can no longer sign in, and every login of his ends now."""
    with transaction():
        if user_id == actor.id:
            raise Conflict("You cannot deactivate your own account.")
        user = _changeable_user(actor, user_id)
        if user.is_admin and user.active:
            _keep_an_admin(user)
        audit.record(
            AuditAction.USER_DEACTIVATE, user_id, {"active": user.active}, {"active": False}
        )
        if user.active:
            user.active = False
            end_every_login(user.id)
            end_password_resets(user.id)
    return user


def activate(actor: User, user_id: int) -> User:
    with transaction():
        user = _changeable_user(actor, user_id)
        audit.record(AuditAction.USER_ACTIVATE, user_id, {"active": user.active}, {"active": True})
        user.active = True
    return user


def _changeable_user(actor: User, user_id: int) -> User:
    user = get_user(user_id)
    require_all(actor, user.permissions, f"User {user_id} holds permissions you do not hold")
    return user


def _keep_an_admin(leaving: User) -> None:
    """Conflict unless another active user holds the admin role (see the module docstring)."""
    admin_role = db.session.execute(
        select(Role.id).where(Role.name == BuiltinRole.ADMIN).with_for_update()
    ).scalar_one()
    others = db.session.scalar(
        select(func.count())
        .select_from(user_roles.join(User, User.id == user_roles.c.user_id))
        .where(user_roles.c.role_id == admin_role, User.active, User.id != leaving.id)
    )
    if not others:
        raise Conflict("This is the last active admin: make another admin first.")


def _roles_named(names: Iterable[str]) -> list[Role]:
    wanted = set(names)
    # FOR SHARE: an edit of one of these roles (FOR UPDATE, `_custom_role`) waits for this
    # change to commit and then sees the new holder, or this change sees the edited role.
    roles = db.session.scalars(
        select(Role).where(Role.name.in_(wanted)).order_by(Role.name).with_for_update(read=True)
    ).all()
    unknown = wanted - {role.name for role in roles}
    if unknown:
        raise ValidationFailed({"roles": [f"Unknown role: {', '.join(sorted(unknown))}."]})
    return list(roles)


# --- roles ------------------------------------------------------------------------------

ROLE_NAME_TAKEN = "A role named '{}' already exists."


def list_roles(page: int, per_page: int):
    return paginate(select(Role).order_by(Role.name), page, per_page)


def get_role(name: str, *, lock: bool = False) -> Role:
    stmt = select(Role).where(Role.name == name)
    role = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if role is None:
        raise NotFound(f"Role '{name}' was not found.")
    return role


def create_role(actor: User, name: str, permissions: list[str]) -> Role:
    granted = sorted(set(permissions))
    require_all(actor, granted, "You cannot make a role with permissions you do not hold")
    role = Role(name=name, permissions=granted)
    try:
        with transaction() as session:
            if taken(Role.id, Role.name == name):
                raise Conflict(ROLE_NAME_TAKEN.format(name))
            session.add(role)
            audit.created(AuditAction.ROLE_CREATE, role)
    except IntegrityError:
        raise Conflict(ROLE_NAME_TAKEN.format(name)) from None
    return role


def update_role(actor: User, name: str, changes: dict) -> Role:
    new_name = changes.get("name", name)
    try:
        with transaction():
            role = _custom_role(actor, name)
            with audit.updating(AuditAction.ROLE_UPDATE, role):
                if "permissions" in changes:
                    granted = sorted(set(changes["permissions"]))
                    require_all(actor, granted, "You cannot grant permissions you do not hold")
                    for holder in _changed_holders(role, granted):
                        require_all(
                            actor,
                            holder.permissions,
                            f"Role '{name}' is held by user {holder.id}, whose permissions it "
                            "would change and who holds permissions you do not hold",
                        )
                    role.permissions = granted
                if new_name != name:
                    if taken(Role.id, Role.name == new_name):
                        raise Conflict(ROLE_NAME_TAKEN.format(new_name))
                    role.name = new_name
    except IntegrityError:
        raise Conflict(ROLE_NAME_TAKEN.format(new_name)) from None
    return role


def _changed_holders(role: Role, permissions: list[str]) -> list[User]:
    """The holders of `role` whose permissions would change were it to carry these: a role
    edit is checked on them, as if their roles were changed one by one."""
    holders = db.session.scalars(
        select(User).where(User.roles.any(Role.id == role.id)).order_by(User.id)
    ).all()
    changed = []
    for holder in holders:
        after = {
            permission
            for held in holder.roles
            for permission in (permissions if held.id == role.id else held.permissions)
        }
        if after != set(holder.permissions):
            changed.append(holder)
    return changed


def delete_role(actor: User, name: str) -> None:
    with transaction() as session:
        role = _custom_role(actor, name)
        holders = session.scalar(
            select(func.count()).select_from(user_roles).where(user_roles.c.role_id == role.id)
        )
        if holders:
            raise Conflict(f"Role '{name}' is held by {holders} user(s): take it from them first.")
        audit.deleted(AuditAction.ROLE_DELETE, role)
        session.delete(role)


def _custom_role(actor: User, name: str) -> Role:
    """The role to change, locked (PostgreSQL) until the change commits: its holders cannot
    change meanwhile (see `_roles_named`)."""
    role = get_role(name, lock=True)
    if role.builtin:
        raise Conflict(f"'{name}' is a built-in role: it cannot be changed or deleted.")
    require_all(actor, role.permissions, f"Role '{name}' holds permissions you do not hold")
    return role
