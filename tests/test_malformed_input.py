"""Malformed input, endpoint by endpoint: always a 4xx problem+json, and nothing changes.

Every test takes a snapshot of the database (row counts, products, carts, orders) before the
bad request and checks it is identical afterwards: a rejected request must leave no trace.
"""

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.platform.models import CartItem, Order, Product, StockMovement, User
from tests.factories import DEFAULT_PASSWORD
from tests.helpers import assert_problem, cart_lines, count_rows, stock_of

LONG = "x" * 10_000  # far past every limit of a short text field
UNICODE_NAME = "Café ☕ 日本語 🚀"
# NUL breaks PostgreSQL text columns; the others are C0/DEL/C1 controls (Unicode category Cc).
CONTROL_CHARACTERS = ["\u0000", "\u0001", "\u001b", "\u007f", "\u009b"]
BAD_PAGINATION = ["page=0", "page=-1", "page=abc", "per_page=0", "per_page=101", "per_page=abc"]
OUT_OF_RANGE_PATH_IDS = [str(2**63), str(2**64), str(10**30), "-1", "abc", "1.5"]


# --- endpoints -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # "{product}" and "{order}" are filled from the `world` fixture
    role: str | None  # "customer", "admin" or None (anonymous)
    body: Callable[[SimpleNamespace], dict] | None = None  # a valid body

    def url(self, world, **ids) -> str:
        return self.path.format(**{"product": world.product_id, "order": world.order_id, **ids})


ENDPOINTS = {
    "register": Endpoint(
        "POST",
        "/api/auth/register",
        None,
        lambda w: {"username": "newcomer", "email": "new@example.com", "password": "long-enough"},
    ),
    "login": Endpoint(
        "POST",
        "/api/auth/login",
        None,
        lambda w: {"username": "customer", "password": DEFAULT_PASSWORD},
    ),
    "create_product": Endpoint(
        "POST",
        "/api/products",
        "admin",
        lambda w: {"name": "Kettle", "description": "Steel.", "price": "30.00", "stock": 3},
    ),
    "patch_product": Endpoint(
        "PATCH", "/api/products/{product}", "admin", lambda w: {"name": "Kettle"}
    ),
    "put_product": Endpoint(
        "PUT",
        "/api/products/{product}",
        "admin",
        lambda w: {"name": "Kettle", "description": "Steel.", "price": "30.00", "stock": 3},
    ),
    "add_to_cart": Endpoint(
        "POST", "/api/cart", "customer", lambda w: {"product_id": w.product_id, "quantity": 1}
    ),
    "set_quantity": Endpoint("PUT", "/api/cart/{product}", "customer", lambda w: {"quantity": 3}),
    "adjust_stock": Endpoint(
        "POST",
        "/api/products/{product}/stock",
        "admin",
        lambda w: {"delta": 5, "reason": "restock"},
    ),
    "order_status": Endpoint("PATCH", "/api/orders/{order}", "admin", lambda w: {"status": "paid"}),
}
BODY_ENDPOINTS = list(ENDPOINTS)

LIST_ENDPOINTS = {
    "products": Endpoint("GET", "/api/products", None),
    "order_history": Endpoint("GET", "/api/orders/history", "customer"),
    "admin_orders": Endpoint("GET", "/api/admin/orders", "admin"),
    "low_stock": Endpoint("GET", "/api/admin/low-stock", "admin"),
    "stock_movements": Endpoint("GET", "/api/products/{product}/stock-movements", "admin"),
}

ID_ENDPOINTS = {
    "get_product": Endpoint("GET", "/api/products/{id}", None),
    "put_product": Endpoint("PUT", "/api/products/{id}", "admin", lambda w: {"name": "Kettle"}),
    "patch_product": Endpoint("PATCH", "/api/products/{id}", "admin", lambda w: {"name": "Kettle"}),
    "delete_product": Endpoint("DELETE", "/api/products/{id}", "admin"),
    "set_quantity": Endpoint("PUT", "/api/cart/{id}", "customer", lambda w: {"quantity": 1}),
    "remove_from_cart": Endpoint("DELETE", "/api/cart/{id}", "customer"),
    "get_order": Endpoint("GET", "/api/orders/{id}", "customer"),
    "cancel_order": Endpoint("POST", "/api/orders/{id}/cancel", "customer"),
    "order_status": Endpoint("PATCH", "/api/orders/{id}", "admin", lambda w: {"status": "paid"}),
    "adjust_stock": Endpoint(
        "POST", "/api/products/{id}/stock", "admin", lambda w: {"delta": 1, "reason": "restock"}
    ),
    "stock_movements": Endpoint("GET", "/api/products/{id}/stock-movements", "admin"),
}


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def world(client, auth, make_product):
    """A product, a pending order of the customer's, and a cart line: something to damage."""
    product = make_product(name="Teapot", price="19.99", stock=10)
    assert auth.admin  # users are made on first use: make them before the snapshot

    def ok(response):
        assert response.status_code < 300, response.get_data(as_text=True)
        return response.get_json()

    ok(client.post("/api/cart", json={"product_id": product.id}, headers=auth.customer))
    order = ok(client.post("/api/orders", headers=auth.customer))
    line = {"product_id": product.id, "quantity": 2}
    ok(client.post("/api/cart", json=line, headers=auth.customer))
    return SimpleNamespace(
        product_id=product.id, order_id=order["id"], customer_id=auth.customer_user.id
    )


def snapshot(query, world) -> dict:
    """Everything a malformed request could touch."""
    return {
        "counts": {
            model.__name__: count_rows(query, model)
            for model in (Product, User, CartItem, Order, StockMovement)
        },
        "stock": stock_of(query, world.product_id),
        "cart": cart_lines(query, world.customer_id),
        "products": query(
            lambda s: [
                (p.id, p.name, p.description, p.price, p.stock, p.updated_at, p.deleted_at)
                for p in s.scalars(select(Product).order_by(Product.id))
            ]
        ),
        "orders": query(lambda s: [(o.id, o.status) for o in s.scalars(select(Order))]),
    }


@pytest.fixture
def unchanged(query, world):
    """Call it after the request: asserts the database is as it was before."""
    before = snapshot(query, world)

    def check():
        assert snapshot(query, world) == before

    return check


@pytest.fixture
def send(client, auth, world):
    """Send a request to an endpoint as its role; `json=`/`data=` etc. go to client.open."""

    def run(endpoint: Endpoint, *, url: str | None = None, **kwargs):
        headers = getattr(auth, endpoint.role) if endpoint.role else {}
        return client.open(
            url or endpoint.url(world), method=endpoint.method, headers=headers, **kwargs
        )

    return run


def raw_json(body: dict) -> dict:
    """Request kwargs for a body serialised by json.dumps as is (NaN, Infinity, big ints)."""
    return {"data": json.dumps(body), "content_type": "application/json"}


def assert_invalid(response, field: str) -> None:
    """422 problem naming exactly this field."""
    body = assert_problem(response, 422, field)
    assert set(body["errors"]) == {field}, body


def cases(*rows):
    """pytest params `(endpoint, field, value)` with readable ids."""
    return [
        pytest.param(endpoint, field, value, id=f"{endpoint}-{field}={value!r:.40}")
        for endpoint, field, value in rows
    ]


# --- the baseline: the valid bodies used below are accepted --------------------------------


@pytest.mark.parametrize("name", BODY_ENDPOINTS)
def test_valid_body_is_accepted(send, world, name):
    """Control: each endpoint's valid body succeeds, so the rejections below are the input's."""
    endpoint = ENDPOINTS[name]
    response = send(endpoint, json=endpoint.body(world))
    assert response.status_code in (200, 201), response.get_data(as_text=True)


# --- body syntax and media type ------------------------------------------------------------

NOT_JSON = {
    "truncated": b'{"name": ',
    "single_quotes": b"{'name': 'x'}",
    "trailing_garbage": b"{} x",
    "invalid_utf8": b'{"name": "\xff"}',
}


@pytest.mark.parametrize("kind", NOT_JSON)
@pytest.mark.parametrize("name", BODY_ENDPOINTS)
def test_body_that_is_not_json_is_400(send, unchanged, name, kind):
    response = send(ENDPOINTS[name], data=NOT_JSON[kind], content_type="application/json")
    assert_problem(response, 400)
    unchanged()


@pytest.mark.parametrize("payload", ["[1, 2]", '"x"', "3", "null", "true"])
@pytest.mark.parametrize("name", BODY_ENDPOINTS)
def test_json_that_is_not_an_object_is_422(send, unchanged, name, payload):
    # Valid JSON, wrong shape: a validation error (like a wrong field type), not a syntax one.
    response = send(ENDPOINTS[name], data=payload, content_type="application/json")
    body = assert_problem(response, 422)
    assert "object" in body["detail"].lower(), body  # say what is wrong, in the client's terms
    unchanged()


@pytest.mark.parametrize("kwargs", [{}, {"data": b"", "content_type": "application/json"}])
@pytest.mark.parametrize("name", BODY_ENDPOINTS)
def test_missing_body_is_422_naming_body(send, unchanged, name, kwargs):
    """Found by the fuzzer: PUT/PATCH without a body answered 200 as an empty update."""
    assert_invalid(send(ENDPOINTS[name], **kwargs), "body")
    unchanged()


PARSER_LIMITS = {
    "5000_digit_integer": "9" * 5_000,  # Python refuses int literals over 4,300 digits
    "deep_nesting": "[" * 100_000 + "]" * 100_000,  # past the decoder's recursion limit
}


@pytest.mark.parametrize("kind", PARSER_LIMITS)
@pytest.mark.parametrize(
    ("name", "field"),
    [("add_to_cart", "quantity"), ("create_product", "stock"), ("login", "username")],
)
def test_json_past_the_parsers_limits_is_400_or_422(send, world, unchanged, name, field, kind):
    # Valid JSON that the parser gives up on: unreadable (400) or an invalid field (422), the
    # client's fault either way, never a 500.
    endpoint = ENDPOINTS[name]
    text = json.dumps({**endpoint.body(world), field: "<raw>"})
    response = send(
        endpoint, data=text.replace('"<raw>"', PARSER_LIMITS[kind]), content_type="application/json"
    )
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert_problem(response, response.status_code)
    unchanged()


WRONG_MEDIA = {
    "text_plain": lambda body: {"data": json.dumps(body), "content_type": "text/plain"},
    "form_urlencoded": lambda body: {
        "data": "name=Kettle&price=30.00",
        "content_type": "application/x-www-form-urlencoded",
    },
    "multipart": lambda body: {
        "data": {"name": "Kettle", "file": (io.BytesIO(json.dumps(body).encode()), "body.json")}
    },
    "no_content_type": lambda body: {"data": json.dumps(body).encode()},
}


@pytest.mark.parametrize("media", WRONG_MEDIA)
@pytest.mark.parametrize("name", BODY_ENDPOINTS)
def test_body_that_is_not_json_media_type_is_415(send, world, unchanged, name, media):
    endpoint = ENDPOINTS[name]
    response = send(endpoint, **WRONG_MEDIA[media](endpoint.body(world)))
    assert_problem(response, 415)
    unchanged()


# --- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "field", "value"),
    cases(
        ("create_product", "price", 1e30),
        ("create_product", "price", 10**30),
        ("create_product", "price", "1e30"),
        ("create_product", "price", "10000000000.00"),
        ("patch_product", "price", 1e30),
        ("put_product", "price", 10**30),
        ("create_product", "stock", 2**63),
        ("patch_product", "stock", 2**63),
        ("create_product", "stock", 1e30),
        ("add_to_cart", "quantity", 10**20),
        ("set_quantity", "quantity", 10**20),
        ("add_to_cart", "product_id", 2**64),
        ("adjust_stock", "delta", 10**19),
        ("adjust_stock", "delta", -(10**19)),
    ),
)
def test_huge_number_is_422_naming_the_field(send, world, unchanged, name, field, value):
    endpoint = ENDPOINTS[name]
    response = send(endpoint, **raw_json({**endpoint.body(world), field: value}))
    assert_invalid(response, field)
    unchanged()


@pytest.mark.parametrize(
    ("name", "field", "value"),
    cases(
        *[("add_to_cart", "quantity", value) for value in (-1, 0, 1.5, "2.5", "2", True)],
        *[("set_quantity", "quantity", value) for value in (-1, 1.5, "2.5", "2", True)],
        *[("create_product", "stock", value) for value in (-1, 1.5, "2.5")],
        *[("patch_product", "stock", value) for value in (-1, 1.5)],
        *[("adjust_stock", "delta", value) for value in (0, 1.5, "2.5")],
    ),
)
def test_negative_zero_or_fractional_count_is_422_naming_it(
    send, world, unchanged, name, field, value
):
    # PUT /api/cart/<id> takes 0 (it removes the line), so 0 is only invalid when adding.
    endpoint = ENDPOINTS[name]
    response = send(endpoint, **raw_json({**endpoint.body(world), field: value}))
    assert_invalid(response, field)
    unchanged()


@pytest.mark.parametrize("price", ["1.999", 1.999, "0.001", "-1.00"])
@pytest.mark.parametrize("name", ["create_product", "patch_product", "put_product"])
def test_price_with_three_decimals_or_negative_is_422(send, world, unchanged, name, price):
    # Money is exact: rounding "1.999" to "2.00" would silently change what the admin typed.
    endpoint = ENDPOINTS[name]
    response = send(endpoint, **raw_json({**endpoint.body(world), "price": price}))
    assert_invalid(response, "price")
    unchanged()


NON_FINITE = [float("nan"), float("inf"), float("-inf"), "NaN", "Infinity"]


@pytest.mark.parametrize("value", NON_FINITE, ids=repr)
@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("create_product", "price"),
        ("patch_product", "price"),
        ("create_product", "stock"),
        ("add_to_cart", "quantity"),
        ("set_quantity", "quantity"),
        ("adjust_stock", "delta"),
    ],
)
def test_nan_and_infinity_are_422_naming_the_field(send, world, unchanged, name, field, value):
    # json.dumps writes the bare literals NaN/Infinity/-Infinity, which Python's parser accepts.
    endpoint = ENDPOINTS[name]
    response = send(endpoint, **raw_json({**endpoint.body(world), field: value}))
    assert_invalid(response, field)
    unchanged()


# --- strings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "field", "value"),
    cases(
        ("create_product", "name", LONG),
        ("patch_product", "name", LONG),
        ("put_product", "name", LONG),
        # Descriptions are long-form; the cap is 10,000 characters, one more is too many.
        ("create_product", "description", "x" * 10_001),
        ("patch_product", "description", "x" * 10_001),
        ("register", "username", LONG),
        ("register", "email", "x" * 9_988 + "@example.com"),
        ("register", "password", LONG),
        ("login", "username", LONG),
        ("login", "password", LONG),
        ("adjust_stock", "reason", LONG),
        ("order_status", "status", LONG),
    ),
)
def test_ten_thousand_character_string_is_422_naming_the_field(
    send, world, unchanged, name, field, value
):
    endpoint = ENDPOINTS[name]
    response = send(endpoint, json={**endpoint.body(world), field: value})
    assert_invalid(response, field)
    unchanged()


@pytest.mark.parametrize("name", ["create_product", "put_product", "patch_product"])
def test_unicode_product_name_round_trips(client, auth, send, world, query, name):
    endpoint = ENDPOINTS[name]
    products = count_rows(query, Product)
    payload = {**endpoint.body(world), "name": UNICODE_NAME, "description": UNICODE_NAME}
    response = send(endpoint, json=payload)
    assert response.status_code == (201 if endpoint.method == "POST" else 200)
    body = response.get_json()
    assert body["name"] == UNICODE_NAME
    assert body["description"] == UNICODE_NAME
    fetched = client.get(f"/api/products/{body['id']}").get_json()
    assert (fetched["name"], fetched["description"]) == (UNICODE_NAME, UNICODE_NAME)
    assert count_rows(query, Product) == products + (endpoint.method == "POST")


@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("create_product", "name"),
        ("patch_product", "name"),
        ("put_product", "name"),
        ("create_product", "description"),
        ("register", "username"),
        ("register", "password"),
        ("login", "username"),
        ("adjust_stock", "reason"),
    ],
)
def test_control_character_is_422_naming_the_field(send, world, unchanged, name, field, char):
    endpoint = ENDPOINTS[name]
    value = f"ab{char}cdefghij"  # long enough for every minimum length
    response = send(endpoint, json={**endpoint.body(world), field: value})
    assert_invalid(response, field)
    unchanged()


# --- fields that do not exist --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "field", "value"),
    cases(
        ("register", "is_admin", True),
        ("register", "id", 5),
        ("login", "remember_me", True),
        ("create_product", "id", 5),
        ("create_product", "created_at", "2020-01-01T00:00:00+00:00"),
        ("create_product", "deleted_at", None),
        ("patch_product", "id", 5),
        ("put_product", "updated_at", "2020-01-01T00:00:00+00:00"),
        ("add_to_cart", "user_id", 1),
        ("add_to_cart", "unit_price", "0.01"),
        ("set_quantity", "product_id", 1),
        ("adjust_stock", "order_id", 1),
        ("order_status", "total", "0.00"),
    ),
)
def test_unknown_json_field_is_422_naming_it(send, world, unchanged, name, field, value):
    endpoint = ENDPOINTS[name]
    response = send(endpoint, json={**endpoint.body(world), field: value})
    assert_invalid(response, field)
    unchanged()


# --- query parameters ----------------------------------------------------------------------


@pytest.mark.parametrize("param", BAD_PAGINATION)
@pytest.mark.parametrize("name", LIST_ENDPOINTS)
def test_bad_pagination_is_422_naming_the_parameter(send, world, unchanged, name, param):
    endpoint = LIST_ENDPOINTS[name]
    response = send(endpoint, url=f"{endpoint.url(world)}?{param}")
    assert_invalid(response, param.split("=")[0])
    unchanged()


@pytest.mark.parametrize(
    ("name", "param"),
    [
        ("products", "foo"),
        ("products", "per_pgae"),
        ("order_history", "pgae"),
        ("admin_orders", "usr_id"),
        ("low_stock", "treshold"),
        ("stock_movements", "foo"),
    ],
)
def test_unknown_query_parameter_is_422_naming_it(send, world, unchanged, name, param):
    # A typo like per_pgae=50 silently giving 20 items hides the client's bug; say so.
    endpoint = LIST_ENDPOINTS[name]
    response = send(endpoint, url=f"{endpoint.url(world)}?{param}=1")
    assert_invalid(response, param)
    unchanged()


@pytest.mark.parametrize(
    ("name", "param", "value"),
    cases(
        ("products", "page", LONG),
        ("products", "per_page", "1" * 10_000),
        ("admin_orders", "status", LONG),
        ("admin_orders", "user_id", "1" * 10_000),
        ("low_stock", "threshold", "9" * 10_000),
        ("order_history", "page", "1" * 10_000),
    ),
)
def test_ten_thousand_character_query_value_is_422_naming_it(
    send, world, unchanged, name, param, value
):
    endpoint = LIST_ENDPOINTS[name]
    response = send(endpoint, url=f"{endpoint.url(world)}?{param}={value}")
    assert_invalid(response, param)
    unchanged()


@pytest.mark.parametrize("user_id", ["99999999999999999999", str(2**63), "0", "-1", "abc"])
def test_admin_orders_user_id_out_of_range_is_422(send, world, unchanged, user_id):
    endpoint = LIST_ENDPOINTS["admin_orders"]
    response = send(endpoint, url=f"{endpoint.url(world)}?user_id={user_id}")
    assert_invalid(response, "user_id")
    unchanged()


# --- ids in paths --------------------------------------------------------------------------


@pytest.mark.parametrize("bad_id", OUT_OF_RANGE_PATH_IDS)
@pytest.mark.parametrize("name", ID_ENDPOINTS)
def test_path_id_out_of_range_or_not_an_integer_is_404(send, world, unchanged, name, bad_id):
    # Never 500 (the database cannot hold it), never 405 (the route exists for the method).
    endpoint = ID_ENDPOINTS[name]
    kwargs = {"json": endpoint.body(world)} if endpoint.body else {}
    response = send(endpoint, url=endpoint.url(world, id=bad_id), **kwargs)
    assert_problem(response, 404)
    unchanged()


# --- text no database can store: lone surrogates and NUL (issue 12) --------------------------

# JSON escapes as a client writes them: a lone UTF-16 surrogate decodes to a Python str that
# no UTF-8 encoder takes (the driver's UnicodeEncodeError was a 500); PostgreSQL text cannot
# hold NUL.
UNSTORABLE = {"surrogate": "\\udbe2)", "low-surrogate": "ab\\udc00cd", "nul": "ab\\u0000cd"}


def with_raw_string(body: dict, field: str, escaped: str) -> dict:
    """Request kwargs for `body` whose `field` holds the JSON string literal `escaped`."""
    text = json.dumps({**body, field: "@@"}).replace('"@@"', f'"{escaped}"')
    return {"data": text, "content_type": "application/json"}


def assert_reads_work(client, auth, world) -> None:
    """What the fuzzer saw break after the bad writes: every read of the catalog."""
    for url in (
        f"/api/products/{world.product_id}",
        "/api/products",
        "/api/products?q=teapot",
        "/api/admin/low-stock?threshold=100",
    ):
        response = client.get(url, headers=auth.admin)
        assert response.status_code == 200, (url, response.get_data(as_text=True))


@pytest.mark.parametrize("kind", UNSTORABLE)
@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("adjust_stock", "reason"),
        ("create_product", "name"),
        ("patch_product", "name"),
        ("put_product", "description"),
        ("create_product", "sku"),
        ("register", "username"),
        ("register", "email"),
        ("login", "password"),
        ("order_status", "status"),
    ],
)
def test_unstorable_string_is_422_naming_the_field(
    client, auth, send, world, unchanged, name, field, kind
):
    endpoint = ENDPOINTS[name]
    response = send(endpoint, **with_raw_string(endpoint.body(world), field, UNSTORABLE[kind]))
    assert_invalid(response, field)
    body = response.get_json()
    assert body["detail"].startswith(f"{field}: "), body
    unchanged()
    assert_reads_work(client, auth, world)


@pytest.mark.parametrize("kind", UNSTORABLE)
@pytest.mark.parametrize("name", ["create_product", "patch_product", "put_product"])
def test_unstorable_image_alt_is_422_naming_its_path(
    client, auth, send, world, unchanged, name, kind
):
    endpoint = ENDPOINTS[name]
    image = '{"url": "https://cdn.example.com/a.jpg", "alt": "' + UNSTORABLE[kind] + '"}'
    text = json.dumps({**endpoint.body(world), "images": "@@"}).replace('"@@"', f"[{image}]")
    response = send(endpoint, data=text, content_type="application/json")
    assert_invalid(response, "images[0].alt")
    unchanged()
    assert_reads_work(client, auth, world)


@pytest.mark.parametrize(
    ("key", "path"),
    [("\\udbe2", "\\udbe2"), ("a\\u0000", "a\\u0000")],
    ids=["surrogate", "nul"],
)
def test_unstorable_field_name_is_422_naming_it_escaped(send, world, unchanged, key, path):
    endpoint = ENDPOINTS["patch_product"]
    response = send(endpoint, data='{"' + key + '": 1}', content_type="application/json")
    body = assert_problem(response, 422, path)
    assert body["errors"][path][0].startswith("Field name: "), body
    unchanged()


def test_every_unstorable_string_is_named_at_once(send, world, unchanged):
    text = '{"name": "\\udbe2", "images": [{"url": "https://a.example/x", "alt": "\\u0000"}]}'
    response = send(ENDPOINTS["patch_product"], data=text, content_type="application/json")
    body = assert_problem(response, 422, "name", "images[0].alt")
    assert set(body["errors"]) == {"name", "images[0].alt"}
    unchanged()


# --- partial updates replace nested objects whole (the reads that failed after writes) -------


@pytest.mark.parametrize("name", ["patch_product", "put_product"])
def test_partial_update_with_an_image_without_alt_stores_the_default(
    client, auth, send, world, name
):
    """PATCH/PUT are partial: marshmallow carried that into each image, skipping `alt`'s
    default, and the stored image without `alt` made every read of the product a 500."""
    endpoint = ENDPOINTS[name]
    payload = {**endpoint.body(world), "images": [{"url": "https://cdn.example.com/a.jpg"}]}
    response = send(endpoint, json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["images"] == [{"url": "https://cdn.example.com/a.jpg", "alt": ""}]
    assert_reads_work(client, auth, world)


@pytest.mark.parametrize("name", ["patch_product", "put_product"])
def test_partial_update_with_an_image_without_url_is_422(send, world, unchanged, name):
    endpoint = ENDPOINTS[name]
    response = send(endpoint, json={**endpoint.body(world), "images": [{"alt": "A mug"}]})
    body = assert_problem(response, 422)
    assert body["errors"]["images"] == {"0": {"url": ["Missing data for required field."]}}
    assert body["detail"] == "images[0].url: Missing data for required field."
    unchanged()


def test_stored_image_without_alt_still_reads(client, auth, world, query):
    """Rows written before the fix may lack `alt`: reads serve it as empty, never a 500."""

    def strip_alt(session):
        product = session.get(Product, world.product_id)
        product.images = [{"url": "https://cdn.example.com/a.jpg"}]
        session.commit()

    query(strip_alt)
    assert_reads_work(client, auth, world)
    body = client.get(f"/api/products/{world.product_id}").get_json()
    assert body["images"] == [{"url": "https://cdn.example.com/a.jpg", "alt": ""}]


# --- the document's types, exactly: booleans and integers ------------------------------------


@pytest.mark.parametrize(
    ("name", "field", "value"),
    cases(
        ("patch_product", "is_active", 0),
        ("patch_product", "is_active", 1),
        ("patch_product", "is_active", "true"),
        ("patch_product", "is_active", "yes"),
        ("put_product", "is_active", None),
        ("create_product", "is_active", 1),
        ("create_product", "stock", 1.0),
        ("create_product", "stock", "1"),
        ("patch_product", "stock", True),
        ("add_to_cart", "quantity", 1.0),
        ("add_to_cart", "quantity", "1"),
        ("add_to_cart", "product_id", 1.0),
        ("set_quantity", "quantity", True),
        ("adjust_stock", "delta", 1.0),
        ("adjust_stock", "delta", "5"),
    ),
)
def test_json_value_of_another_type_is_422_naming_it(send, world, unchanged, name, field, value):
    endpoint = ENDPOINTS[name]
    response = send(endpoint, json={**endpoint.body(world), field: value})
    assert_invalid(response, field)
    unchanged()


@pytest.mark.parametrize("value", [True, False])
def test_json_boolean_is_accepted(send, world, value):
    response = send(ENDPOINTS["patch_product"], json={"is_active": value})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["is_active"] is value


QUERY_BOOLEANS = [
    ("products", "in_stock"),
    ("products", "include_inactive"),
]


@pytest.mark.parametrize("value", ["1", "0", "yes", "no", "True", "FALSE", "on", "t", ""])
@pytest.mark.parametrize(("name", "param"), QUERY_BOOLEANS)
def test_query_boolean_other_than_true_or_false_is_422(send, world, unchanged, name, param, value):
    endpoint = LIST_ENDPOINTS[name]
    response = send(endpoint, url=f"{endpoint.url(world)}?{param}={value}")
    assert_invalid(response, param)
    unchanged()


@pytest.mark.parametrize("value", ["true", "false"])
def test_query_boolean_true_or_false_is_accepted(client, auth, world, value):
    response = client.get(
        f"/api/products?in_stock={value}&include_inactive={value}", headers=auth.admin
    )
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["1", "yes", "True"])
def test_category_delete_force_other_than_true_or_false_is_422(client, auth, value):
    category = client.post("/api/categories", json={"name": "Tea"}, headers=auth.admin)
    url = f"/api/categories/{category.get_json()['id']}?force={value}"
    assert_invalid(client.delete(url, headers=auth.admin), "force")
    assert client.get(f"/api/categories/{category.get_json()['id']}").status_code == 200


@pytest.mark.parametrize("value", ["1.0", " 1", "1 ", "+1", "1_0", "\u0661", "0x1", "1e1"])
@pytest.mark.parametrize(
    ("name", "param"),
    [("products", "page"), ("low_stock", "per_page"), ("low_stock", "threshold")],
)
def test_query_integer_other_than_digits_is_422(send, world, unchanged, name, param, value):
    endpoint = LIST_ENDPOINTS[name]
    response = send(endpoint, url=endpoint.url(world), query_string={param: value})
    assert_invalid(response, param)
    unchanged()


@pytest.mark.parametrize(
    ("name", "param", "values"),
    [
        ("low_stock", "page", ["1", "abc"]),
        ("low_stock", "page", ["1", "1"]),
        ("low_stock", "threshold", ["5", "6"]),
        ("products", "per_page", ["20", "50"]),
        ("products", "q", ["tea", "pot"]),
        ("products", "include_inactive", ["false", "false"]),
        ("admin_orders", "status", ["pending", "paid"]),
        ("stock_movements", "page", ["1", "2"]),
    ],
)
def test_single_valued_query_parameter_given_twice_is_422(
    send, world, unchanged, name, param, values
):
    endpoint = LIST_ENDPOINTS[name]
    response = send(endpoint, url=endpoint.url(world), query_string=[(param, v) for v in values])
    body = assert_problem(response, 422, param)
    assert body["errors"][param] == ["Must be given once."]
    unchanged()
