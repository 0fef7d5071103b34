"""Cart rules: one line per product, quantities within stock, totals in Decimal.

A cart belongs to a signed-in user (cart_items) or to a guest (guest_cart_items, reached
with the token `create_guest_cart` returns, stored only as its SHA-256). An `Owner` names
which; every rule below is the same for both. `merge` moves a guest's lines into the user's
cart after sign-in, capped by stock, and reports what it could not add.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import bindparam, delete, func, select

from app.accounts.passwords import token_hash
from app.catalog.products import get_product
from app.platform.db import db, insert_on_conflict, transaction, utcnow
from app.platform.errors import (
    CartTokenRefused,
    Conflict,
    NotFound,
    OrderTooLarge,
    OutOfStock,
    ValidationFailed,
)
from app.platform.models import CartItem, GuestCart, GuestCartItem, Product
from app.platform.money import MAX_MONEY

MAX_CART_LINES = 100  # different products in one cart
MAX_LINE_QUANTITY = 10_000  # units of one product in one cart
GUEST_CART_TTL = timedelta(days=30)


@dataclass(frozen=True)
class Owner:
    """Whose cart: a user's (`CartItem.user_id`) or a guest's (`GuestCartItem.cart_id`)."""

    model: type[CartItem] | type[GuestCartItem]
    key: str
    id: int

    @property
    def column(self):
        return getattr(self.model, self.key)

    def row(self, **values) -> dict:
        return {self.key: self.id, **values}


def user_cart(user_id: int) -> Owner:
    return Owner(CartItem, "user_id", user_id)


def create_guest_cart() -> tuple[str, GuestCart]:
    """A new empty guest cart and its token (shown only now; unguessable: 256 bits)."""
    token = secrets.token_urlsafe(32)
    cart = GuestCart(token_hash=token_hash(token), expires_at=utcnow() + GUEST_CART_TTL)
    with transaction() as session:
        session.add(cart)
    return token, cart


def guest_cart(token: str) -> Owner:
    """The guest cart of this token; an unknown or expired one is a 401."""
    cart_id = db.session.scalar(
        select(GuestCart.id).where(
            GuestCart.token_hash == token_hash(token), GuestCart.expires_at > utcnow()
        )
    )
    if cart_id is None:
        raise CartTokenRefused()
    return Owner(GuestCartItem, "cart_id", cart_id)


@dataclass
class Cart:
    items: list
    adjustments: list | None = None  # what a merge could not add

    @property
    def total(self) -> Decimal:
        return sum((line.line_total for line in self.items), Decimal("0.00"))

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.items)


def _lines_of(model, key: str):
    return (
        select(model)
        .where(getattr(model, key) == bindparam("owner"))
        .order_by(model.added_at, model.product_id)
    )


# Built once (each cart read runs one): building a select() costs a third of running it.
CART_LINES = {
    CartItem: _lines_of(CartItem, "user_id"),
    GuestCartItem: _lines_of(GuestCartItem, "cart_id"),
}


def get_cart(owner: Owner) -> Cart:
    return Cart(list(db.session.scalars(CART_LINES[owner.model], {"owner": owner.id})))


def _ensure_orderable(owner: Owner) -> None:
    """A cart whose total no order could hold is refused when it is filled, not at checkout."""
    total = get_cart(owner).total
    if total > MAX_MONEY:
        raise OrderTooLarge(total)


def _cart_line(owner: Owner, product_id: int):
    line = db.session.get(owner.model, (owner.id, product_id))
    if line is None:
        raise NotFound(f"Product {product_id} is not in the cart.")
    return line


def _add(owner: Owner, product_id: int, quantity: int, price: Decimal) -> int:
    """Add to the line's quantity atomically; returns the new quantity."""
    insert = insert_on_conflict(owner.model).values(
        owner.row(product_id=product_id, quantity=quantity, price_when_added=price)
    )
    stmt = insert.on_conflict_do_update(
        index_elements=[owner.column, owner.model.product_id],
        set_={
            "quantity": owner.model.quantity + insert.excluded.quantity,
            "price_when_added": insert.excluded.price_when_added,
        },
    ).returning(owner.model.quantity)
    return db.session.execute(stmt).scalar_one()


def _lines_other_than(owner: Owner, product_id: int) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(owner.model)
        .where(owner.column == owner.id, owner.model.product_id != product_id)
    ).scalar_one()


def _ensure_room_for(owner: Owner, product_id: int) -> None:
    """A new product needs a free line; more of one already held does not."""
    if _lines_other_than(owner, product_id) >= MAX_CART_LINES:
        raise ValidationFailed(
            {"product_id": [f"A cart holds at most {MAX_CART_LINES} different products."]}
        )


def add_to_cart(owner: Owner, product_id: int, quantity: int) -> Cart:
    """Add to the line's quantity atomically; the result must fit the stock."""
    product = get_product(product_id)
    _ensure_room_for(owner, product_id)
    with transaction():
        new_quantity = _add(owner, product_id, quantity, product.price)
        # Like a total above stock, a total above the cap is a conflict with the cart's state.
        if new_quantity > MAX_LINE_QUANTITY:
            raise Conflict(
                f"A cart line holds at most {MAX_LINE_QUANTITY} units; "
                f"this one would hold {new_quantity}."
            )
        if new_quantity > product.stock:
            raise OutOfStock(product.name, product.stock, new_quantity)
        _ensure_orderable(owner)
    return get_cart(owner)


def set_quantity(owner: Owner, product_id: int, quantity: int) -> Cart:
    line = _cart_line(owner, product_id)
    with transaction() as session:
        if quantity == 0:
            session.delete(line)
        elif quantity > line.product.stock:
            raise OutOfStock(line.product.name, line.product.stock, quantity)
        else:
            line.quantity = quantity
            _ensure_orderable(owner)
    return get_cart(owner)


def remove_from_cart(owner: Owner, product_id: int) -> Cart:
    line = _cart_line(owner, product_id)
    with transaction() as session:
        session.delete(line)
    return get_cart(owner)


def clear_cart(owner: Owner) -> Cart:
    with transaction() as session:
        session.execute(delete(owner.model).where(owner.column == owner.id))
    return Cart([])


def merge(user_id: int, token: str) -> Cart:
    """Move the guest cart of `token` into the user's cart, in one transaction: each
    quantity is added to the user's line, capped by the stock (and the line and cart caps);
    a product no longer sold adds nothing. The guest cart is then gone. The answer's
    `adjustments` lists each line that could not be added in full."""
    try:
        guest = guest_cart(token)
    except CartTokenRefused as refused:
        raise ValidationFailed({"cart_token": [refused.detail]}) from None
    owner = user_cart(user_id)
    adjustments = []
    with transaction() as session:
        lines = session.execute(
            delete(GuestCartItem)
            .where(GuestCartItem.cart_id == guest.id)
            .returning(GuestCartItem.product_id, GuestCartItem.quantity)
        ).all()
        session.execute(delete(GuestCart).where(GuestCart.id == guest.id))
        for product_id, requested in sorted(lines):
            added = _room(owner, product_id, requested)
            if added:
                price = session.execute(
                    select(Product.price).where(Product.id == product_id)
                ).scalar_one()
                _add(owner, product_id, added, price)
            if added != requested:
                adjustments.append(
                    {"product_id": product_id, "requested": requested, "added": added}
                )
        _ensure_orderable(owner)
    cart = get_cart(owner)
    cart.adjustments = adjustments
    return cart


def _room(owner: Owner, product_id: int, requested: int) -> int:
    """How many of `requested` the user's line can take: within the stock and the caps."""
    product = db.session.get(Product, product_id)
    if product is None or not Product.is_listed(product):
        return 0
    held = db.session.scalar(
        select(owner.model.quantity).where(
            owner.column == owner.id, owner.model.product_id == product_id
        )
    )
    if held is None and _lines_other_than(owner, product_id) >= MAX_CART_LINES:
        return 0
    limit = min(product.stock, MAX_LINE_QUANTITY)
    return max(0, min(requested, limit - (held or 0)))
