"""Housekeeping: rows deleted once nobody can use them any more. The worker runs
`prune_expired()` hourly (app.worker) and `flask --app app prune-expired` runs the very same
function, so the two never drift apart."""

from dataclasses import dataclass

from app.auth.services import prune_expired_password_resets, prune_expired_token_families
from app.cart.services import prune_expired_guest_carts
from app.idempotency import prune_expired as prune_expired_keys


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
    """Delete Idempotency-Keys past 24 hours, logins whose refresh token expired, guest carts
    past their lifetime and password reset links past theirs."""
    return Pruned(
        idempotency_keys=prune_expired_keys(),
        logins=prune_expired_token_families(),
        guest_carts=prune_expired_guest_carts(),
        password_resets=prune_expired_password_resets(),
    )
