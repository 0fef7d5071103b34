import marshmallow as ma

from app.api.fields import Money
from app.api.schemas import ResponseSchema
from app.platform.models import PaymentStatus, ProviderName

PAYMENT_STATUSES = [status.value for status in PaymentStatus]


class PaymentSchema(ResponseSchema):
    """An order's payment. `client_secret` (Stripe) is what the customer's client confirms
    the payment with (Stripe.js); `reference` is the provider's id of the payment."""

    provider = ma.fields.String(
        metadata={"enum": [name.value for name in ProviderName], "example": "stripe"}
    )
    status = ma.fields.String(metadata={"enum": PAYMENT_STATUSES, "example": "requires_payment"})
    amount = Money(metadata={"example": "63.73"})
    currency = ma.fields.String(metadata={"example": "usd"})
    client_secret = ma.fields.String(
        allow_none=True, metadata={"example": "pi_3Nq0aB2eZvKYlo2C_secret_9sXy"}
    )
    reference = ma.fields.String(allow_none=True, metadata={"example": "pi_3Nq0aB2eZvKYlo2C"})
    flagged = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "Why a payment the provider reported was not taken as this order's "
            "(another intent, amount or currency): that money is refunded. Null when none was.",
            "example": None,
        },
    )


class WebhookReceivedSchema(ResponseSchema):
    received = ma.fields.Boolean(metadata={"example": True})
