"""A user's address book. Each user sees and changes only his own entries; orders keep a
copy of the address they ship to (`snapshot`), so editing or deleting an entry changes no
order."""

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select

from app.accounts.regions import clean_region
from app.platform.db import db, transaction
from app.platform.errors import NotFound, ValidationFailed
from app.platform.models import Address
from app.platform.pages import paginate

MAX_ADDRESSES = 50  # per user
FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country", "phone")


def snapshot(address) -> dict:
    """The fields an order keeps, from an Address or a dict of them (its region cleaned, as
    app.accounts.regions stores regions)."""
    if isinstance(address, Address):
        return {field: getattr(address, field) for field in FIELDS}
    return {field: address.get(field) for field in FIELDS} | {
        "region": clean_region(address.get("region"))
    }


def list_addresses(user_id: int, page: int, per_page: int) -> Pagination:
    stmt = select(Address).where(Address.user_id == user_id).order_by(Address.id)
    return paginate(stmt, page, per_page)


def get_address(address_id: int, user_id: int) -> Address:
    """The user's own entry; another user's answers like a missing one."""
    address = db.session.get(Address, address_id)
    if address is None or address.user_id != user_id:
        raise NotFound(f"Address {address_id} was not found.")
    return address


def create_address(user_id: int, data: dict) -> Address:
    with transaction() as session:
        held = session.execute(
            select(func.count()).select_from(Address).where(Address.user_id == user_id)
        ).scalar_one()
        if held >= MAX_ADDRESSES:
            raise ValidationFailed(
                {"address": [f"An address book holds at most {MAX_ADDRESSES} addresses."]}
            )
        address = Address(user_id=user_id, **snapshot(data))
        session.add(address)
    return address


def update_address(address_id: int, user_id: int, changes: dict) -> Address:
    address = get_address(address_id, user_id)
    with transaction():
        for field in FIELDS:
            if field in changes:
                value = changes[field]
                setattr(address, field, clean_region(value) if field == "region" else value)
    return address


def delete_address(address_id: int, user_id: int) -> None:
    address = get_address(address_id, user_id)
    with transaction() as session:
        session.delete(address)
