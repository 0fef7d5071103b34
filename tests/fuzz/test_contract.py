"""Every operation, as an anonymous user, a customer and an admin: the server keeps its contract.

Schemathesis' default checks run on every response: no 5xx, documented status codes, content
type and body schema, invalid data rejected, valid data accepted, auth not ignored, 405 with
Allow for undocumented methods.
"""

import pytest

from tests.fuzz.conftest import FUZZ_SETTINGS, respect_server_state, schema


@pytest.fixture(params=["anonymous", "customer", "admin"])
def role_headers(request, auth, shop):
    return {} if request.param == "anonymous" else getattr(auth, request.param)


@schema.parametrize()
@FUZZ_SETTINGS
def test_operation_keeps_the_contract(case, role_headers):
    respect_server_state(case)
    case.call_and_validate(headers=role_headers)
