"""Accounts and tokens: registration, credentials, token families, rotation and revocation.

A login starts a token family (models.TokenFamily); its access and refresh tokens carry the
family id. Refreshing rotates the refresh token; presenting a rotated-away one means a copy
leaked, so the whole family is revoked. Logout revokes the family, a password change or reset
every family of the user. A password reset is a single-use token, stored as its SHA-256 and
sent by email through the outbox (app.outbox.mail); it dies when used, with any new password
(`set_password`) and with deactivation (`end_password_resets`).
"""

import secrets
import uuid
from datetime import timedelta

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, get_jti
from sqlalchemy import bindparam, exists, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from app.accounts.identity import (
    MAX_EMAIL_LENGTH,
    InvalidIdentity,
    fold,
    login_key,
    normalize_email,
    normalize_username,
)
from app.accounts.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    token_hash,
    verify_password,
)
from app.outbox.mail import queue_email_to
from app.platform.db import changed, db, transaction, utcnow
from app.platform.errors import Conflict, Unauthorized, ValidationFailed, bad_text
from app.platform.models import BuiltinRole, PasswordReset, Role, TokenFamily, User, user_roles

BAD_CREDENTIALS = "Invalid username or password."
DEACTIVATED = "This account is deactivated: ask the shop's staff to reactivate it."
REFRESH_REFUSED = (
    "This refresh token is no longer valid (already used, or its login ended): sign in again."
)


def _identified_by(identifier: str):
    """By username or by email, compared as sign-up stored them (app.accounts.identity)."""
    key = login_key(identifier)
    return or_(func.lower(User.username) == key, User.email == key)


def find_user(identifier: str) -> User | None:
    return db.session.scalars(select(User).where(_identified_by(identifier))).first()


def find_user_id(identifier: str) -> int | None:
    """The account a name designates, for the login rate limit; None for a name no account
    can have (longer than an address, or text the database cannot take)."""
    if len(identifier) > MAX_EMAIL_LENGTH or bad_text(identifier):
        return None
    return db.session.scalar(select(User.id).where(_identified_by(identifier)).limit(1))


def _raise_if_taken(username: str, email: str) -> None:
    if db.session.scalar(select(exists().where(func.lower(User.username) == fold(username)))):
        raise Conflict("Username is already taken.")
    if db.session.scalar(select(exists().where(User.email == email))):
        raise Conflict("Email is already registered.")


def _check_policy(password: str, username: str, email: str, field: str = "password") -> None:
    problem = password_problem(password, username=username, email=email)
    if problem:
        raise ValidationFailed({field: [problem]})


def register_user(
    username: str, email: str, password: str, *, role: BuiltinRole = BuiltinRole.CUSTOMER
) -> User:
    # The schema already normalised them; callers such as the admin command may not have.
    username = normalize_username(username)
    try:
        email = normalize_email(email)
    except InvalidIdentity as error:
        raise ValidationFailed({"email": [str(error)]}) from None
    _check_policy(password, username, email)
    _raise_if_taken(username, email)
    user = User(username=username, email=email, password_hash=hash_password(password))
    try:
        with transaction() as session:
            user.roles = [builtin_role(role)]
            session.add(user)
    except IntegrityError:
        # Lost a race with a concurrent sign-up of the same name.
        raise Conflict("Username or email is already registered.") from None
    return user


def ensure_admin(username: str, email: str, password: str | None) -> tuple[User, bool]:
    """Create an admin, or promote the existing user with that username. Returns (user, created)."""
    user = find_user(username)
    if user is None:
        if password is None:
            raise ValueError("A password is required to create a new admin.")
        return register_user(username, email, password, role=BuiltinRole.ADMIN), True
    new_hash = None
    if password is not None:
        _check_policy(password, user.username, user.email)
        new_hash = hash_password(password)
    with transaction():
        if not user.is_admin:
            user.roles.append(builtin_role(BuiltinRole.ADMIN))
        user.active = True
        if new_hash is not None:
            # The operator's word: the user's logins stay (a promotion applies to them), but
            # no reset link made for the old password survives it.
            user.password_hash = new_hash
            end_password_resets(user.id)
    return user, False


def builtin_role(name: BuiltinRole) -> Role:
    return db.session.execute(select(Role).where(Role.name == name)).scalar_one()


def authenticate(identifier: str, password: str) -> tuple[User, str | None]:
    """The user, and a new hash of the password when its parameters are outdated; 401 with
    one message whether the name or the password was wrong."""
    user = find_user(identifier)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthorized(BAD_CREDENTIALS)
    if not user.active:
        raise Unauthorized(DEACTIVATED)  # only told to who knows the password
    return user, hash_password(password) if needs_rehash(user.password_hash) else None


# --- tokens ---------------------------------------------------------------------------------


def _token_pair(user: User, family_id: str) -> tuple[dict, str | None]:
    """A fresh access and refresh token of the family, and the refresh token's jti."""
    claims = {"fam": family_id}
    refresh_token = create_refresh_token(identity=user, additional_claims=claims)
    lifetime = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    pair = {
        "access_token": create_access_token(identity=user, additional_claims=claims),
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": int(lifetime.total_seconds()),
    }
    return pair, get_jti(refresh_token)


def issue_tokens(user: User) -> dict:
    """Start a login: a new token family and its first token pair."""
    family_id = str(uuid.uuid4())
    pair, refresh_jti = _token_pair(user, family_id)
    expires_at = utcnow() + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    with transaction() as session:
        session.add(
            TokenFamily(
                id=family_id, user_id=user.id, refresh_jti=refresh_jti, expires_at=expires_at
            )
        )
    return pair


def login(identifier: str, password: str) -> dict:
    """A new login; an outdated hash is replaced in the same transaction. The password is
    checked (and hashed) before it begins: hashing is slow and holds no lock."""
    user, new_hash = authenticate(identifier, password)
    with transaction():
        if new_hash is not None:
            user.password_hash = new_hash
        return issue_tokens(user)


def _revoke(*conditions) -> None:
    with transaction() as session:
        session.execute(
            update(TokenFamily)
            .where(TokenFamily.revoked_at.is_(None), *conditions)
            .values(revoked_at=utcnow())
        )


def refresh(user: User, token: dict) -> dict:
    """Rotate: a new pair for the family; the presented refresh token is spent."""
    pair, refresh_jti = _token_pair(user, token["fam"])
    with transaction() as session:
        # Guarded on the jti presented: of two uses of one refresh token, one wins.
        rotated = changed(
            session.execute(
                update(TokenFamily)
                .where(
                    TokenFamily.id == token["fam"],
                    TokenFamily.refresh_jti == token["jti"],
                    TokenFamily.revoked_at.is_(None),
                )
                .values(refresh_jti=refresh_jti)
            )
        )
    if rotated != 1:
        _revoke(TokenFamily.id == token["fam"])
        raise Unauthorized(REFRESH_REFUSED)
    return pair


# Built once: every authenticated request runs it, and building a select() costs about a
# third of what running it does. Flat outer joins: SQLite would build the nested join a
# joinedload() writes for the whole user_roles table on every request.
LIVE_FAMILY = (
    select(TokenFamily)
    .join(TokenFamily.user)
    .outerjoin(user_roles, user_roles.c.user_id == User.id)
    .outerjoin(Role, Role.id == user_roles.c.role_id)
    .where(TokenFamily.id == bindparam("family"))
    .options(contains_eager(TokenFamily.user).contains_eager(User.roles))
)


def live_family(token: dict) -> TokenFamily | None:
    """The token's login, with its user and his roles (one query), if it is live, else None:
    the token is revoked. A spent refresh token also revokes its family."""
    family = db.session.scalars(LIVE_FAMILY, {"family": token.get("fam") or ""}).unique().first()
    if family is None or family.revoked_at is not None or not family.user.active:
        return None
    if token["type"] == "refresh" and token["jti"] != family.refresh_jti:
        _revoke(TokenFamily.id == family.id)
        return None
    return family


def end_every_login(user_id: int) -> None:
    """Revoke every login of the user (in the caller's transaction, if any)."""
    _revoke(TokenFamily.user_id == user_id)


def logout(token: dict) -> None:
    """End the login the token belongs to: its access and refresh tokens alike."""
    _revoke(TokenFamily.id == token["fam"])


def change_password(user: User, current_password: str, new_password: str) -> dict:
    """Set a new password, end every login of the user, and start a new one."""
    if not verify_password(user.password_hash, current_password):
        raise ValidationFailed({"current_password": ["Is not your current password."]})
    if new_password == current_password:
        raise ValidationFailed({"new_password": ["Must differ from the current password."]})
    _check_policy(new_password, user.username, user.email, field="new_password")
    new_hash = hash_password(new_password)
    # One transaction: the new password never stands beside a login it should have ended.
    with transaction():
        set_password(user, new_hash)
        return issue_tokens(user)


# --- password reset ----------------------------------------------------------------------

RESET_SENT = "If an account has that address, a reset link is on its way."
RESET_REFUSED = "Is not a valid reset token: it is unknown, used or expired. Ask for a new one."


def request_password_reset(email: str) -> dict:
    """Email a single-use reset link to the account with that address, if there is one. The
    answer is the same either way, and so is the work, statement for statement: the user is
    looked up, then both rows are inserted by a select of that user, which inserts nothing
    when there is none, in a transaction that commits either way (no timing tell)."""
    token = secrets.token_urlsafe(32)
    config = current_app.config
    expires_at = utcnow() + timedelta(seconds=config["PASSWORD_RESET_TTL_SECONDS"])
    link = config["PASSWORD_RESET_URL"].format(token=token)
    with transaction() as session:
        found = session.execute(
            select(User.id, User.username).where(User.email == email, User.active)
        ).first()
        user_id, username = found if found is not None else (0, "")
        the_user = select(User).where(User.id == user_id).subquery()
        session.execute(
            insert(PasswordReset).from_select(
                ["user_id", "token_hash", "expires_at"],
                select(
                    the_user.c.id,
                    literal(token_hash(token)),
                    literal(expires_at, PasswordReset.expires_at.type),
                ),
            )
        )
        queue_email_to(
            select(the_user.c.email),
            "Reset your password",
            f"Someone asked to reset the password of {username}.\n\n"
            f"To choose a new one, open this link within "
            f"{config['PASSWORD_RESET_TTL_SECONDS'] // 60} minutes:\n"
            f"{link}\n\nIf it was not you, ignore this email.\n",
        )
    return {"detail": RESET_SENT}


def end_password_resets(user_id: int) -> None:
    """Spend every reset link of the user not used yet (in the caller's transaction): a new
    password, a used link or a deactivation leaves no other link alive."""
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )


def set_password(user: User, password_hash: str) -> None:
    """The user's new password (in the caller's transaction): every login and every reset
    link of the old one ends."""
    user.password_hash = password_hash
    end_every_login(user.id)
    end_password_resets(user.id)


def reset_password(token: str, new_password: str) -> dict:
    """Spend the token, set the password, end every login and every other reset link, and
    start a new login: one transaction. A used, expired or unknown token is a 422 on
    `token`."""
    reset = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == token_hash(token))
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        raise ValidationFailed({"token": [RESET_REFUSED]})
    user = db.session.get_one(User, reset.user_id)
    if not user.active:
        raise ValidationFailed({"token": [RESET_REFUSED]})
    _check_policy(new_password, user.username, user.email, field="new_password")
    new_hash = hash_password(new_password)
    with transaction() as session:
        # Guarded: of two uses of one token, one wins.
        spent = changed(
            session.execute(
                update(PasswordReset)
                .where(
                    PasswordReset.id == reset.id,
                    PasswordReset.used_at.is_(None),
                    PasswordReset.expires_at > utcnow(),
                )
                .values(used_at=utcnow())
            )
        )
        if spent != 1:
            raise ValidationFailed({"token": [RESET_REFUSED]})
        set_password(user, new_hash)
        return issue_tokens(user)
