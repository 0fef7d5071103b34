"""Accounts and tokens: registration, credentials, token issue and revocation."""

from datetime import UTC, datetime

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app.errors import Conflict, Unauthorized
from app.extensions import db, transaction
from app.models import RevokedToken, User

BAD_CREDENTIALS = "Invalid username or password."


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _find_user(identifier: str) -> User | None:
    """By username (case-insensitive) or by email."""
    ident = identifier.strip().lower()
    stmt = select(User).where(or_(func.lower(User.username) == ident, User.email == ident))
    return db.session.scalars(stmt).first()


def _raise_if_taken(username: str, email: str) -> None:
    if db.session.scalar(select(exists().where(func.lower(User.username) == username.lower()))):
        raise Conflict("Username is already taken.")
    if db.session.scalar(select(exists().where(User.email == email))):
        raise Conflict("Email is already registered.")


def register_user(username: str, email: str, password: str, *, is_admin: bool = False) -> User:
    email = email.lower()
    _raise_if_taken(username, email)
    user = User(
        username=username, email=email, password_hash=hash_password(password), is_admin=is_admin
    )
    try:
        with transaction() as session:
            session.add(user)
    except IntegrityError:
        # Lost a race with a concurrent sign-up of the same name.
        raise Conflict("Username or email is already registered.") from None
    return user


def ensure_admin(username: str, email: str, password: str | None) -> tuple[User, bool]:
    """Create an admin, or promote the existing user with that username. Returns (user, created)."""
    user = _find_user(username)
    if user is None:
        if password is None:
            raise ValueError("A password is required to create a new admin.")
        return register_user(username, email, password, is_admin=True), True
    with transaction():
        user.is_admin = True
        if password is not None:
            user.password_hash = hash_password(password)
    return user, False


def authenticate(identifier: str, password: str) -> User:
    user = _find_user(identifier)
    if user is None or not check_password_hash(user.password_hash, password):
        raise Unauthorized(BAD_CREDENTIALS)
    return user


def _access_token_payload(user: User) -> dict:
    lifetime = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {
        "access_token": create_access_token(identity=user),
        "token_type": "Bearer",
        "expires_in": int(lifetime.total_seconds()),
    }


def login(identifier: str, password: str) -> dict:
    user = authenticate(identifier, password)
    return {**_access_token_payload(user), "refresh_token": create_refresh_token(identity=user)}


def refresh(user: User) -> dict:
    return _access_token_payload(user)


def revoke_token(jwt_payload: dict) -> None:
    expires_at = datetime.fromtimestamp(jwt_payload["exp"], UTC)
    with transaction() as session:
        if session.get(RevokedToken, jwt_payload["jti"]) is None:
            session.add(
                RevokedToken(
                    jti=jwt_payload["jti"], user_id=int(jwt_payload["sub"]), expires_at=expires_at
                )
            )


def is_token_revoked(jti: str) -> bool:
    return db.session.scalar(select(exists().where(RevokedToken.jti == jti)))
