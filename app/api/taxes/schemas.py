import marshmallow as ma
from marshmallow import validate

from app.api.fields import CountryCode, Rate, Timestamp, visible_text
from app.api.pagination import page_of
from app.api.schemas import ResponseSchema, with_examples


class TaxRateInputSchema(ma.Schema):
    country = CountryCode(required=True)
    region = ma.fields.String(
        allow_none=True,
        load_default=None,
        validate=[validate.Length(min=1, max=100), visible_text],
        metadata={
            "description": "A region of the country, by its ISO 3166-2 code or name "
            "(`TX`, `Texas`: one region; compared with the address's whatever the case, "
            "accents, width or spacing); null: the whole country",
            "example": "WA",
        },
    )
    rate = Rate(
        required=True,
        metadata={"description": "Tax on the tax-exclusive prices", "example": "0.0650"},
    )


TaxRateUpdateSchema = with_examples(
    TaxRateInputSchema, "TaxRateUpdateSchema", rate="0.0625", region="CA"
)


class TaxRateSchema(ResponseSchema):
    id = ma.fields.Integer(metadata={"example": 1})
    country = ma.fields.String(metadata={"example": "US"})
    region = ma.fields.String(allow_none=True, metadata={"example": "TX"})
    rate = Rate()
    created_at = Timestamp()
    updated_at = Timestamp()


TaxRatePageSchema = page_of(TaxRateSchema)
