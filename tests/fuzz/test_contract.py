"""Every operation, as an anonymous user, a customer and an admin: the server keeps its contract.

Schemathesis' default checks run on every response: no 5xx, documented status codes, content
type and body schema, invalid data rejected, valid data accepted, auth not ignored, 405 with
Allow for undocumented methods. After every admin write to the catalog, its reads (the list,
each product by id and by slug, low stock) must still answer: a write that stores something
they cannot serve (an image without `alt`, once) breaks them all, not only the write.
"""

import pytest
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.fuzz.conftest import FUZZ_SETTINGS, respect_server_state, schema

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# The writes whose stored data the catalog reads serve (products, categories, stock).
CATALOG = ("/api/products", "/api/categories")


@pytest.fixture(params=["anonymous", "customer", "admin"])
def role(request, auth, shop):
    headers = {} if request.param == "anonymous" else getattr(auth, request.param)
    return request.param, headers


def assert_reads_still_work(client, headers) -> None:
    """The admin's view of the catalog, after whatever the write stored."""
    listing = client.get("/api/products?include_inactive=true&per_page=100", headers=headers)
    assert listing.status_code == 200, listing.get_data(as_text=True)
    urls = ["/api/admin/low-stock", "/api/products?sort=-name", "/api/products?q=a"]
    for product in listing.get_json()["items"]:
        urls.append(f"/api/products/{product['id']}?include_inactive=true")
        urls.append(f"/api/products/by-slug/{product['slug']}?include_inactive=true")
    for url in urls:
        response = client.get(url, headers=headers)
        assert response.status_code < 500, (url, response.get_data(as_text=True))


@pytest.fixture
def reader(auth):
    """Another admin for those reads: the fuzzed one may have logged out (token revoked)."""
    return auth.user("reader", admin=True).headers


# A payment provider's webhook is refused (400) unless the provider signed it, whatever the
# schema allows: valid-looking data is not "accepted" there (tests/test_payments.py).
PROVIDER_SIGNED = {("POST", "/api/payments/stripe/webhook")}


@schema.parametrize()
@FUZZ_SETTINGS
def test_operation_keeps_the_contract(case, role, app, reader):
    name, headers = role
    respect_server_state(case)
    excluded = (
        [positive_data_acceptance] if (case.method.upper(), case.path) in PROVIDER_SIGNED else []
    )
    case.call_and_validate(headers=headers, excluded_checks=excluded)
    if name == "admin" and case.method.upper() in WRITES and case.path.startswith(CATALOG):
        assert_reads_still_work(app.test_client(), reader)
