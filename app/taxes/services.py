"""Tax rates by country and region. Prices are tax-exclusive; an order pays the rate of the
region it ships to, else its country's, else none (rate_for)."""

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.audit import services as audit
from app.db import db, taken, transaction
from app.errors import NotFound, ValidationFailed
from app.models import AuditAction, TaxRate
from app.pagination import paginate

NO_TAX = Decimal("0.0000")
EDITABLE_FIELDS = ("country", "region", "rate")
# How regions compare (case-insensitively, none as ""), as the unique index on rates does.
REGION_KEY = func.lower(func.coalesce(TaxRate.region, ""))


def rate_query(country: str, region: str | None):
    """The rate as a scalar subquery: the region's if one is set, else the country's (region
    null), else 0. Checkout embeds it in the statement that empties the cart."""
    regions = [""] if not region else ["", region.lower()]
    found = (
        select(TaxRate.rate)
        .where(
            TaxRate.country == country,
            REGION_KEY.in_(regions),
        )
        .order_by(TaxRate.region.is_(None))  # a region's own rate first
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(found, NO_TAX)


def rate_for(country: str, region: str | None) -> Decimal:
    return db.session.scalar(select(rate_query(country, region).label("rate"))).quantize(NO_TAX)


def _duplicate(country: str, region: str | None) -> ValidationFailed:
    where = f"{country}, region {region}" if region else f"{country} (the whole country)"
    return ValidationFailed({"region": [f"A rate for {where} already exists."]})


def _check_unique(country: str, region: str | None, own_id: int | None = None) -> None:
    condition = (TaxRate.country == country) & ((region or "").lower() == REGION_KEY)
    if taken(TaxRate.id, condition, own_id):
        raise _duplicate(country, region)


def list_rates(page: int, per_page: int):
    stmt = select(TaxRate).order_by(TaxRate.country, TaxRate.region, TaxRate.id)
    return paginate(stmt, page, per_page)


def get_rate(rate_id: int) -> TaxRate:
    rate = db.session.get(TaxRate, rate_id)
    if rate is None:
        raise NotFound(f"Tax rate {rate_id} was not found.")
    return rate


def create_rate(data: dict) -> TaxRate:
    _check_unique(data["country"], data["region"])
    rate = TaxRate(**data)
    try:
        with transaction() as session:
            session.add(rate)
            audit.created(AuditAction.TAX_RATE_CREATE, rate)
    except IntegrityError:
        raise _duplicate(data["country"], data["region"]) from None
    return rate


def update_rate(rate_id: int, changes: dict) -> TaxRate:
    rate = get_rate(rate_id)
    country = changes.get("country", rate.country)
    region = changes.get("region", rate.region)
    _check_unique(country, region, rate_id)
    try:
        with transaction():
            rate = get_rate(rate_id)
            with audit.updating(AuditAction.TAX_RATE_UPDATE, rate):
                for field in EDITABLE_FIELDS:
                    if field in changes:
                        setattr(rate, field, changes[field])
    except IntegrityError:
        raise _duplicate(country, region) from None
    return rate


def delete_rate(rate_id: int) -> None:
    """Orders keep the rate and tax they were charged."""
    with transaction() as session:
        rate = get_rate(rate_id)
        audit.deleted(AuditAction.TAX_RATE_DELETE, rate)
        session.delete(rate)
