import marshmallow as ma
from marshmallow import validate

from app.api.fields import CountryCode, Timestamp, no_control_characters, visible_text
from app.api.pagination import page_of
from app.api.schemas import ResponseSchema, with_examples


def _text(max_length: int, example: str, *, required: bool = True, **kwargs) -> ma.fields.String:
    if required:
        rules = [validate.Length(min=1, max=max_length), visible_text]
        return ma.fields.String(required=True, validate=rules, metadata={"example": example})
    rules = [validate.Length(max=max_length), no_control_characters]
    return ma.fields.String(
        allow_none=True, load_default=None, validate=rules, metadata={"example": example}, **kwargs
    )


class AddressInputSchema(ma.Schema):
    """A postal address; `country` is an ISO 3166-1 alpha-2 code."""

    name = _text(100, "Ada Lovelace")
    line1 = _text(200, "12 Analytical Row")
    line2 = _text(200, "Flat 3", required=False)
    city = _text(100, "Austin")
    region = _text(100, "TX", required=False)
    postal_code = _text(20, "73301")
    country = CountryCode(required=True)
    phone = _text(40, "+1 512 555 0100", required=False)


AddressUpdateSchema = with_examples(AddressInputSchema, "AddressUpdateSchema", line2="Flat 4")


ADDRESS_EXAMPLE = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "line2": None,
    "city": "Austin",
    "region": "TX",
    "postal_code": "73301",
    "country": "US",
    "phone": None,
}


class AddressFieldsSchema(ResponseSchema):
    """The address as an order keeps it."""

    name = ma.fields.String(metadata={"example": "Ada Lovelace"})
    line1 = ma.fields.String(metadata={"example": "12 Analytical Row"})
    line2 = ma.fields.String(allow_none=True, metadata={"example": "Flat 3"})
    city = ma.fields.String(metadata={"example": "Austin"})
    region = ma.fields.String(allow_none=True, metadata={"example": "TX"})
    postal_code = ma.fields.String(metadata={"example": "73301"})
    country = ma.fields.String(metadata={"example": "US"})
    phone = ma.fields.String(allow_none=True, metadata={"example": "+1 512 555 0100"})


class AddressSchema(AddressFieldsSchema):
    id = ma.fields.Integer(metadata={"example": 1})
    created_at = Timestamp()
    updated_at = Timestamp()


AddressPageSchema = page_of(AddressSchema)
