"""Tax rates by country and region. Prices are tax-exclusive; an order pays the rate of the
region it ships to, else its country's, else none (rate_for). Regions are stored cleaned and
matched by key (app.accounts.regions): "TX", " tx", "Texas" and a fullwidth "TX" are one region."""

from decimal import Decimal

from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from app.accounts.regions import clean_region, region_key
from app.audit import services as audit
from app.platform.db import db, taken, transaction
from app.platform.errors import NotFound, ValidationFailed
from app.platform.models import AuditAction, TaxRate
from app.platform.pages import paginate

NO_TAX = Decimal("0.0000")
EDITABLE_FIELDS = ("country", "region", "rate")


@event.listens_for(TaxRate, "before_insert")
@event.listens_for(TaxRate, "before_update")
def _key_region(_mapper, _connection, rate: TaxRate) -> None:
    """Every writer (the API, seed_data.py: any app has this module loaded) stores the region
    cleaned and keyed alike."""
    rate.region = clean_region(rate.region)
    rate.region_key = region_key(rate.country, rate.region)


def rate_query(country: str, region: str | None):
    """The rate as a scalar subquery: the region's if one is set, else the country's, else 0.
    Checkout embeds it in the statement that empties the cart."""
    key = region_key(country, region)
    found = (
        select(TaxRate.rate)
        .where(TaxRate.country == country, TaxRate.region_key.in_({"", key}))
        .order_by(TaxRate.region_key.desc())  # a region's own rate before the country's ""
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(found, NO_TAX)


def rate_for(country: str, region: str | None) -> Decimal:
    rate = db.session.execute(select(rate_query(country, region).label("rate"))).scalar_one()
    return rate.quantize(NO_TAX)


def _duplicate(country: str, region: str | None) -> ValidationFailed:
    where = f"{country}, region {region}" if region else f"{country} (the whole country)"
    return ValidationFailed({"region": [f"A rate for {where} already exists."]})


def _check_unique(country: str, region: str | None, own_id: int | None = None) -> None:
    condition = (TaxRate.country == country) & (TaxRate.region_key == region_key(country, region))
    if taken(TaxRate.id, condition, own_id):
        raise _duplicate(country, region)


def _cleaned(fields: dict) -> dict:
    """The fields with the region as rates store it (the model keys it: models.TaxRate)."""
    return {**fields, "region": clean_region(fields["region"])}


def list_rates(page: int, per_page: int):
    stmt = select(TaxRate).order_by(TaxRate.country, TaxRate.region, TaxRate.id)
    return paginate(stmt, page, per_page)


def get_rate(rate_id: int) -> TaxRate:
    rate = db.session.get(TaxRate, rate_id)
    if rate is None:
        raise NotFound(f"Tax rate {rate_id} was not found.")
    return rate


def create_rate(data: dict) -> TaxRate:
    data = _cleaned(data)
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
    cleaned = _cleaned(
        {
            "country": changes.get("country", rate.country),
            "region": changes.get("region", rate.region),
            "rate": changes.get("rate", rate.rate),
        }
    )
    country, region = cleaned["country"], cleaned["region"]
    _check_unique(country, region, rate_id)
    try:
        with transaction():
            rate = get_rate(rate_id)
            with audit.updating(AuditAction.TAX_RATE_UPDATE, rate):
                for field in EDITABLE_FIELDS:
                    if field in changes:
                        setattr(rate, field, cleaned[field])
    except IntegrityError:
        raise _duplicate(country, region) from None
    return rate


def delete_rate(rate_id: int) -> None:
    """Orders keep the rate and tax they were charged."""
    with transaction() as session:
        rate = get_rate(rate_id)
        audit.deleted(AuditAction.TAX_RATE_DELETE, rate)
        session.delete(rate)
