"""Request guards (app/api/guards.py) and the URL map: what every request passes before a view.

- NUL, which PostgreSQL text cannot hold, in a path is a 404 and in a query string a 422
  naming the parameter, on both engines (it was a 500 on PostgreSQL, a 404 on SQLite);
- no redirect anywhere: `//` in a path was a 308 whose Location came from the Host header
  (or X-Forwarded-Host behind a trusted proxy), an open redirect;
- a chunked body is held to MAX_CONTENT_LENGTH (413) and to JSON (415) like any other.
"""

import io
import re

import pytest

from tests.helpers import assert_problem

EVIL = "evil.example"
MAX_BODY = 1024 * 1024


# --- NUL and undecodable bytes in the URL -----------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/products/by-slug/a%00b",
        "/api/products/by-slug/%00",
        "/api/docs-assets/swagger_ui/a%00b.js",
        "/api/products/%00",
        "/api/nope%00",
    ],
)
def test_nul_in_the_path_is_404_problem(client, make_product, path):
    make_product(name="A b")
    body = assert_problem(client.get(path), 404)
    assert "\x00" not in body["detail"]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("q=a%00b", "q"),
        ("category=%00", "category"),
        ("page=1%00", "page"),
        ("in_stock=true%00", "in_stock"),
        ("sort=%00name", "sort"),
    ],
)
def test_nul_in_the_query_string_is_422_naming_the_parameter(client, query, param):
    body = assert_problem(client.get(f"/api/products?{query}"), 422, param)
    assert body["errors"][param] == ["Must not contain NUL characters (\\u0000)."]
    assert body["detail"] == f"{param}: Must not contain NUL characters (\\u0000)."


def test_nul_in_a_query_parameter_name_is_422_naming_it_escaped(client):
    body = assert_problem(client.get("/api/products?a%00b=1"), 422, "a\\u0000b")
    assert body["errors"]["a\\u0000b"] == ["Must not contain NUL characters (\\u0000)."]


def test_nul_in_the_query_string_of_a_write_changes_nothing(client, auth, make_product, query):
    product = make_product(stock=3)
    url = f"/api/products/{product.id}?x=%00"
    response = client.patch(url, json={"name": "Renamed"}, headers=auth.admin)
    assert_problem(response, 422, "x")
    assert client.get(f"/api/products/{product.id}").get_json()["name"] == product.name


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/products/by-slug/%ED%A0%80", 404),  # a UTF-16 surrogate, CESU-8 encoded
        ("/api/products/by-slug/%FF%FE", 404),
        ("/api/products?q=%ED%A0%80x", 200),
        ("/api/products?category=%FF", 422),
    ],
)
def test_bytes_that_are_not_utf8_in_the_url_are_never_a_500(client, url, status):
    # werkzeug decodes them to U+FFFD, which every engine stores: no surrogate gets through.
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)


# --- no redirects ---------------------------------------------------------------------------


def concrete_paths(app) -> list[tuple[str, str]]:
    """(method, path) for every route, with its placeholders filled in."""
    fill = {"int": "1", "string": "x", "path": "x.js"}
    paths = []
    for rule in app.url_map.iter_rules():
        path = re.sub(
            r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>",
            lambda m: fill.get(m.group(1) or "string", "x"),
            rule.rule,
        )
        paths.extend((method, path) for method in sorted(rule.methods - {"OPTIONS", "HEAD"}))
    return paths


def variants(path: str) -> list[str]:
    """The same path as clients mistype it: doubled slashes, a trailing slash."""
    return [
        path,
        path + "/",
        "/" + path,
        path.replace("/", "//"),
        path.replace("/api/", "/api//", 1),
        path + "//",
    ]


def assert_no_redirect(response, what) -> None:
    assert not 300 <= response.status_code < 400, (what, response.status_code)
    assert EVIL not in response.headers.get("Location", ""), (what, response.headers)
    assert EVIL.encode() not in response.get_data(), what


def test_no_route_redirects_whatever_the_host(app, client, auth):
    for method, path in concrete_paths(app):
        for url in variants(path):
            response = client.open(
                url, method=method, headers={**auth.admin, "Host": EVIL}, json={}
            )
            assert_no_redirect(response, (method, url))


def test_no_route_redirects_behind_a_trusted_proxy(make_app, auth):
    app = make_app(TRUSTED_PROXIES=1)
    client = app.test_client()
    headers = {**auth.admin, "X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "https"}
    for method, path in concrete_paths(app):
        for url in variants(path):
            response = client.open(url, method=method, headers=headers, json={})
            assert_no_redirect(response, (method, url))


@pytest.mark.parametrize("path", ["/api//products", "//api/products", "/api/products//"])
def test_doubled_slashes_are_404_problem_not_308(client, path):
    response = client.get(path, headers={"Host": EVIL})
    assert_problem(response, 404)
    assert "Location" not in response.headers


def test_created_location_is_a_path_not_built_from_the_host(client, auth):
    payload = {"name": "Teapot", "price": "34.00"}
    response = client.post("/api/products", json=payload, headers={**auth.admin, "Host": EVIL})
    assert response.status_code == 201
    assert response.headers["Location"] == f"/api/products/{response.get_json()['id']}"


# --- chunked bodies -------------------------------------------------------------------------


def chunked(client, url, body: bytes, content_type: str, headers: dict):
    """A request as a server hands over a chunked body: no length, wsgi.input_terminated."""
    return client.post(
        url,
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers={**headers, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


@pytest.mark.parametrize("size", [MAX_BODY + 1, 2 * MAX_BODY])
def test_chunked_body_over_the_limit_is_413_stating_it(client, auth, query, size):
    body = b'{"name": "Teapot", "price": "1.00", "description": "'
    body += b"x" * (size - len(body) - 2) + b'"}'
    response = chunked(client, "/api/products", body, "application/json", auth.admin)
    problem = assert_problem(response, 413)
    assert problem["detail"] == (
        "The request body is larger than the limit of 1 MiB (1048576 bytes)."
    )
    assert client.get("/api/products").get_json()["total"] == 0


def test_chunked_json_body_within_the_limit_is_accepted(client, auth):
    body = b'{"name": "Teapot", "price": "1.00"}'
    response = chunked(client, "/api/products", body, "application/json", auth.admin)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["name"] == "Teapot"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_chunked_body_that_is_not_json_is_415(client, auth, content_type):
    body = b'{"name": "Teapot", "price": "1.00"}'
    response = chunked(client, "/api/products", body, content_type, auth.admin)
    body = assert_problem(response, 415)
    assert body["detail"] == "The request body must be JSON (Content-Type: application/json)."


def test_guards_live_apart_from_the_error_definitions():
    import app.api.guards
    import app.api.problems

    assert app.api.guards.WRITE_METHODS == ("POST", "PUT", "PATCH", "DELETE")
    assert not hasattr(app.api.problems, "_require_json_body")
