"""The Stripe provider (app.payments.providers): the official library. A PaymentIntent per
order (amount in minor units, the order id in its metadata and as the idempotency key),
webhooks verified with `Stripe-Signature` (tolerance 300 s, either way), refunds and
cancellations of that intent. Imported only when PAYMENT_PROVIDER is stripe."""

import time
from decimal import Decimal
from typing import TYPE_CHECKING

import stripe
from flask import current_app

from app.models import ProviderName
from app.payments.providers import (
    WEBHOOK_TOLERANCE_S,
    Created,
    InvalidWebhook,
    ProviderError,
    minor_units,
)

if TYPE_CHECKING:  # the library's typed parameters (local annotations only)
    from stripe._base_address import BaseAddresses
    from stripe.params import RefundCreateParams


def _timestamp(signature: str | None) -> int:
    """The `t=` of a Stripe-Signature the library has verified (so it has one)."""
    for item in (signature or "").split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return 0


class StripeProvider:
    name = ProviderName.STRIPE

    def __init__(self, secret_key: str, webhook_secret: str, api_base: str | None):
        addresses: BaseAddresses | None = {"api": api_base} if api_base else None
        self.client = stripe.StripeClient(
            secret_key, base_addresses=addresses, max_network_retries=2
        )
        self.webhook_secret = webhook_secret

    def create(self, order_id: int, amount: Decimal, currency: str) -> Created:
        try:
            intent = self.client.v1.payment_intents.create(
                params={
                    "amount": minor_units(amount, currency),
                    "currency": currency,
                    # What localstripe accepts (the field notes); Stripe still takes it,
                    # though its typed parameters no longer list it.
                    "payment_method_types": ["card"],  # type: ignore[typeddict-unknown-key]
                    "metadata": {"order_id": str(order_id)},
                },
                options={"idempotency_key": f"order-{order_id}"},
            )
        except stripe.StripeError as error:
            raise ProviderError(f"Stripe refused the payment intent: {error}") from error
        return Created(intent.id, intent.client_secret)

    def verify_webhook(self, payload: bytes, signature: str | None) -> dict:
        try:
            event = stripe.Webhook.construct_event(
                payload, signature, self.webhook_secret, WEBHOOK_TOLERANCE_S
            )
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise InvalidWebhook(str(error).split("\n")[0]) from None
        # The library refuses old timestamps only; one from the future is as untrustworthy.
        if _timestamp(signature) > time.time() + WEBHOOK_TOLERANCE_S:
            raise InvalidWebhook("Timestamp outside the tolerance zone (in the future)")
        return event.to_dict()

    def refund(self, reference: str | None, amount: Decimal | None, currency: str) -> str:
        params: RefundCreateParams = {}
        if reference is not None:
            params["payment_intent"] = reference
        if amount is not None:  # else all of it
            params["amount"] = minor_units(amount, currency)
        try:
            refund = self.client.v1.refunds.create(
                params=params,
                options={"idempotency_key": f"refund-{reference}"},
            )
        except stripe.StripeError as error:
            raise ProviderError(f"Stripe refused the refund: {error}") from error
        return refund.id

    def cancel(self, reference: str | None) -> None:
        if reference is None:
            return
        try:
            self.client.v1.payment_intents.cancel(reference)
        except stripe.InvalidRequestError as error:
            # Already canceled or succeeded: nothing left to void.
            current_app.logger.warning("Stripe did not cancel %s: %s", reference, error)
        except stripe.StripeError as error:
            raise ProviderError(f"Stripe did not cancel {reference}: {error}") from error
