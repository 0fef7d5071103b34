"""Password hashing and policy, and the hash single-use tokens are stored as.

Hashes use the configured werkzeug method (scrypt, memory-hard, in production); a hash made
with other parameters is upgraded at the next successful login. Verifying against a dummy
hash when the user is unknown keeps login time the same whether or not the account exists.
"""

import hashlib
from functools import cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH, MAX_LENGTH = 8, 128
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"][:10_000])


def _method() -> str:
    return current_app.config["PASSWORD_HASH_METHOD"]


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_method())


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not the password of anyone", method=method)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) spend the same time and fail."""
    if password_hash is None:
        check_password_hash(_dummy_hash(_method()), password)
        return False
    return check_password_hash(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with another method or other parameters."""
    current = _dummy_hash(_method()).split("$", 1)[0]  # e.g. "scrypt:32768:8:1"
    return password_hash.split("$", 1)[0] != current


def token_hash(token: str) -> str:
    """SHA-256 of a random token (a reset link's, a guest cart's): what the database keeps.
    Any text hashes, a lone surrogate included, so a forged token is refused, never a 500."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def password_problem(password: str, *, username: str, email: str) -> str | None:
    """Why this password is refused, or None. Length is checked by the schemas."""
    lowered = password.lower()
    if lowered in (username.lower(), email.lower()):
        return "Must not be your username or email."
    if lowered in COMMON_PASSWORDS:
        return "Is one of the 10,000 most common passwords: choose another."
    return None
