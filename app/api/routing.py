"""flask-smorest's Api and the Blueprint every resource registers its routes on, extended.

- `Api` answers HTTP errors as problem+json and registers one documented problem response
  per error status;

- `arguments` parses with app.api.arguments.ArgumentsParser (unknown or repeated query
  parameters and non-object bodies are 422s naming the parameter);
- every write documents 429 (rate limit) and 503 (database busy), a JSON body 400, 413 and
  415, and an `alt_response(4xx)` without a schema the problem body (app.api.openapi).
"""

from http import HTTPStatus

from flask_smorest import Api as BaseApi
from flask_smorest import Blueprint as BaseBlueprint
from flask_smorest.utils import prepare_response

from app.api.arguments import ArgumentsParser
from app.api.guards import WRITE_METHODS
from app.api.openapi import MISSING_PERMISSION, error_responses, problem_example
from app.api.problems import (
    PROBLEM_MIMETYPE,
    PermissionProblemSchema,
    ProblemSchema,
    problem_from_http_exception,
)


class Api(BaseApi):
    """flask-smorest Api whose HTTP errors are problem+json, in responses and in the spec."""

    ERROR_SCHEMA = ProblemSchema
    # No catch-all `default` response: every status an operation can answer is listed, so a
    # client (and the fuzzer's status-code check) can rely on the list.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        return problem_from_http_exception(error)

    def _register_responses(self):
        """One lazy response component per error status, e.g. NOT_FOUND."""
        for status in HTTPStatus:
            if status >= 400:
                self._register_problem(status.name, status.phrase, problem_example(status))
        self._register_problem(
            MISSING_PERMISSION,
            "None of the caller's roles grants the permission this needs",
            problem_example(403) | {"missing_permission": "catalog:write"},
            PermissionProblemSchema,
        )

    def _register_problem(
        self, name: str, description: str, example: dict, schema=ProblemSchema
    ) -> None:
        response = {"description": description, "schema": schema, "example": example}
        prepare_response(response, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response(name, response, lazy=True)


class Blueprint(BaseBlueprint):
    ARGUMENTS_PARSER = ArgumentsParser()

    def route(self, rule, **options):
        """Writes are rate limited (429) and may find the database busy (503): both say when
        to retry (Retry-After); document them on every write."""
        decorator = super().route(rule, **options)
        if not set(WRITE_METHODS) & set(options.get("methods", ())):
            return decorator
        return lambda view: decorator(error_responses(429, 503)(view))

    def arguments(self, schema, *, location="json", **kwargs):
        """A schema with `OPTIONAL_BODY = True` documents its body as optional."""
        if getattr(schema, "OPTIONAL_BODY", False):
            kwargs.setdefault("required", False)
        decorator = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return decorator
        return lambda view: error_responses(400, 413, 415)(decorator(view))

    def alt_response(self, status_code, response=None, *, description=None, **kwargs):
        """An error without its own schema is documented as a problem, with an example."""
        if response is None and int(status_code) >= 400 and "schema" not in kwargs:
            kwargs.setdefault("example", problem_example(int(status_code), description))
            kwargs |= {"schema": ProblemSchema, "content_type": PROBLEM_MIMETYPE}
        return super().alt_response(status_code, response, description=description, **kwargs)
