"""Kept catalog answers on a real 4-worker server: every worker keeps its own copies, and a
write acknowledged by any of them (an admin's price change, a checkout's stock) is what the
very next read of every worker shows (app.api.caching: the database's catalog version)."""

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.concurrency.live import call

ROUNDS = 6
READS = 32  # per round: spread over the 4 workers, several each


def read_all(live_store, paths: list[str]) -> list[dict]:
    def read(path):
        with requests.Session() as http:
            outcome = call(http, "GET", live_store.url(path), "read")
            assert outcome.status == 200, outcome.body
            return outcome.body

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(read, paths * (READS // len(paths))))


def test_every_worker_shows_the_last_acknowledged_write(live_store):
    (admin,) = live_store.users(1, admin=True)
    (buyer,) = live_store.users(1)
    product_id = live_store.product(stock=1000, price="10.00")
    detail = f"/api/products/{product_id}"
    paths = [detail, "/api/products?per_page=5"]

    def shown(bodies):
        found = set()
        for body in bodies:
            item = body if "id" in body else body["items"][0]
            found.add((item["price"], item["stock"]))
        return found

    assert shown(read_all(live_store, paths)) == {("10.00", 1000)}
    stock = 1000
    for round_ in range(1, ROUNDS + 1):
        price = f"{10 + round_}.00"
        with requests.Session() as http:
            changed = call(http, "PATCH", live_store.url(detail), "reprice",
                           json={"price": price}, headers=admin.headers)  # fmt: skip
            assert changed.status == 200, changed.body
        assert shown(read_all(live_store, paths)) == {(price, stock)}
        assert live_store.add_to_cart(buyer.headers, product_id, round_).status == 200
        with requests.Session() as http:
            placed = call(http, "POST", live_store.url("/api/orders"), "order",
                          headers=buyer.headers)  # fmt: skip
            assert placed.status == 201, placed.body
        stock -= round_
        assert shown(read_all(live_store, paths)) == {(price, stock)}
