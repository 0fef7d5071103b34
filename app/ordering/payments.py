"""An order's payment with its provider: every order carries one (Order.payment_*), opened
with the order; it becomes `succeeded` only by an admin (manual) or by the provider's
verified webhook, never a client. This module calls the provider (app.payments) and applies
its neutral answers; the status and payment status are written by app.ordering.status.

- `start`: after the checkout commit, the provider's payment is created (a Stripe
  PaymentIntent, idempotent by order id) and its reference and client secret stored; a call
  that fails is made again by the worker (`start_missing`).
- `handle_webhook`: the provider's adapter verifies its event and maps it to a neutral
  PaymentEvent (app.payments; only the adapter knows the provider's shapes); one
  transaction records the event id (a redelivery finds it and changes nothing) with its
  effect. A success pays the order only when the amount and currency match it, by the same
  guarded update that expiry and cancellation use (exactly one of paid or cancelled wins);
  one that arrives for a cancelled order is refunded, once however many events report it (a
  guarded update). A success whose intent is not the order's own, or whose amount or
  currency differ, pays nothing: the order is flagged (`payment.flagged`, staff find them
  with `GET /api/admin/orders?flagged=true`), a warning is logged, and that intent is
  refunded in full, once. A failure is recorded and the order stays payable.
- Calls the provider must not lose (refund a cancelled paid order, void an unpaid one) are
  rows of payment_actions, written in the transaction that decides them and made by the
  worker after the commit (`claim_due_actions`, `perform`), with retries.
"""

from collections.abc import Mapping

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from app.ordering import status
from app.outbox.engine import claim, settle
from app.payments.providers import (
    InvalidWebhook,
    Outcome,
    PaymentEvent,
    ProviderError,
    provider,
)
from app.platform.db import db, insert_on_conflict, transaction
from app.platform.models import (
    DeliveryStatus,
    Order,
    OrderStatus,
    PaymentAction,
    PaymentActionKind,
    PaymentStatus,
    ProviderEvent,
    ProviderName,
)
from app.platform.money import minor_units

BATCH = 100


def start(order: Order) -> None:
    """Create the provider's payment of a new order (after its commit); `order` gets the
    reference and client secret. A failure is logged and left to the worker."""
    if not status.starts_after_commit(order):
        return
    try:
        created = provider().create(order.id, order.total, order.payment_currency)
    except ProviderError as error:
        current_app.logger.warning("Order %s: no payment yet (%s); retried later", order.id, error)
        return
    if created is None:
        return
    with transaction() as session:
        session.execute(
            update(Order)
            .where(Order.id == order.id, Order.payment_reference.is_(None))
            .values(
                payment_reference=created.reference, payment_client_secret=created.client_secret
            )
            .execution_options(synchronize_session=False)
        )
    order.payment_reference = created.reference
    order.payment_client_secret = created.client_secret


def start_missing() -> int:
    """The worker's catch-up: pending orders whose provider payment was never created."""
    orders = db.session.scalars(
        select(Order)
        .where(
            Order.status == OrderStatus.PENDING,
            Order.payment_status == PaymentStatus.REQUIRES_PAYMENT,
            Order.payment_provider != ProviderName.MANUAL,
            Order.payment_reference.is_(None),
        )
        .limit(BATCH)
    ).all()
    # Detached as loaded: the read ends before any provider call, and nothing is reloaded.
    db.session.expunge_all()
    db.session.rollback()
    for order in orders:
        start(order)
    return len(orders)


# --- the provider's webhook ----------------------------------------------------------------


def handle_webhook(name: ProviderName, payload: bytes, headers: Mapping[str, str]) -> None:
    """Verify the provider's event, then apply it once (see the module docstring).
    InvalidWebhook: 400."""
    if current_app.config["PAYMENT_PROVIDER"] != name:
        raise InvalidWebhook(f"{name.title()} payments are not enabled on this store.")
    event = provider().verify_webhook(payload, headers)
    try:
        with transaction() as session:
            session.execute(
                insert(ProviderEvent).values(
                    id=event.id, provider=name, type=event.type, order_id=None
                )
            )
            order = session.get(Order, event.order_id) if event.order_id is not None else None
            if order is None or order.payment_provider != name:
                return  # not one of ours: recorded, nothing to do
            session.execute(
                update(ProviderEvent).where(ProviderEvent.id == event.id).values(order_id=order.id)
            )
            if event.outcome == Outcome.SUCCEEDED:
                _succeeded(order, event)
            elif event.outcome == Outcome.FAILED:
                status.payment_failed(order)
    except IntegrityError:
        current_app.logger.info("%s event %s already processed", name.title(), event.id)


def _succeeded(order: Order, event: PaymentEvent) -> None:
    expected = (minor_units(order.total, order.payment_currency), order.payment_currency)
    received = (event.amount, event.currency)
    if event.reference is None:
        return  # nothing to refund by, nothing to pay: recorded only
    own = order.payment_reference in (None, event.reference)
    if not own or received != expected:
        _refuse_payment(order, event.reference, received, expected, own=own)
        return
    order.payment_reference = event.reference
    if not status.move(order, OrderStatus.PAID, changed_by=None):
        status.paid_too_late(order)  # expired or cancelled meanwhile: the money goes back


def _refuse_payment(order: Order, intent_id: str, received, expected, *, own: bool) -> None:
    """Money arrived that is not this order's payment: flag the order, log it, and give the
    money back (the whole intent, once whatever the events)."""
    whose = "the order's intent" if own else f"not the order's intent ({order.payment_reference})"
    order.payment_flagged = (
        f"{order.payment_provider.title()} reported {received[0]} {received[1]} for "
        f"{intent_id}, {whose}; the "
        f"order is {expected[0]} {expected[1]}: not marked paid, the intent is refunded."
    )[:500]
    current_app.logger.warning("Order %s: %s", order.id, order.payment_flagged)
    db.session.execute(
        insert_on_conflict(PaymentAction)
        .values(order_id=order.id, kind=PaymentActionKind.REFUND_INTENT, reference=intent_id)
        .on_conflict_do_nothing(
            index_elements=["reference"], index_where=PaymentAction.reference.is_not(None)
        )
    )


# --- the worker: provider calls that must not be lost --------------------------------------


def claim_due_actions() -> list[int]:
    """Lease the provider calls that are due (app.outbox.engine); returns their ids."""
    return claim(PaymentAction, PaymentAction.id)


def perform(action_id: int) -> None:
    """Make one provider call; record the outcome (a refund: the order's payment is refunded
    and order.refunded emitted) or schedule the next try."""
    action = db.session.get(PaymentAction, action_id)
    if action is None or action.status != DeliveryStatus.PENDING:
        return
    kind, order_id = action.kind, action.order_id
    reference, total, currency = (
        action.order.payment_reference,
        action.order.total,
        action.order.payment_currency,
    )
    db.session.rollback()  # no transaction stays open across the provider's call
    try:
        if kind == PaymentActionKind.REFUND:
            refund_reference = provider().refund(reference, total, currency)
        elif kind == PaymentActionKind.REFUND_INTENT:
            refund_reference = provider().refund(action.reference, None, currency)
        else:
            provider().cancel(reference)
    except ProviderError as error:
        _retry_later(action_id, str(error))
        return
    with transaction() as session:
        done = session.get_one(PaymentAction, action_id)
        settle(done, succeeded=True, schedule=current_app.config["PAYMENT_RETRY_SCHEDULE"])
        if kind == PaymentActionKind.REFUND:
            order = session.get_one(Order, order_id, populate_existing=True)
            status.payment_refunded(order, refund_reference)
        elif kind == PaymentActionKind.REFUND_INTENT:
            order = session.get_one(Order, order_id, populate_existing=True)
            order.payment_flagged = (f"{order.payment_flagged} Refunded as {refund_reference}.")[
                :500
            ]


def _retry_later(action_id: int, error: str) -> None:
    """After the next step of PAYMENT_RETRY_SCHEDULE, or given up (and logged) once it has
    run out."""
    with transaction() as session:
        action = session.get_one(PaymentAction, action_id)
        action.last_error = error[:500]
        settle(action, succeeded=False, schedule=current_app.config["PAYMENT_RETRY_SCHEDULE"])
        if action.status == DeliveryStatus.FAILED:
            current_app.logger.error("Payment action %s gave up: %s", action_id, error)
