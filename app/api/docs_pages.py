"""The documentation pages: Swagger UI (/api/docs) and ReDoc (/api/redoc) load their assets
from the installed openapi-ui-bundles package, never from a CDN, so the docs work offline."""

import flask
from openapi_ui_bundles import redoc, swagger_ui

DOC_ASSETS_URL = "/api/docs-assets"


DOCS_PAGES = ("/api/docs", "/api/redoc")
# ReDoc's menu always shows a logo from a CDN: the browser may load images from here only
# (the <img> then hides itself), so the docs pages make no outside request at all.
DOCS_PAGE_POLICY = "img-src 'self' data:"


def doc_assets_blueprints() -> list[flask.Blueprint]:
    """Static routes for the Swagger UI and ReDoc files shipped by openapi-ui-bundles, the
    docs pages' image policy, and an empty /favicon.ico (browsers ask for it on every page)."""
    blueprints = [
        flask.Blueprint(
            f"{name}_assets",
            __name__,
            static_folder=str(bundle.static_path),
            static_url_path=f"{DOC_ASSETS_URL}/{name}",
        )
        for name, bundle in (("swagger_ui", swagger_ui), ("redoc", redoc))
    ]
    pages = flask.Blueprint("docs_pages", __name__)

    @pages.after_app_request
    def images_from_this_server(response):
        if flask.request.path.rstrip("/") in DOCS_PAGES:
            response.headers["Content-Security-Policy"] = DOCS_PAGE_POLICY
        return response

    @pages.get("/favicon.ico")
    def favicon():
        response = flask.Response(status=204)
        response.cache_control.public = True
        response.cache_control.max_age = 86400
        return response

    return [*blueprints, pages]
