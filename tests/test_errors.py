"""The single error format: every 4xx/5xx is an RFC 9457 problem+json document."""

import pytest
from sqlalchemy.exc import OperationalError

from tests.helpers import assert_problem

MAX_BODY = 1024 * 1024


# --- 400 -----------------------------------------------------------------------------------


def test_malformed_json_is_400_problem(client):
    response = client.post(
        "/api/auth/register", data="{bad", headers={"Content-Type": "application/json"}
    )
    body = assert_problem(response, 400)
    assert body["title"] == "Bad Request"
    assert "JSON" in body["detail"]


def test_malformed_json_on_protected_route_is_400_problem(client, auth):
    response = client.post(
        "/api/products",
        data="{bad",
        headers={**auth.admin, "Content-Type": "application/json"},
    )
    assert_problem(response, 400)


# --- 401 / 403 -----------------------------------------------------------------------------


def test_missing_token_is_401_problem_with_bearer_challenge(client):
    response = client.get("/api/auth/me")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_customer_on_admin_route_is_403_problem(client, auth):
    response = client.post(
        "/api/products", json={"name": "Mug", "price": "1.00"}, headers=auth.customer
    )
    body = assert_problem(response, 403)
    assert body["title"] == "Forbidden"


# --- 404 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/nope", "/nope", "/api/products/999999", "/api/auth"])
def test_unknown_resource_is_404_problem(client, path):
    body = assert_problem(client.get(path), 404)
    assert body["title"] == "Not Found"


def test_unknown_route_with_post_is_404_problem(client):
    assert_problem(client.post("/api/nope", json={"a": 1}), 404)


def test_id_beyond_64_bits_is_404_problem(client):
    assert_problem(client.get(f"/api/products/{2**63}"), 404)


# --- 405 -----------------------------------------------------------------------------------


def test_wrong_method_is_405_problem_with_allow_header(client):
    response = client.delete("/api/products")
    body = assert_problem(response, 405)
    assert body["title"] == "Method Not Allowed"
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "DELETE" not in allowed


def test_get_on_post_only_route_is_405_problem(client):
    response = client.get("/api/auth/login")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


# --- 413 -----------------------------------------------------------------------------------


def test_body_over_one_mebibyte_is_413_problem(client):
    payload = b'{"username": "' + b"a" * MAX_BODY + b'"}'
    response = client.post(
        "/api/auth/register", data=payload, headers={"Content-Type": "application/json"}
    )
    body = assert_problem(response, 413)
    assert body["title"] == "Request Entity Too Large"


def test_413_detail_states_the_limit(client):
    payload = b'{"username": "' + b"a" * MAX_BODY + b'"}'
    response = client.post("/api/auth/login", data=payload, content_type="application/json")
    body = assert_problem(response, 413)
    assert body["detail"] == "The request body is larger than the limit of 1 MiB (1048576 bytes)."


def test_413_detail_follows_the_configured_limit(make_app):
    client = make_app(MAX_CONTENT_LENGTH=1536).test_client()
    payload = b'{"username": "' + b"a" * 2048 + b'"}'
    response = client.post("/api/auth/login", data=payload, content_type="application/json")
    body = assert_problem(response, 413)
    assert body["detail"] == "The request body is larger than the limit of 1.5 KiB (1536 bytes)."


def test_body_just_under_the_limit_is_not_413(client):
    payload = b'{"username": "' + b"a" * (MAX_BODY - 100) + b'"}'
    response = client.post(
        "/api/auth/register", data=payload, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 422, "username")


# --- 415 -----------------------------------------------------------------------------------


def test_form_body_is_415_problem(client):
    response = client.post(
        "/api/auth/register",
        data={"username": "alice", "email": "alice@example.com", "password": "long-enough"},
    )
    body = assert_problem(response, 415)
    assert body["title"] == "Unsupported Media Type"


def test_text_plain_json_body_is_415_problem(client):
    response = client.post(
        "/api/auth/login",
        data='{"username": "a", "password": "b"}',
        headers={"Content-Type": "text/plain"},
    )
    assert_problem(response, 415)


# --- 422 -----------------------------------------------------------------------------------


def test_invalid_fields_are_422_problem_listing_each_field(client, auth):
    response = client.post(
        "/api/products", json={"name": "", "price": "-1", "stock": "x"}, headers=auth.admin
    )
    body = assert_problem(response, 422, "name", "price", "stock")
    for field in ("name", "price", "stock"):
        assert field in body["detail"]


def test_422_detail_is_one_sentence_per_field(client, auth):
    response = client.post(
        "/api/products",
        json={"name": "   ", "price": "1.999", "images": [{"alt": "x"}]},
        headers=auth.admin,
    )
    body = assert_problem(response, 422, "name", "price")
    assert body["detail"] == (
        "images[0].url: Missing data for required field. "
        "name: Must not be blank or contain control characters. "
        "price: Must have at most 2 decimal places."
    )
    assert ".;" not in body["detail"]


def test_invalid_query_argument_is_422_problem_naming_it(client):
    body = assert_problem(client.get("/api/products?page=0"), 422, "page")
    assert set(body["errors"]) == {"page"}


def test_json_array_body_is_422_problem(client):
    response = client.post("/api/auth/login", json=["alice", "password"])
    assert_problem(response, 422)


# --- 409 -----------------------------------------------------------------------------------


def test_conflict_is_409_problem(client, auth):
    user = auth.user("carol")
    response = client.post(
        "/api/auth/register",
        json={"username": user.username, "email": "other@example.com", "password": "long-enough"},
    )
    body = assert_problem(response, 409)
    assert body["title"] == "Conflict"


# --- 500 -----------------------------------------------------------------------------------


@pytest.fixture
def broken_listing(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr("app.catalog.products.list_products", boom)


def test_unexpected_exception_is_500_problem_without_internals(client, broken_listing):
    response = client.get("/api/products")
    body = assert_problem(response, 500)
    assert body["title"] == "Internal Server Error"
    text = response.get_data(as_text=True)
    assert "secret-internal-detail" not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text


def test_unexpected_exception_is_logged(client, broken_listing, caplog):
    client.get("/api/products")
    assert any(
        record.exc_info and "secret-internal-detail" in str(record.exc_info[1])
        for record in caplog.records
    )


def test_service_keeps_working_after_a_500(client, broken_listing, monkeypatch):
    assert client.get("/api/products").status_code == 500
    monkeypatch.undo()
    response = client.get("/api/products")
    assert response.status_code == 200
    assert response.get_json()["items"] == []


class _DriverError(Exception):
    def __init__(self, message, sqlstate=None):
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "driver_error",
    [
        _DriverError("database is locked"),
        _DriverError("could not serialize access", sqlstate="40001"),
        _DriverError("deadlock detected", sqlstate="40P01"),
    ],
    ids=["sqlite-locked", "pg-serialization", "pg-deadlock"],
)
def test_lock_timeout_is_503_problem_with_retry_after(client, monkeypatch, driver_error):
    def busy(**_kwargs):
        raise OperationalError("UPDATE products ...", {}, driver_error)

    monkeypatch.setattr("app.catalog.products.list_products", busy)
    response = client.get("/api/products")
    body = assert_problem(response, 503)
    assert response.headers["Retry-After"] == "1"
    assert "UPDATE" not in body["detail"]


def test_other_database_errors_are_500_without_details(client, monkeypatch):
    def broken(**_kwargs):
        raise OperationalError("SELECT secret_column", {}, _DriverError("disk I/O error"))

    monkeypatch.setattr("app.catalog.products.list_products", broken)
    response = client.get("/api/products")
    body = assert_problem(response, 500)
    assert "secret_column" not in response.get_data(as_text=True)
    assert "Retry-After" not in response.headers
    assert body["detail"] == "An unexpected error occurred."
