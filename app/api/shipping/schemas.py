import marshmallow as ma
from marshmallow import validate

from app.api.fields import (
    COUNTRY_CODES,
    CountryCode,
    Money,
    StrictBoolean,
    Timestamp,
    visible_text,
)
from app.api.pagination import PaginationArgsSchema, page_of
from app.api.schemas import ResponseSchema, with_examples


class ShippingMethodInputSchema(ma.Schema):
    name = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=100), visible_text],
        metadata={"example": "Standard (3-5 days)"},
    )
    price = Money(request=True, required=True, metadata={"example": "4.90"})
    free_over = Money(
        request=True,
        allow_none=True,
        load_default=None,
        metadata={
            "description": "Orders whose subtotal after discount reaches this ship free",
            "example": "50.00",
        },
    )
    countries = ma.fields.List(
        CountryCode(),
        load_default=list,
        validate=validate.Length(max=len(COUNTRY_CODES)),
        metadata={
            "description": "Where it ships (ISO 3166-1 alpha-2); empty: everywhere",
            "example": ["US", "CA"],
            "uniqueItems": True,
        },
    )
    active = StrictBoolean(load_default=True, metadata={"example": True})

    @ma.validates("countries")
    def each_once(self, countries, **_kwargs):
        if len(set(countries)) != len(countries):
            raise ma.ValidationError("Names a country more than once.")


ShippingMethodUpdateSchema = with_examples(
    ShippingMethodInputSchema, "ShippingMethodUpdateSchema", price="5.90", active=True
)


class ShippingMethodSchema(ResponseSchema):
    id = ma.fields.Integer(metadata={"example": 1})
    name = ma.fields.String(metadata={"example": "Standard (3-5 days)"})
    price = Money(metadata={"example": "4.90"})
    free_over = Money(allow_none=True, metadata={"example": "50.00"})
    countries = ma.fields.List(ma.fields.String(), metadata={"example": ["US", "CA"]})
    active = ma.fields.Boolean(metadata={"example": True})
    created_at = Timestamp()
    updated_at = Timestamp()


class ShippingMethodArgsSchema(PaginationArgsSchema):
    country = CountryCode(metadata={"description": "Only methods that ship there"})


ShippingMethodPageSchema = page_of(ShippingMethodSchema)
