"""Base schemas shared by every resource.

A response body and a request body are never the same schema: what the server sends is a
`ResponseSchema`, whose fields are all present in every answer (null where nullable), so
the document marks them `required` and generated clients type them as present. What a
client sends is a plain `ma.Schema` holding only what it may send.
"""

import copy
from typing import ClassVar

import marshmallow as ma


class ResponseSchema(ma.Schema):
    """A body the server sends. `OPTIONAL` names the fields that may be left out."""

    OPTIONAL: ClassVar[tuple[str, ...]] = ()


def with_examples(schema: type[ma.Schema], class_name: str, /, **examples) -> type[ma.Schema]:
    """`schema` under another name, with other examples for some fields. An update body needs
    its own: the create body's example name, slug and SKU are taken once it has been sent."""
    fields = {}
    for field_name, example in examples.items():
        field = copy.deepcopy(schema._declared_fields[field_name])
        field.metadata = {**field.metadata, "example": example}
        fields[field_name] = field
    return type(class_name, (schema,), fields)
