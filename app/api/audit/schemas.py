import marshmallow as ma
from marshmallow import validate

from app.api.fields import MAX_ID, QueryInteger, Timestamp
from app.api.pagination import PaginationArgsSchema, page_of
from app.api.schemas import ResponseSchema
from app.platform.models import AuditAction

TARGET_TYPES = sorted({action.target_type for action in AuditAction})


class AuditQueryArgsSchema(PaginationArgsSchema):
    actor_id = QueryInteger(
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Entries of this user's writes", "example": 1},
    )
    action = ma.fields.String(
        validate=validate.OneOf([action.value for action in AuditAction]),
        metadata={"example": "product.update"},
    )
    target_type = ma.fields.String(
        validate=validate.OneOf(TARGET_TYPES), metadata={"example": "product"}
    )
    target_id = ma.fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "With target_type: one thing's history", "example": "1"},
    )


class AuditEntrySchema(ResponseSchema):
    OPTIONAL = ()

    id = ma.fields.Integer(metadata={"example": 1})
    at = Timestamp()
    actor_id = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "Null for the store's own work (the worker)", "example": 1},
    )
    action = ma.fields.String(metadata={"example": "product.update"})
    target_type = ma.fields.String(metadata={"example": "product"})
    target_id = ma.fields.String(metadata={"example": "1"})
    changes = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Dict(),
        metadata={
            "description": "Each changed field with its old and new value; secrets read "
            '"[redacted]"',
            "example": {"price": {"old": "19.99", "new": "17.99"}},
        },
    )
    request_id = ma.fields.String(
        allow_none=True, metadata={"example": "6f1c2a9e0b7d4e3f8a5b2c1d0e9f8a7b"}
    )


AuditEntryPageSchema = page_of(AuditEntrySchema)
