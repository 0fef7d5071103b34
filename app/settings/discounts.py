"""Discount codes: admin CRUD, and the rules checkout applies.

A use is claimed inside the order's transaction (`redeem`): one guarded UPDATE of `used`
(never above usage_limit), which also locks the code's row until commit, then the count of
the customer's own redemptions, which therefore sees every earlier committed one. N
concurrent checkouts with a single-use code give exactly one discounted order. Cancelling
the order gives the use back (`release`).
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.audit import services as audit
from app.platform.db import changed, db, taken, transaction
from app.platform.errors import NotFound, ValidationFailed
from app.platform.models import AuditAction, Discount, DiscountKind, DiscountRedemption
from app.platform.money import round_money
from app.platform.pages import paginate

FIELD = "discount_code"
EDITABLE_FIELDS = (
    "code",
    "kind",
    "value",
    "min_subtotal",
    "starts_at",
    "ends_at",
    "usage_limit",
    "per_customer_limit",
    "active",
)


def _refused(message: str) -> ValidationFailed:
    return ValidationFailed({FIELD: [message]})


def _same_code(code: str):
    return func.lower(Discount.code) == code.lower()


def find(code: str) -> Discount | None:
    return db.session.scalar(select(Discount).where(_same_code(code)))


def usable(code: str, user_id: int, subtotal: Decimal, now: datetime) -> Discount:
    """The code, if this customer may use it on this subtotal now; else a 422 saying why."""
    discount = find(code)
    if discount is None or not discount.active:
        raise _refused(f"'{code}' is not a valid discount code.")
    if discount.starts_at is not None and now < discount.starts_at:
        raise _refused(f"'{code}' is not valid yet.")
    if discount.ends_at is not None and now >= discount.ends_at:
        raise _refused(f"'{code}' has expired.")
    if discount.usage_limit is not None and discount.used >= discount.usage_limit:
        raise _refused(f"'{code}' has been used up.")
    if _used_up_by(discount, user_id):
        raise _refused(f"You have already used '{code}' as often as it allows.")
    if discount.min_subtotal is not None and subtotal < discount.min_subtotal:
        raise _refused(f"'{code}' needs a subtotal of at least {discount.min_subtotal:.2f}.")
    return discount


def amount_off(discount: Discount, subtotal: Decimal) -> Decimal:
    """Percentages round half-up to the cent; nothing takes the subtotal below zero."""
    if discount.kind == DiscountKind.PERCENTAGE:
        off = round_money(subtotal * discount.value / 100)
    else:
        off = discount.value
    return min(off, subtotal)


def _used_up_by(discount: Discount, user_id: int) -> bool:
    """Whether the customer's own uses have reached the code's per-customer limit."""
    if discount.per_customer_limit is None:
        return False
    uses = db.session.execute(
        select(func.count())
        .select_from(DiscountRedemption)
        .where(DiscountRedemption.discount_id == discount.id, DiscountRedemption.user_id == user_id)
    ).scalar_one()
    return uses >= discount.per_customer_limit


def redeem(discount: Discount, user_id: int, order_id: int) -> None:
    """Claim one use for the order, inside its transaction (see the module docstring)."""
    claimed = changed(
        db.session.execute(
            update(Discount)
            .where(
                Discount.id == discount.id,
                Discount.active,
                (Discount.usage_limit.is_(None)) | (Discount.used < Discount.usage_limit),
            )
            .values(used=Discount.used + 1)
            .execution_options(synchronize_session=False)
        )
    )
    if claimed != 1:
        raise _refused(f"'{discount.code}' has been used up.")
    if _used_up_by(discount, user_id):
        raise _refused(f"You have already used '{discount.code}' as often as it allows.")
    db.session.execute(
        insert(DiscountRedemption).values(
            discount_id=discount.id, user_id=user_id, order_id=order_id
        )
    )


def release(order_id: int) -> None:
    """Give the order's use back (the order was cancelled), inside that transaction."""
    discount_id = db.session.scalar(
        delete(DiscountRedemption)
        .where(DiscountRedemption.order_id == order_id)
        .returning(DiscountRedemption.discount_id)
    )
    if discount_id is not None:
        db.session.execute(
            update(Discount)
            .where(Discount.id == discount_id, Discount.used > 0)
            .values(used=Discount.used - 1)
            .execution_options(synchronize_session=False)
        )


# --- admin -----------------------------------------------------------------------------


def _check(values: dict, own_id: int | None = None) -> None:
    """Rules across fields, on the values the code will have."""
    errors = {}
    if values["kind"] == DiscountKind.PERCENTAGE and values["value"] > 100:
        errors["value"] = ["A percentage is at most 100."]
    starts, ends = values.get("starts_at"), values.get("ends_at")
    if starts is not None and ends is not None and ends <= starts:
        errors["ends_at"] = ["Must be after starts_at."]
    if taken(Discount.id, _same_code(values["code"]), own_id):
        errors["code"] = [f"The code '{values['code']}' already exists."]
    if errors:
        raise ValidationFailed(errors)


def list_discounts(page: int, per_page: int):
    return paginate(select(Discount).order_by(Discount.id), page, per_page)


def get_discount(discount_id: int) -> Discount:
    discount = db.session.get(Discount, discount_id)
    if discount is None:
        raise NotFound(f"Discount {discount_id} was not found.")
    return discount


def create_discount(data: dict) -> Discount:
    _check(data)
    discount = Discount(**data)
    try:
        with transaction() as session:
            session.add(discount)
            audit.created(AuditAction.DISCOUNT_CREATE, discount)
    except IntegrityError:
        raise ValidationFailed({"code": [f"The code '{data['code']}' already exists."]}) from None
    return discount


def update_discount(discount_id: int, changes: dict) -> Discount:
    discount = get_discount(discount_id)
    current = {field: getattr(discount, field) for field in ("code", "kind", "value")}
    current |= {"starts_at": discount.starts_at, "ends_at": discount.ends_at}
    _check(current | changes, discount_id)
    try:
        with transaction():
            discount = get_discount(discount_id)
            with audit.updating(AuditAction.DISCOUNT_UPDATE, discount):
                for field in EDITABLE_FIELDS:
                    if field in changes:
                        setattr(discount, field, changes[field])
    except IntegrityError:
        code = changes.get("code", discount.code)
        raise ValidationFailed({"code": [f"The code '{code}' already exists."]}) from None
    return discount


def delete_discount(discount_id: int) -> None:
    """Orders keep the code and the amount it took off."""
    with transaction() as session:
        discount = get_discount(discount_id)
        audit.deleted(AuditAction.DISCOUNT_DELETE, discount)
        session.delete(discount)
