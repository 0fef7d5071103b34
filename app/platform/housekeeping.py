"""Housekeeping: rows deleted once nobody can use them any more. The worker runs
`prune_expired()` hourly (app.worker) and `flask --app app prune-expired` runs the very same
function, so the two never drift apart."""

from dataclasses import dataclass

from app.platform.db import delete_expired
from app.platform.models import GuestCart, IdempotencyKey, PasswordReset, TokenFamily


@dataclass(frozen=True)
class Pruned:
    idempotency_keys: int
    logins: int
    guest_carts: int
    password_resets: int

    def __str__(self) -> str:
        return (
            f"Deleted {self.idempotency_keys} expired idempotency key(s), {self.logins} "
            f"expired login(s), {self.guest_carts} expired guest cart(s) and "
            f"{self.password_resets} expired password reset link(s)."
        )


def prune_expired() -> Pruned:
    """Delete Idempotency-Keys past their 24 hours, logins (token families) whose refresh
    token expired, guest carts past their lifetime (their lines with them) and password reset
    links past theirs, used or not."""
    return Pruned(
        idempotency_keys=delete_expired(IdempotencyKey),
        logins=delete_expired(TokenFamily),
        guest_carts=delete_expired(GuestCart),
        password_resets=delete_expired(PasswordReset),
    )
