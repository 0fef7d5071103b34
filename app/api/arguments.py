"""How request arguments are parsed (webargs under flask-smorest): stricter than the defaults.

Behaviour, not documentation: app.api.openapi's Blueprint uses this parser for every route.
"""

import json

import flask
import marshmallow as ma
from webargs.core import missing
from webargs.flaskparser import FlaskParser, abort

from app.platform.errors import bad_text


class ArgumentsParser(FlaskParser):
    """webargs, stricter: an unknown query parameter is a 422 (a typo such as `per_pgae` must
    not pass silently), JSON beyond the parser's limits (4,300-digit integers, deep nesting)
    is malformed (400) rather than a 500, a missing body or one that is not an object
    says so (422), a string no database can store is a 422 naming its JSON path, and a
    single-valued query parameter given twice is a 422 naming it."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }
    QUERY_LOCATIONS = ("query", "querystring")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._empty_query_arguments: dict = {}

    def parse(self, argmap, req=None, *, location=None, validate=None, **kwargs):
        """Without a query string, a query schema's arguments are its defaults, the same on
        every request: parsed the first time, then copied (webargs' parse was a tenth of a
        product page's time)."""
        empty_query = (
            location in self.QUERY_LOCATIONS
            and validate is None
            and isinstance(argmap, ma.Schema)
            and not flask.request.query_string
        )
        if not empty_query:
            return super().parse(argmap, req, location=location, validate=validate, **kwargs)
        key = (argmap, location)
        known = self._empty_query_arguments
        if key not in known:
            known[key] = super().parse(argmap, req, location=location, **kwargs)
        return dict(known[key])

    def load_json(self, req, schema):
        """A JSON body is required (none at all is a 422, not an empty update) unless the
        schema says `OPTIONAL_BODY = True`: then no body reads as `{}`."""
        data = super().load_json(req, schema)
        if data is missing:
            if getattr(schema, "OPTIONAL_BODY", False):
                return {}
            abort(422, messages={"json": {"body": ["A JSON object is required."]}})
        return data

    def _raw_load_json(self, req):
        try:
            data = super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise  # webargs' own handling: empty body or a 400
        except (ValueError, RecursionError) as error:
            self._handle_invalid_json_error(error, req)
        if data is not missing and not isinstance(data, dict):
            abort(422, messages={"json": {"body": ["Must be a JSON object."]}})
        if data is not missing and (errors := unstorable_strings(data)):
            abort(422, messages={"json": errors})
        return data

    def load_querystring(self, req, schema):
        """A parameter given twice is a 422 naming it, unless the schema takes a list:
        webargs would silently keep the first value."""
        proxy = super().load_querystring(req, schema)
        fields = {field.data_key or name: field for name, field in schema.fields.items()}
        repeated = {
            name: ["Must be given once."]
            for name, values in req.args.lists()
            if len(values) > 1 and name in fields and not proxy._is_multiple(fields[name])
        }
        if repeated:
            abort(422, messages={"query": repeated})
        return proxy


def printable_name(text: str) -> str:
    """A client's key made safe to echo in an error (escapes instead of the bad characters)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def unstorable_strings(data) -> dict[str, list[str]]:
    """Every string (values and keys, at any depth) that bad_text refuses, by JSON path:
    `name`, `images[0].alt`. A loop, not recursion: the body may be nested as deep as the
    JSON parser allows."""
    errors: dict[str, list[str]] = {}
    pending = [("", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{printable_name(key)}" if path else printable_name(key)
                if problem := bad_text(key):
                    errors[where] = [f"Field name: {problem}"]
                pending.append((where, item))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
        elif isinstance(value, str) and (problem := bad_text(value)):
            errors[path] = [problem]
    return errors
