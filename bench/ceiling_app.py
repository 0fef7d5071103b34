"""The framework ceiling: a bare Flask app that answers each read scenario's path with the
exact bytes the store returned for it (CEILING_BODIES: a JSON map of route to body file),
touching no database. Served by the same gunicorn settings as the store (bench/run.py), it is
the most the stack can do for that answer. Writes (login, add to cart) are measured against
the list page's: the cheapest answer the framework gives."""

import json
import os

from flask import Flask, Response


def create_app() -> Flask:
    with open(os.environ["CEILING_BODIES"]) as index:
        files = json.load(index)
    bodies = {}
    for name, path in files.items():
        with open(path, "rb") as body_file:
            bodies[name] = body_file.read()
    app = Flask(__name__)

    def answer(name):
        return lambda **_ids: Response(bodies[name], mimetype="application/json")

    app.add_url_rule("/api/products", "list", answer("list"))
    app.add_url_rule("/api/products/<int:product_id>", "detail", answer("detail"))
    app.add_url_rule("/api/cart", "cart", answer("cart"))
    return app
