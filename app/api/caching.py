"""HTTP caching of the public reads, and the rendered copies of the catalog's.

`cache_response` applies the HTTP policy to one answer (an ETag over the body,
Cache-Control, 304); `documents_caching` describes it in the OpenAPI document. Routes use
both through app.api.auth.decorators.public_read, which knows whether an answer holds data not
everyone may see.

Catalog reads (public_read(catalog=True): products and categories) are also kept rendered,
per worker, keyed by path and query string, with the catalog version they were rendered at.
The database keeps that version (the sum of catalog_versions, bumped by triggers on every
change of a product or a category, in the writer's transaction). Each request reads it once, before
anything else, through a connection in autocommit mode: a copy is served only while its
version is the committed one, so no worker serves a price or a stock level older than the
last acknowledged write. A copy rendered from a newer snapshot than its version is merely
discarded sooner. Requests that can see staff-only data (`include_inactive`) are never kept.
"""

import contextlib
import threading
from collections import OrderedDict
from typing import Any, NamedTuple, cast

import flask
from flask import current_app, g, request
from flask_smorest import Blueprint as BaseBlueprint

from app.api.openapi import header_parameter

PUBLIC_MAX_AGE = 60
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "schema": {"type": "string"},
    "description": "The ETag of the copy the client holds: 304 while it is current",
    # Empty, as a client without a copy sends it (Postman imports the example as a value).
    "example": "",
}
CACHE_HEADERS = {
    "ETag": {"schema": {"type": "string"}, "description": "Changes whenever the body does"},
    "Cache-Control": {
        "schema": {"type": "string", "example": f"public, max-age={PUBLIC_MAX_AGE}"},
        "description": "public for the public catalog; private, no-store with include_inactive",
    },
}
PUBLIC = f"public, max-age={PUBLIC_MAX_AGE}"
PRIVATE = "private, no-store"
# Request headers that can turn a 200 into a 304, 412 or 206 (werkzeug's make_conditional).
CONDITIONAL_HEADERS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
    "HTTP_RANGE",
)
# The catalog version: the sum of the rows the catalog triggers bump (see the migration
# cfb4e0223dfa for why several).
VERSION_QUERY = "SELECT CAST(sum(version) AS BIGINT) FROM catalog_versions"
# The query option that shows staff-only data: such answers are private, never kept.
STAFF_OPTION = b"include_inactive"
_EXTENSION = "catalog_cache"


def cache_response(response: flask.Response, *, public: bool) -> flask.Response:
    """A 200 gets an ETag and `public, max-age=60` (or `private, no-store` for data not
    everyone may see), and becomes a 304 with no body when If-None-Match holds the current
    ETag (werkzeug's make_conditional). A public catalog answer is also kept rendered."""
    if response.status_code != 200:
        return response
    response.headers["Cache-Control"] = PUBLIC if public else PRIVATE
    response.add_etag()
    if public and "catalog_entry" in g:
        current_app.extensions[_EXTENSION].keep(*g.catalog_entry, response)
    return _conditional(response)


def _conditional(response: flask.Response) -> flask.Response:
    """make_conditional, for the requests it can change (most send none of these)."""
    if not any(name in flask.request.environ for name in CONDITIONAL_HEADERS):
        return response
    response = cast(flask.Response, response.make_conditional(flask.request))
    # make_conditional adds a Date; the server adds its own, and two confuse caches.
    del response.headers["Date"]
    return response


def documents_caching(view):
    """The ETag and Cache-Control headers, the 304 and If-None-Match, in the document."""
    responses = {
        200: {"headers": CACHE_HEADERS},
        304: {"description": "Not Modified: the copy with that ETag is current (no body)"},
    }
    return header_parameter(IF_NONE_MATCH)(BaseBlueprint.doc(responses=responses)(view))


class Rendered(NamedTuple):
    version: int
    body: bytes
    headers: list[tuple[str, str]]  # Content-Type, ETag, Cache-Control


class CatalogCache:
    """The rendered catalog answers of one app in one process, at most `max_bytes` of bodies
    (least recently used first out)."""

    def __init__(self, app: flask.Flask, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes
        self.entries: OrderedDict[tuple[str, bytes], Rendered] = OrderedDict()
        self.size = 0
        self._connection: Any = None  # a DBAPI connection, once made
        # Threaded servers (the development server, gthread workers) share one cache.
        self._lock = threading.Lock()
        self._entries_lock = threading.Lock()

    def version(self) -> int | None:
        """The committed catalog version; None when the database cannot say (the request
        then goes the uncached way, and meets the error there if there is one)."""
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = self._connect()
                cursor = self._connection.cursor()
                cursor.execute(VERSION_QUERY)
                row = cursor.fetchone()
                cursor.close()
            except Exception:  # the next request reconnects
                self._drop_connection()
                return None
        return row[0] if row else None

    def _connect(self):
        """A pool connection kept for version reads, each in its own implicit transaction
        (autocommit): no BEGIN or ROLLBACK round trips, the latest commit always seen."""
        from app.platform.db import db

        with self.app.app_context():
            connection = db.engine.raw_connection()
        driver = connection.driver_connection
        # psycopg; SQLite's is autocommit already (app.platform.db).
        if hasattr(driver, "autocommit"):
            driver.autocommit = True
        return connection

    def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # it is being thrown away
                self._connection.invalidate()
        self._connection = None

    def clear(self) -> None:
        with self._entries_lock:
            self.entries.clear()
            self.size = 0

    def lookup(self, key, version: int) -> Rendered | None:
        with self._entries_lock:
            rendered = self.entries.get(key)
            if rendered is None or rendered.version != version:
                return None
            self.entries.move_to_end(key)
            return rendered

    def keep(self, key, version: int, response: flask.Response) -> None:
        body = response.get_data()
        if len(body) > self.max_bytes:
            return
        headers = [
            (name, response.headers[name]) for name in ("Content-Type", "ETag", "Cache-Control")
        ]
        with self._entries_lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= len(old.body)
            self.entries[key] = Rendered(version, body, headers)
            self.size += len(body)
            while self.size > self.max_bytes:
                _, evicted = self.entries.popitem(last=False)
                self.size -= len(evicted.body)


def serve_rendered_catalog():
    """before_request: a catalog read answered from its rendered copy while it is current;
    otherwise the view's answer is kept under this key and the version read here."""
    if request.method != "GET" or STAFF_OPTION in request.query_string:
        return None
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, "catalog_read", False):
        return None
    cache = current_app.extensions[_EXTENSION]
    version = cache.version()
    if version is None:
        return None
    key = (request.path, request.query_string)
    rendered = cache.lookup(key, version)
    if rendered is None:
        g.catalog_entry = (key, version)
        return None
    return _conditional(current_app.response_class(rendered.body, headers=rendered.headers))


def init_catalog_cache(app: flask.Flask) -> None:
    """Keep rendered catalog answers unless CATALOG_CACHE_MAX_BYTES is 0."""
    max_bytes = app.config["CATALOG_CACHE_MAX_BYTES"]
    if max_bytes <= 0:
        return
    app.extensions[_EXTENSION] = CatalogCache(app, max_bytes)
    app.before_request(serve_rendered_catalog)
