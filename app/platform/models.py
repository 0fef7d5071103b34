"""Database models: plain SQLAlchemy 2 typed mappings. Rules live in the services."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    event,
    func,
    select,
    true,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from app.platform.db import Base, db, utcnow

# db.Model is made at run time from Base; the type checker is told what it is.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


class Permission(StrEnum):
    """What a role lets its holders do, by area and by read/write. A staff route declares the
    one it needs (app.api.auth.decorators.permission_required)."""

    CATALOG_WRITE = "catalog:write"
    INVENTORY_WRITE = "inventory:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    PAYMENTS_REFUND = "payments:refund"
    CUSTOMERS_READ = "customers:read"
    STAFF_WRITE = "staff:write"
    WEBHOOKS_WRITE = "webhooks:write"
    SETTINGS_WRITE = "settings:write"  # shipping, tax, discounts
    AUDIT_READ = "audit:read"


class BuiltinRole(StrEnum):
    CUSTOMER = "customer"
    CATALOG_MANAGER = "catalog_manager"
    ORDER_MANAGER = "order_manager"
    SUPPORT = "support"
    ADMIN = "admin"


BUILTIN_ROLES: dict[BuiltinRole, frozenset[Permission]] = {
    BuiltinRole.CUSTOMER: frozenset(),
    BuiltinRole.CATALOG_MANAGER: frozenset({Permission.CATALOG_WRITE, Permission.INVENTORY_WRITE}),
    BuiltinRole.ORDER_MANAGER: frozenset(
        {
            Permission.ORDERS_READ,
            Permission.ORDERS_WRITE,
            Permission.PAYMENTS_REFUND,
            Permission.CUSTOMERS_READ,
        }
    ),
    BuiltinRole.SUPPORT: frozenset(
        {Permission.ORDERS_READ, Permission.CUSTOMERS_READ, Permission.AUDIT_READ}
    ),
    BuiltinRole.ADMIN: frozenset(Permission),
}


class Role(Model):
    """A named set of permissions. The built-in ones (BUILTIN_ROLES) are rows too, made with
    the table, and cannot be changed; custom ones are made by staff (app.accounts.staff)."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    permissions: Mapped[list[str]] = mapped_column(JSON)  # sorted Permission values
    builtin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def builtin_role_rows() -> list[dict]:
    return [
        {
            "name": name.value,
            "permissions": sorted(granted),
            "builtin": True,
            "created_at": utcnow(),
        }
        for name, granted in BUILTIN_ROLES.items()
    ]


@event.listens_for(Role.__table__, "after_create")
def _insert_builtin_roles(table, connection, **_kw) -> None:
    connection.execute(table.insert(), builtin_role_rows())


user_roles = Table(
    "user_roles",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # RESTRICT: a role still held is not deleted (app.accounts.staff refuses it first).
    Column("role_id", ForeignKey("roles.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class User(Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # A deactivated user cannot sign in, and every login of his ended with the deactivation.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # The token check loads them with the login (app.accounts.services.live_family).
    roles: Mapped[list[Role]] = relationship(secondary=user_roles, lazy="selectin")

    @property
    def role_names(self) -> list[str]:
        return sorted(role.name for role in self.roles)

    @property
    def permissions(self) -> frozenset[Permission]:
        """The union of the permissions of the user's roles."""
        return frozenset(Permission(p) for role in self.roles for p in role.permissions)

    @property
    def is_admin(self) -> bool:
        return BuiltinRole.ADMIN in self.role_names


# Usernames are unique case-insensitively; emails are stored lower-cased.
Index("uq_users_username_lower", func.lower(User.username), unique=True)


class TokenFamily(Model):
    """One login: every token it yields carries the family id (`fam`), so revoking the row
    (logout, password change, a reused refresh token) revokes them all, in every worker.
    Only the latest refresh token of a family is valid: refreshing rotates it."""

    __tablename__ = "token_families"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    refresh_jti: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]

    # Loaded with the family: the token check and the user lookup are one query.
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class Category(Model):
    """A node of the category tree (parent_id null at the top)."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Product(Model):
    """Full-text search reads an index the database keeps (see the catalog migration):
    SQLite's FTS5 table products_fts, PostgreSQL's generated column search_vector."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_non_negative"),
        CheckConstraint("price >= 0", name="price_non_negative"),
        Index("ix_products_price_id", "price", "id"),
        Index("ix_products_created_at_id", "created_at", "id"),
        Index("ix_products_category_id_id", "category_id", "id"),
        Index("ix_products_stock", "stock"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal]
    stock: Mapped[int] = mapped_column(default=0)
    sku: Mapped[str | None] = mapped_column(String(64))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL")
    )
    # Ordered [{"url": ..., "alt": ...}]
    images: Mapped[list] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Deleted products stay for the orders that reference them.
    deleted_at: Mapped[datetime | None] = mapped_column(index=True)

    category: Mapped[Category | None] = relationship(lazy="joined")

    # "A listed product": the one rule of what customers see and buy, in SQL and on a loaded
    # product or a row of its columns. Staff may also see inactive ones (include_inactive).
    @staticmethod
    def listed(*, include_inactive: bool = False) -> ColumnElement[bool]:
        not_deleted = Product.deleted_at.is_(None)
        return not_deleted if include_inactive else and_(not_deleted, Product.is_active)

    @staticmethod
    def is_listed(product: Any, *, include_inactive: bool = False) -> bool:
        return product.deleted_at is None and (product.is_active or include_inactive)


# SKUs are unique case-insensitively. The name-sort index is per engine (catalog migration).
Index("uq_products_sku_lower", func.lower(Product.sku), unique=True)


class CartLine:
    """What a line of any cart (a user's, a guest's) answers with."""

    if TYPE_CHECKING:  # the columns each cart's line maps
        product: Product
        product_id: int
        quantity: int

    @property
    def name(self) -> str:
        return self.product.name

    @property
    def unit_price(self) -> Decimal:
        return self.product.price

    @property
    def line_total(self) -> Decimal:
        return self.product.price * self.quantity


class CartItem(CartLine, Model):
    __tablename__ = "cart_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    quantity: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The price shown when the line was last added to: checkout names the lines whose price
    # has changed since.
    price_when_added: Mapped[Decimal | None]

    product: Mapped[Product] = relationship(lazy="joined", innerjoin=True)


class GuestCart(Model):
    """A cart before sign-in, reached with its token (X-Cart-Token), stored as a SHA-256."""

    __tablename__ = "guest_carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class GuestCartItem(CartLine, Model):
    __tablename__ = "guest_cart_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    cart_id: Mapped[int] = mapped_column(
        ForeignKey("guest_carts.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    quantity: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    price_when_added: Mapped[Decimal | None]

    product: Mapped[Product] = relationship(lazy="joined", innerjoin=True)


class OrderStatus(StrEnum):
    """An order's lifecycle; app.ordering.status.TRANSITIONS says which moves are allowed."""

    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class ProviderName(StrEnum):
    """Order.payment_provider: who takes an order's payment (PAYMENT_PROVIDER)."""

    MANUAL = "manual"  # staff mark orders paid
    STRIPE = "stripe"


class Order(Model):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PENDING, index=True)
    # What was charged: total = subtotal - discount_total + shipping_total + tax_total.
    subtotal: Mapped[Decimal]
    discount_total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    shipping_total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    tax_total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    total: Mapped[Decimal]
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4), default=Decimal("0"))
    # Snapshots: later edits of the address book, the method or the code change nothing here.
    shipping_address: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    shipping_method_id: Mapped[int | None] = mapped_column(
        ForeignKey("shipping_methods.id", ondelete="SET NULL")
    )
    shipping_method_name: Mapped[str | None] = mapped_column(String(100))
    discount_id: Mapped[int | None] = mapped_column(ForeignKey("discounts.id", ondelete="SET NULL"))
    discount_code: Mapped[str | None] = mapped_column(String(50))
    # Its payment (of `total`): only the provider's verified word (a webhook) or an admin
    # makes it succeeded, never a client.
    payment_provider: Mapped[str] = mapped_column(String(20), default=ProviderName.MANUAL)
    payment_status: Mapped[str] = mapped_column(String(20), default="requires_payment")
    payment_currency: Mapped[str] = mapped_column(String(3), default="usd")
    # The provider's payment (a Stripe PaymentIntent) and what the client pays it with.
    payment_reference: Mapped[str | None] = mapped_column(String(255), index=True)
    payment_client_secret: Mapped[str | None] = mapped_column(String(255))
    refund_reference: Mapped[str | None] = mapped_column(String(255))
    # Why a provider's word was not taken (an amount that does not match the order, say).
    payment_flagged: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list["OrderItem"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    status_history: Mapped[list["OrderStatusChange"]] = relationship(
        cascade="all, delete-orphan", order_by="OrderStatusChange.id"
    )

    if TYPE_CHECKING:  # a column_property, set below the class
        item_count: Mapped[int]

    @property
    def totals(self) -> dict:
        return {
            "subtotal": self.subtotal,
            "discount": self.discount_total,
            "shipping": self.shipping_total,
            "tax": self.tax_total,
            "total": self.total,
        }

    @property
    def payment(self) -> dict:
        return {
            "provider": self.payment_provider,
            "status": self.payment_status,
            "amount": self.total,
            "currency": self.payment_currency,
            "client_secret": self.payment_client_secret,
            "reference": self.payment_reference,
            "flagged": self.payment_flagged,
        }

    @property
    def shipping_method(self) -> dict | None:
        if self.shipping_method_name is None:
            return None
        return {"id": self.shipping_method_id, "name": self.shipping_method_name}


class OrderItem(Model):
    """A line of an order: name and unit price are snapshots taken at checkout."""

    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    product_name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal]
    quantity: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class OrderStatusChange(Model):
    __tablename__ = "order_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # an OrderStatus
    at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class StockMovement(Model):
    """The inventory ledger: for every product, stock == sum(delta) of its movements."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint("delta <> 0", name="delta_non_zero"),
        Index("ix_stock_movements_product_id_id", "product_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    delta: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyKey(Model):
    """A client's Idempotency-Key and the response it got, shared by all workers."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Null while the first request runs; then the response to replay.
    response_status: Mapped[int | None]
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_headers: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


# Sum of quantities, loaded on demand (undefer) for order summaries in one query.
Order.item_count = column_property(
    select(func.coalesce(func.sum(OrderItem.quantity), 0))
    .where(OrderItem.order_id == Order.id)
    .correlate_except(OrderItem)
    .scalar_subquery(),
    deferred=True,
)


class EventType(StrEnum):
    """What the store tells the outside world (webhooks, emails)."""

    ORDER_CREATED = "order.created"
    ORDER_PAID = "order.paid"
    ORDER_SHIPPED = "order.shipped"
    ORDER_DELIVERED = "order.delivered"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_REFUNDED = "order.refunded"
    PAYMENT_FAILED = "payment.failed"
    PRODUCT_OUT_OF_STOCK = "product.out_of_stock"


class Event(Model):
    """The outbox: written in the transaction of the change it reports; the worker fans it
    out to webhook deliveries and emails (dispatched_at) and never deletes it."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The public id (`webhook-id`, the payload's "id"), the same on every retry.
    uid: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))  # an EventType
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(index=True)


class WorkerHeartbeat(Model):
    """A background worker's sign of life: one row per worker process (host and pid), its
    seen_at renewed every few seconds while its pump runs (app.outbox.heartbeat)."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WebhookSubscription(Model):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    events: Mapped[list] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[str] = mapped_column(String(100))
    # After a rotation the old secret signs too, until it expires (both signatures are sent).
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # the retry schedule ran out, or the receiver answered 410


class WebhookDelivery(Model):
    """One event for one subscription: the unit the worker claims (lease_until) and retries."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id", name="uq_webhook_deliveries_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    event: Mapped[Event] = relationship(lazy="joined", innerjoin=True)
    subscription: Mapped[WebhookSubscription] = relationship(lazy="joined", innerjoin=True)


class WebhookAttempt(Model):
    """The delivery log: one row per HTTP attempt, whatever its outcome."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_subscription_id_id", "subscription_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    attempt: Mapped[int]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[Event] = relationship(lazy="joined", innerjoin=True)


class OutgoingEmail(Model):
    """The email outbox: written with the change that calls for it, sent by the worker."""

    __tablename__ = "outgoing_emails"
    __table_args__ = (Index("ix_outgoing_emails_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]  # sent, or given up


class PasswordReset(Model):
    """A single-use reset token, stored only as its SHA-256."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class Address(Model):
    """An entry of a user's address book. Orders keep a copy (Order.shipping_address)."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2, upper case
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ShippingMethod(Model):
    __tablename__ = "shipping_methods"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_non_negative"),
        CheckConstraint("free_over IS NULL OR free_over >= 0", name="free_over_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[Decimal]
    # Orders whose discounted subtotal reaches this ship free.
    free_over: Mapped[Decimal | None]
    # ISO 3166-1 alpha-2 codes; empty: ships everywhere.
    countries: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TaxRate(Model):
    """The rate of a country, or of one region of it (which then wins over the country's)."""

    __tablename__ = "tax_rates"
    __table_args__ = (CheckConstraint("rate >= 0 AND rate < 1", name="rate_fraction"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(100))
    # What addresses are matched on (app.accounts.regions.region_key, kept by a mapper
    # event of app.settings.taxes); "": the country's.
    region_key: Mapped[str] = mapped_column(String(100), default="", server_default="")
    rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# One rate per country and region, as their keys compare ("": the country's).
Index("uq_tax_rates_country_region_key", TaxRate.country, TaxRate.region_key, unique=True)


class DiscountKind(StrEnum):
    PERCENTAGE = "percentage"
    FIXED = "fixed"


class Discount(Model):
    """A discount code. `used` counts the orders holding it (cancelling one gives it back);
    it is only ever changed by guarded UPDATEs (app.settings.discounts)."""

    __tablename__ = "discounts"
    __table_args__ = (
        CheckConstraint("value >= 0", name="value_non_negative"),
        CheckConstraint("used >= 0", name="used_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20))  # a DiscountKind
    value: Mapped[Decimal]  # percent (0-100) or an amount
    min_subtotal: Mapped[Decimal | None]
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    usage_limit: Mapped[int | None]
    per_customer_limit: Mapped[int | None]
    used: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# Codes compare case-insensitively.
Index("uq_discounts_code_lower", func.lower(Discount.code), unique=True)


class DiscountRedemption(Model):
    """One use of a code by one order; deleted when the order is cancelled."""

    __tablename__ = "discount_redemptions"
    __table_args__ = (Index("ix_discount_redemptions_discount_user", "discount_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    discount_id: Mapped[int] = mapped_column(ForeignKey("discounts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PaymentStatus(StrEnum):
    """Order.payment_status."""

    REQUIRES_PAYMENT = "requires_payment"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the last attempt failed; the order stays payable
    REFUNDED = "refunded"
    NOT_REQUIRED = "not_required"  # nothing to charge (a total of 0.00)


class PaymentActionKind(StrEnum):
    REFUND = "refund"  # give a paid order's money back
    CANCEL = "cancel"  # void a payment nobody made (an order cancelled before paying)
    REFUND_INTENT = "refund_intent"  # give back money that is not the order's payment


class PaymentAction(Model):
    """A call to the payment provider that must not be lost: written in the transaction that
    decides it (a cancellation), made by the worker after the commit, retried until done."""

    __tablename__ = "payment_actions"
    __table_args__ = (Index("ix_payment_actions_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # a PaymentActionKind
    # The provider's payment to act on when it is not the order's own (refund_intent).
    reference: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    order: Mapped["Order"] = relationship(lazy="joined", innerjoin=True)


# A payment that is not its order's is refunded once, whatever the events that report it.
Index(
    "uq_payment_actions_reference",
    PaymentAction.reference,
    unique=True,
    sqlite_where=PaymentAction.reference.is_not(None),
    postgresql_where=PaymentAction.reference.is_not(None),
)


class ProviderEvent(Model):
    """Each provider event taken into account, once: recorded in the transaction of its
    effect, so a redelivery finds it and changes nothing."""

    __tablename__ = "provider_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # evt_... for Stripe
    provider: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(100))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditAction(StrEnum):
    """A kind of staff write; the part before the dot is the type of its target."""

    PRODUCT_CREATE = "product.create"
    PRODUCT_UPDATE = "product.update"
    PRODUCT_DELETE = "product.delete"
    PRODUCT_ADJUST_STOCK = "product.adjust_stock"
    CATEGORY_CREATE = "category.create"
    CATEGORY_UPDATE = "category.update"
    CATEGORY_DELETE = "category.delete"
    ORDER_CHANGE_STATUS = "order.change_status"
    WEBHOOK_CREATE = "webhook.create"
    WEBHOOK_UPDATE = "webhook.update"
    WEBHOOK_DELETE = "webhook.delete"
    WEBHOOK_ROTATE_SECRET = "webhook.rotate_secret"
    WEBHOOK_DELIVERY_REDELIVER = "webhook_delivery.redeliver"
    SHIPPING_METHOD_CREATE = "shipping_method.create"
    SHIPPING_METHOD_UPDATE = "shipping_method.update"
    SHIPPING_METHOD_DELETE = "shipping_method.delete"
    TAX_RATE_CREATE = "tax_rate.create"
    TAX_RATE_UPDATE = "tax_rate.update"
    TAX_RATE_DELETE = "tax_rate.delete"
    DISCOUNT_CREATE = "discount.create"
    DISCOUNT_UPDATE = "discount.update"
    DISCOUNT_DELETE = "discount.delete"
    ROLE_CREATE = "role.create"
    ROLE_UPDATE = "role.update"
    ROLE_DELETE = "role.delete"
    USER_SET_ROLES = "user.set_roles"
    USER_DEACTIVATE = "user.deactivate"
    USER_ACTIVATE = "user.activate"

    @property
    def target_type(self) -> str:
        return self.value.split(".", 1)[0]


class AuditEntry(Model):
    """One staff write (app.audit): who, what, on which target, old and new values. The
    database refuses to change an entry (a trigger made by the migration)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # RESTRICT: an actor with history is never deleted (users are deactivated instead).
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    action: Mapped[str] = mapped_column(String(50), index=True)  # an AuditAction
    target_type: Mapped[str] = mapped_column(String(50))
    target_id: Mapped[str] = mapped_column(String(64))
    # {field: {"old": ..., "new": ...}}
    changes: Mapped[dict] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64))
