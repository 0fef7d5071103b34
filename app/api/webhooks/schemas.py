import marshmallow as ma
from marshmallow import validate

from app.api.fields import StrictBoolean, Timestamp, no_control_characters
from app.api.pagination import page_of
from app.api.schemas import ResponseSchema, with_examples
from app.platform.models import EventType

EVENT_TYPES = [event_type.value for event_type in EventType]
MAX_URL_LENGTH = 2000
# http(s), no blanks or control characters; the SSRF guard (app.outbox.destinations) checks
# the host.
HTTP_URL = validate.Regexp(
    r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s\x00-\x1f\x7f-\x9f]+$",
    error="Must be an http or https URL without blanks.",
)


class WebhookInputSchema(ma.Schema):
    url = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=MAX_URL_LENGTH), HTTP_URL],
        metadata={"example": "https://warehouse.example.com/hooks/store"},
    )
    events = ma.fields.List(
        ma.fields.String(metadata={"enum": EVENT_TYPES}),
        required=True,
        validate=validate.Length(min=1, max=len(EVENT_TYPES)),
        metadata={"example": ["order.created", "order.paid"], "uniqueItems": True},
    )
    description = ma.fields.String(
        load_default="",
        validate=[validate.Length(max=200), no_control_characters],
        metadata={"example": "Warehouse system"},
    )
    active = StrictBoolean(metadata={"example": True})

    @ma.validates("events")
    def known_and_once(self, events, **_kwargs):
        unknown = [name for name in events if name not in EVENT_TYPES]
        if unknown:
            raise ma.ValidationError(
                f"Unknown event '{unknown[0]}': choose from {', '.join(EVENT_TYPES)}."
            )
        if len(set(events)) != len(events):
            raise ma.ValidationError("Names an event more than once.")


WebhookUpdateSchema = with_examples(
    WebhookInputSchema, "WebhookUpdateSchema", events=["order.shipped"], active=False
)


class WebhookSchema(ResponseSchema):
    id = ma.fields.Integer(metadata={"example": 1})
    url = ma.fields.String(metadata={"example": "https://warehouse.example.com/hooks/store"})
    events = ma.fields.List(
        ma.fields.String(metadata={"enum": EVENT_TYPES}),
        metadata={"example": ["order.created", "order.paid"]},
    )
    description = ma.fields.String(metadata={"example": "Warehouse system"})
    active = ma.fields.Boolean(metadata={"example": True})
    created_at = Timestamp()
    updated_at = Timestamp()


class WebhookWithSecretSchema(WebhookSchema):
    """Shown only when the secret is made: at creation and on rotation."""

    secret = ma.fields.String(
        metadata={
            "description": "whsec_ + base64: verify the webhook-signature header with it",
            "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        }
    )


class WebhookAttemptSchema(ResponseSchema):
    id = ma.fields.Integer(metadata={"example": 12})
    delivery_id = ma.fields.Integer(
        metadata={"description": "POST .../deliveries/<id>/redeliver sends it again", "example": 4}
    )
    event_id = ma.fields.String(
        attribute="event.uid", metadata={"example": "evt_0f8a3c9b7e2d4f6a8b1c3d5e7f9a1b2c"}
    )
    event_type = ma.fields.String(attribute="event.type", metadata={"example": "order.created"})
    attempt = ma.fields.Integer(metadata={"example": 1})
    status_code = ma.fields.Integer(allow_none=True, metadata={"example": 200})
    error = ma.fields.String(allow_none=True, metadata={"example": None})
    duration_ms = ma.fields.Integer(metadata={"example": 84})
    at = Timestamp()


class WebhookDeliverySchema(ResponseSchema):
    id = ma.fields.Integer(metadata={"example": 4})
    subscription_id = ma.fields.Integer(metadata={"example": 1})
    event_id = ma.fields.String(
        attribute="event.uid", metadata={"example": "evt_0f8a3c9b7e2d4f6a8b1c3d5e7f9a1b2c"}
    )
    event_type = ma.fields.String(attribute="event.type", metadata={"example": "order.created"})
    status = ma.fields.String(
        metadata={"enum": ["pending", "delivered", "failed"], "example": "pending"}
    )
    attempts = ma.fields.Integer(metadata={"example": 3})
    next_attempt_at = Timestamp()


WebhookPageSchema = page_of(WebhookSchema)
WebhookAttemptPageSchema = page_of(WebhookAttemptSchema)
