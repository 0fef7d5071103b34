"""Category rules: the tree (no cycles), unique slugs, and what deleting one does.

Every change is one transaction (app.platform.db.transaction). Deleting a category that still
has products or sub-categories is refused (409) unless forced: `force` moves its products to
no category and lifts its direct sub-categories to its own parent, in the same transaction.
"""

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.audit import services as audit
from app.catalog.slugs import unique_slug
from app.platform.db import db, taken, transaction, utcnow
from app.platform.errors import Conflict, NotFound, ValidationFailed
from app.platform.models import AuditAction, Category, Product
from app.platform.pages import paginate

EDITABLE_FIELDS = ("name", "slug", "parent_id", "description")

# Two admins saving the same slug at once, or a parent deleted meanwhile: the database decides.
RACE = "Another change to the categories happened at the same time; reload and try again."


def list_categories(page: int, per_page: int) -> Pagination:
    return paginate(select(Category).order_by(Category.id), page, per_page)


def get_category(category_id: int, *, for_update: bool = False) -> Category:
    """The category; `for_update` locks its row and reloads it."""
    category = db.session.get(
        Category, category_id, with_for_update=for_update, populate_existing=for_update
    )
    if category is None:
        raise NotFound(f"Category {category_id} was not found.")
    return category


def _check_slug(slug: str, category_id: int | None = None) -> None:
    if taken(Category.id, Category.slug == slug, category_id):
        raise Conflict(f"Another category has the slug '{slug}'.")


def _check_parent(parent_id: int | None, category_id: int | None = None) -> None:
    """The parent exists and is neither the category itself nor one of its descendants (422).

    Walks up from the new parent, locking each ancestor (FOR UPDATE on PostgreSQL): two moves
    that together would close a loop lock a common row, so the second one sees the first.
    """
    if parent_id is None:
        return
    if parent_id == category_id:
        raise ValidationFailed({"parent_id": ["A category cannot be its own parent."]})
    seen: set[int] = set()
    ancestor_id: int | None = parent_id
    while ancestor_id is not None and ancestor_id not in seen:
        if ancestor_id == category_id:
            message = f"Category {parent_id} is below this category: it cannot be its parent."
            raise ValidationFailed({"parent_id": [message]})
        seen.add(ancestor_id)
        ancestor = db.session.get(
            Category, ancestor_id, with_for_update=True, populate_existing=True
        )
        if ancestor is None:
            raise ValidationFailed({"parent_id": [f"No category has the id {parent_id}."]})
        ancestor_id = ancestor.parent_id


def create_category(data: dict) -> Category:
    """A new category; its slug is made from the name when omitted (`coffee`, `coffee-2`...)."""
    try:
        with transaction() as session:
            _check_parent(data.get("parent_id"))
            slug = data.get("slug")
            if slug is not None:
                _check_slug(slug)
            else:
                slug = unique_slug(Category.slug, data["name"], fallback="category")
            category = Category(
                **{field: data[field] for field in EDITABLE_FIELDS if field in data}
            )
            category.slug = slug
            session.add(category)
            audit.created(AuditAction.CATEGORY_CREATE, category)
    except IntegrityError:
        raise Conflict(RACE) from None
    return category


def update_category(category_id: int, changes: dict) -> Category:
    """Apply the given fields; omitted ones keep their value, the slug too when the name
    changes. The parent cannot be the category itself or one of its descendants (422)."""
    try:
        with transaction():
            category = get_category(category_id, for_update=True)
            if "parent_id" in changes:
                _check_parent(changes["parent_id"], category_id)
            if "slug" in changes:
                _check_slug(changes["slug"], category_id)
            with audit.updating(AuditAction.CATEGORY_UPDATE, category):
                for field in EDITABLE_FIELDS:
                    if field in changes:
                        setattr(category, field, changes[field])
    except IntegrityError:
        raise Conflict(RACE) from None
    return category


def _count(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def delete_category(category_id: int, *, force: bool = False) -> None:
    """Delete the category.

    One that still has products (not deleted ones; active or not) or sub-categories is a 409,
    unless `force`: then its products move to no category (`category_id` null) and its direct
    sub-categories move up to its own parent (null at the top), before it goes. Deleted
    products that pointed at it are moved to no category either way.
    """
    try:
        with transaction() as session:
            category = get_category(category_id, for_update=True)
            products = session.execute(
                select(func.count())
                .select_from(Product)
                .where(Product.category_id == category_id, Product.deleted_at.is_(None))
            ).scalar_one()
            children = session.execute(
                select(func.count()).select_from(Category).where(Category.parent_id == category_id)
            ).scalar_one()
            if (products or children) and not force:
                raise Conflict(
                    f"Category '{category.name}' has {_count(products, 'product', 'products')} "
                    f"and {_count(children, 'sub-category', 'sub-categories')}: delete it with "
                    "?force=true to move its products to no category and its sub-categories "
                    "up to its parent."
                )
            session.execute(
                update(Product)
                .where(Product.category_id == category_id)
                .values(category_id=None, updated_at=utcnow())
            )
            session.execute(
                update(Category)
                .where(Category.parent_id == category_id)
                .values(parent_id=category.parent_id, updated_at=utcnow())
            )
            audit.deleted(AuditAction.CATEGORY_DELETE, category)
            session.delete(category)
    except IntegrityError:
        raise Conflict(RACE) from None
