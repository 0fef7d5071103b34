"""The payment providers behind one small interface: create a payment for an order, verify a
webhook, refund, cancel. `provider()` is the one PAYMENT_PROVIDER names.

- `manual` (the default): nothing to call; an admin marks orders paid, refunds happen
  outside the store and are recorded as done.
- `stripe`: the official library (app.payments.stripe_provider, imported only then).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from flask import current_app

from app.platform.errors import BadRequest
from app.platform.models import ProviderName

WEBHOOK_TOLERANCE_S = 300


class InvalidWebhook(BadRequest):
    """A webhook whose signature, age or body cannot be trusted (a 400)."""

    def __init__(self, reason: str):
        super().__init__(f"The webhook was refused: {reason}")


class ProviderError(Exception):
    """The provider refused a call or could not be reached; the caller retries later."""


@dataclass(frozen=True)
class Created:
    reference: str
    client_secret: str | None


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"  # money was received
    FAILED = "failed"  # an attempt to pay failed; the payment may be tried again
    OTHER = "other"  # nothing the store acts on


@dataclass(frozen=True)
class PaymentEvent:
    """A provider's verified word about a payment, in the store's terms: each adapter maps
    its own event shapes to this (the generic service never sees them)."""

    id: str  # the provider's event id: an event is applied once
    type: str  # the provider's name for it, kept with the id
    outcome: Outcome
    order_id: int | None  # the order the payment says it is for
    reference: str | None  # the provider's payment (a PaymentIntent's id)
    amount: int | None  # received, in minor units
    currency: str | None


class PaymentProvider(Protocol):
    name: ProviderName

    def create(self, order_id: int, amount: Decimal, currency: str) -> Created | None: ...

    def verify_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        """The event, verified against its signature in `headers` (the request's, as the
        provider sent them): InvalidWebhook when it cannot be trusted."""

    def refund(self, reference: str | None, amount: Decimal | None, currency: str) -> str:
        """Refund `amount` of the payment (None: all of it); the refund's reference."""

    def cancel(self, reference: str | None) -> None: ...


class ManualProvider:
    name = ProviderName.MANUAL

    def create(self, order_id: int, amount: Decimal, currency: str) -> None:
        return None  # paid when an admin says so

    def verify_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        raise InvalidWebhook("The manual provider receives no webhooks.")

    def refund(self, reference: str | None, amount: Decimal | None, currency: str) -> str:
        return ProviderName.MANUAL.value  # the money goes back outside the store

    def cancel(self, reference: str | None) -> None:
        return None


def check_settings(config) -> None:
    """At start-up: a provider that cannot work is refused then, not at the first order."""
    name = config["PAYMENT_PROVIDER"]
    if name not in set(ProviderName):
        choices = ", ".join(ProviderName)
        raise RuntimeError(f"PAYMENT_PROVIDER must be one of {choices}, not {name!r}")
    if name == ProviderName.STRIPE:
        missing = [key for key in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET") if not config[key]]
        if missing:
            raise RuntimeError(f"PAYMENT_PROVIDER=stripe needs {' and '.join(missing)}")


def provider() -> PaymentProvider:
    """The app's provider, made once per app (a Stripe client keeps its connections)."""
    made = current_app.extensions.get("payment_provider")
    if made is None:
        config = current_app.config
        if config["PAYMENT_PROVIDER"] == ProviderName.STRIPE:
            # Imported here: a store on the manual provider never loads the stripe library
            # (about 14 MB in every worker).
            from app.payments.stripe_provider import StripeProvider

            made = StripeProvider(
                config["STRIPE_SECRET_KEY"],
                config["STRIPE_WEBHOOK_SECRET"],
                config["STRIPE_API_BASE"],
            )
        else:
            made = ManualProvider()
        current_app.extensions["payment_provider"] = made
    return made
