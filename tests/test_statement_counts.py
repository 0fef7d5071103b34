"""SQL statements per request stay constant and small whatever the data (no N+1): the
budgets of the benchmark issue, counted with a SQLAlchemy event listener (tests/conftest.py).

The catalog reads are counted in tests/test_catalog.py (list <= 3, detail 1, kept 0).
"""

import pytest


@pytest.fixture
def shopper(auth, make_product, client):
    """A customer whose cart holds `n` lines: shopper(n) -> headers."""

    def fill(lines: int) -> dict:
        headers = auth.user().headers
        for _ in range(lines):
            line = {"product_id": make_product(stock=50).id, "quantity": 2}
            assert client.post("/api/cart", json=line, headers=headers).status_code == 200
        return headers

    return fill


@pytest.mark.parametrize("lines", [0, 1, 5, 30])
def test_cart_view_takes_2_statements(client, statements, shopper, lines):
    # The login with its user, then the lines with their products.
    assert statements(client, "/api/cart", shopper(lines)) == 2


@pytest.mark.parametrize("lines", [1, 2, 3, 5, 10])
def test_checkout_takes_6_statements_plus_1_per_line(client, statements, shopper, lines):
    """Login; cart emptied as it is read; per line, the guarded stock UPDATE; the order, its
    lines, its history and the ledger rows, one INSERT each."""
    count = statements(client, "/api/orders", shopper(lines), method="post", status=201)
    assert count == 6 + lines
    if lines >= 2:
        assert count <= 4 + 2 * lines  # the benchmark's budget


@pytest.mark.parametrize("orders", [1, 15])
def test_order_history_takes_the_same_statements_whatever_it_holds(
    client, statements, auth, make_product, orders
):
    headers = auth.user().headers
    product = make_product(stock=100)
    for _ in range(orders):
        line = {"product_id": product.id, "quantity": 1}
        client.post("/api/cart", json=line, headers=headers)
        assert client.post("/api/orders", headers=headers).status_code == 201
    # The login with its user, the page of orders (item counts included), the total.
    assert statements(client, "/api/orders/history", headers) == 3


@pytest.mark.parametrize(
    "roles",
    [("catalog_manager",), ("customer", "catalog_manager", "support", "order_manager")],
    ids=["one role", "four roles"],
)
def test_the_permission_check_reads_the_roles_with_the_login(client, statements, auth, roles):
    """However many roles the user holds: the login with its user and his roles (one query),
    then the page and its total. A refusal costs that one query only."""
    headers = auth.user(roles=roles).headers
    assert statements(client, "/api/admin/low-stock?threshold=5", headers) == 3
    refused = statements(client, "/api/admin/webhooks", headers, status=403)
    assert refused == 1
