"""Outgoing email through an outbox: `queue_email` writes the message in the caller's
transaction (outgoing_emails); the worker sends it with Flask-Mail (app.worker), retrying on
failure. A request never talks to the mail server.

Without MAIL_SERVER (the default, so `make run` needs nothing) each message is written to
MAIL_FOLDER (the store's own: instance/store.mail/ by default) as an .eml file and logged.
"""

import logging
import os
import smtplib

from flask import current_app
from flask_mail import Mail, Message
from sqlalchemy import Select, insert, literal, select

from app.outbox.engine import claim, settle
from app.platform.db import db, transaction, utcnow
from app.platform.models import DeliveryStatus, OutgoingEmail

log = logging.getLogger(__name__)

mail = Mail()  # bound to the app in create_app


def queue_email(recipient: str, subject: str, body: str) -> None:
    """Queue a plain-text email in the current transaction (one INSERT)."""
    db.session.execute(
        insert(OutgoingEmail).values(
            recipient=recipient, subject=subject, body=body, next_attempt_at=utcnow()
        )
    )


def queue_email_to(recipients: Select, subject: str, body: str) -> None:
    """Queue the email to each address `recipients` selects (one column), in the current
    transaction: one INSERT ... SELECT, which queues nothing when it selects nothing."""
    found = recipients.subquery()
    db.session.execute(
        insert(OutgoingEmail).from_select(
            ["recipient", "subject", "body", "next_attempt_at"],
            select(
                found.c[0],
                literal(subject),
                literal(body),
                literal(utcnow(), OutgoingEmail.next_attempt_at.type),
            ),
        )
    )


def claim_due() -> list[int]:
    """Lease the emails that are due (app.outbox.engine); returns their ids."""
    return claim(OutgoingEmail, OutgoingEmail.id)


def send(email_id: int) -> None:
    """Send one leased email; record the outcome."""
    email = db.session.get(OutgoingEmail, email_id)
    if email is None or email.status != DeliveryStatus.PENDING:
        return
    config = current_app.config
    message = Message(
        subject=email.subject,
        recipients=[email.recipient],
        body=email.body,
        sender=config["MAIL_DEFAULT_SENDER"],
    )
    db.session.rollback()  # no transaction stays open while the server answers
    error = None
    try:
        if config["MAIL_SERVER"]:
            mail.send(message)
        else:
            _write_to_folder(email_id, message)
    except (OSError, smtplib.SMTPException) as failed:
        error = f"{type(failed).__name__}: {failed}"[:500]
    _record(email_id, error)


def _write_to_folder(email_id: int, message: Message) -> None:
    folder = current_app.config["MAIL_FOLDER"]  # the store's own (create_app)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{email_id:06d}.eml")
    with open(path, "wb") as out:
        out.write(message.as_bytes())
    log.info("Email to %s, %r: written to %s", message.recipients[0], message.subject, path)


def _record(email_id: int, error: str | None) -> None:
    """The attempt's outcome: sent, or retried after the next step of EMAIL_RETRY_SCHEDULE,
    or failed once it has run out."""
    with transaction() as session:
        email = session.get(OutgoingEmail, email_id, populate_existing=True)
        if email is None or email.status != DeliveryStatus.PENDING:
            return
        if error is not None:
            email.last_error = error
        settle(
            email,
            succeeded=error is None,
            schedule=current_app.config["EMAIL_RETRY_SCHEDULE"],
        )
