"""The framework ceiling: a bare Flask app that answers GET /api/products with the exact bytes
the store's product-list page returned, touching no database. Served by the same gunicorn
settings as the store (bench/run.py), it is the most the stack can do for that page."""

import os

from flask import Flask, Response


def create_app() -> Flask:
    with open(os.environ["CEILING_BODY"], "rb") as body_file:
        body = body_file.read()
    app = Flask(__name__)

    @app.get("/api/products")
    def products():
        return Response(body, mimetype="application/json")

    return app
