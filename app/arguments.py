"""How request arguments are parsed (webargs under flask-smorest): stricter than the defaults.

Behaviour, not documentation: app.openapi's Blueprint uses this parser for every route.
"""

import json

import marshmallow as ma
from webargs.core import missing
from webargs.flaskparser import FlaskParser, abort


class ArgumentsParser(FlaskParser):
    """webargs, stricter: an unknown query parameter is a 422 (a typo such as `per_pgae` must
    not pass silently), JSON beyond the parser's limits (4,300-digit integers, deep nesting)
    is malformed (400) rather than a 500, and a missing body or one that is not an object
    says so (422)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }

    def load_json(self, req, schema):
        """Every JSON body here is required: none at all is a 422, not an empty update."""
        data = super().load_json(req, schema)
        if data is missing:
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
        return data
