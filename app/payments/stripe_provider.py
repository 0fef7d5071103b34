"""The Stripe provider (app.payments.providers): the official library. A PaymentIntent per
order (amount in minor units, the order id in its metadata and as the idempotency key),
webhooks verified with `Stripe-Signature` (tolerance 300 s, either way), refunds and
cancellations of that intent. Imported only when PAYMENT_PROVIDER is stripe."""

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

import stripe
from flask import current_app

from app.payments.providers import (
    WEBHOOK_TOLERANCE_S,
    Created,
    InvalidWebhook,
    Outcome,
    PaymentEvent,
    ProviderError,
)
from app.platform.errors import bad_text
from app.platform.models import ProviderName
from app.platform.money import minor_units

if TYPE_CHECKING:  # the library's typed parameters (local annotations only)
    from stripe._base_address import BaseAddresses
    from stripe.params import RefundCreateParams


OUTCOMES = {
    "payment_intent.succeeded": Outcome.SUCCEEDED,
    "payment_intent.payment_failed": Outcome.FAILED,
}


def _payment_event(event: dict) -> PaymentEvent:
    """Stripe's event (signed, but of any shape) in the store's terms."""
    event_id, event_type = event.get("id"), event.get("type")
    if not (isinstance(event_id, str) and 0 < len(event_id) <= 255 and isinstance(event_type, str)):
        raise InvalidWebhook("The event has no id or type.")
    if bad_text(event_id) or bad_text(event_type):
        raise InvalidWebhook("The event's id or type is not text the store can keep.")
    data = event.get("data")
    intent = data.get("object") if isinstance(data, dict) else None
    intent = intent if isinstance(intent, dict) else {}
    reference = intent.get("id")
    if not (isinstance(reference, str) and 0 < len(reference) <= 255 and not bad_text(reference)):
        reference = None  # nothing to pay or refund by
    amount = intent.get("amount_received", intent.get("amount"))
    currency = intent.get("currency")
    return PaymentEvent(
        id=event_id,
        type=event_type[:100],
        outcome=OUTCOMES.get(event_type, Outcome.OTHER),
        order_id=_order_id_of(intent),
        reference=reference,
        amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        currency=currency if isinstance(currency, str) else None,
    )


def _order_id_of(intent: dict) -> int | None:
    """The order id the store put in the intent's metadata."""
    metadata = intent.get("metadata")
    raw = metadata.get("order_id") if isinstance(metadata, dict) else None
    if not isinstance(raw, (str, int)) or isinstance(raw, bool):
        return None
    try:
        order_id = int(raw)
    except ValueError:
        return None
    return order_id if 0 < order_id < 2**63 else None


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

    def verify_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PaymentEvent:
        signature = headers.get("Stripe-Signature")
        try:
            event = stripe.Webhook.construct_event(
                payload, signature, self.webhook_secret, WEBHOOK_TOLERANCE_S
            )
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise InvalidWebhook(str(error).split("\n")[0]) from None
        # The library refuses old timestamps only; one from the future is as untrustworthy.
        if _timestamp(signature) > time.time() + WEBHOOK_TOLERANCE_S:
            raise InvalidWebhook("Timestamp outside the tolerance zone (in the future)")
        return _payment_event(event.to_dict())

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
