"""A product's JSON body, written out (the catalog's hot path): from a Product, or from a row
of its columns read without the ORM (app.catalog.products.product_page). ProductSchema
documents it and uses it; tests/test_catalog.py checks the two agree for every product."""

from typing import NamedTuple

from app.platform.money import money_text


class CategoryRef(NamedTuple):
    id: int
    name: str
    slug: str


def product_body(product, category) -> dict:
    """The body of a product (a Product, or a row with its columns) and its category (with
    `id`, `name` and `slug`, or None)."""
    return {
        "id": product.id,
        "name": product.name,
        "description": product.description,
        "price": money_text(product.price),
        "stock": product.stock,
        "sku": product.sku,
        "slug": product.slug,
        "category_id": product.category_id,
        "category": (
            None
            if category is None
            else {"id": category.id, "name": category.name, "slug": category.slug}
        ),
        # .get: rows saved before WholeNested may lack a key (a PATCH skipped the defaults).
        "images": [
            {"url": image.get("url", ""), "alt": image.get("alt", "")} for image in product.images
        ],
        "is_active": product.is_active,
        "created_at": product.created_at.isoformat(),
        "updated_at": product.updated_at.isoformat(),
    }
