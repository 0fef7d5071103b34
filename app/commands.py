"""CLI commands, registered on the app: `flask --app app <command>`."""

import signal
import sys
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from app.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from app.accounts.services import ensure_admin
from app.platform.errors import ValidationFailed
from app.platform.housekeeping import prune_expired


@click.command("create-admin")
@with_appcontext
@click.option("--username", required=True)
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_admin_command(username: str, email: str, password: str) -> None:
    """Create an admin user, or promote an existing one."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise click.BadParameter(
            f"must be {MIN_LENGTH} to {MAX_LENGTH} characters", param_hint="--password"
        )
    try:
        user, created = ensure_admin(username, email, password)
    except ValidationFailed as error:
        raise click.BadParameter(error.detail, param_hint="--password") from None
    # An existing user is made admin (if not already) and gets the new password.
    click.echo(f"{'Created' if created else 'Updated'} admin {user.username!r} (id {user.id}).")


@click.command("prune-expired")
@with_appcontext
def prune_expired_command() -> None:
    """Delete expired keys, logins, guest carts and reset links (the worker does it hourly)."""
    click.echo(str(prune_expired()))


@click.command("worker")
@with_appcontext
@click.option("--threads", default=4, show_default=True, help="Tasks run at once (2 or more).")
@click.option(
    "--webhook-threads", default=4, show_default=True, help="Webhook attempts made at once."
)
@click.option(
    "--check",
    is_flag=True,
    help="Run nothing: exit 0 if a worker was seen within WORKER_HEARTBEAT_MAX_AGE_SECONDS, "
    "else 1 (a health check for the worker's container).",
)
def worker_command(threads: int, webhook_threads: int, check: bool) -> None:
    """Run the background worker until SIGTERM: webhooks, emails, housekeeping (app.worker)."""
    if check:
        sys.exit(_check_worker())
    # Imported here: web workers never load Huey's consumer (about 15 MB each).
    from app.outbox.heartbeat import prune as prune_heartbeats
    from app.worker import Consumer, WebhookSenders, make_huey

    stopping = threading.Event()
    # Until the consumer takes SIGTERM over (app.worker.Consumer), it means: nothing started,
    # nothing to finish, exit 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's
    senders = WebhookSenders(app, max(webhook_threads, 1))
    queue, pump = make_huey(app, stopping, senders)
    consumer = Consumer(
        queue,
        stopping,
        workers=max(threads, 2),  # one of them runs the pump
        worker_type="thread",
        periodic=True,
        graceful_signal="TERM",  # SIGTERM lets the tasks in hand finish
    )
    prune_heartbeats()  # workers gone for a day
    pump()  # the first minute's pump, at once
    try:
        consumer.run()
    finally:
        senders.stop()


def _check_worker() -> int:
    """One line on the freshest worker heartbeat; 0 when it is recent enough, else 1."""
    from app.outbox.heartbeat import last_seen_seconds

    limit = current_app.config["WORKER_HEARTBEAT_MAX_AGE_SECONDS"]
    try:
        age = last_seen_seconds()
    except SQLAlchemyError as error:
        click.echo(f"The database did not answer: {type(error).__name__}.")
        return 1
    if age is None:
        click.echo("No worker has ever been seen.")
        return 1
    if age > limit:
        click.echo(f"The last worker was seen {age:.0f} s ago (more than {limit:g} s).")
        return 1
    click.echo(f"A worker was seen {age:.1f} s ago.")
    return 0


def register_commands(app: Flask) -> None:
    app.cli.add_command(create_admin_command)
    app.cli.add_command(prune_expired_command)
    app.cli.add_command(worker_command)
