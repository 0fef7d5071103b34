"""CLI commands, registered on the app: `flask --app app <command>`."""

import click
from flask import Flask
from flask.cli import with_appcontext

from app.auth.services import ensure_admin
from app.idempotency import prune_expired


@click.command("create-admin")
@with_appcontext
@click.option("--username", required=True)
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_admin_command(username: str, email: str, password: str) -> None:
    """Create an admin user, or promote an existing one."""
    if len(password) < 8:
        raise click.BadParameter("must be at least 8 characters", param_hint="--password")
    user, created = ensure_admin(username, email, password)
    # An existing user is made admin (if not already) and gets the new password.
    click.echo(f"{'Created' if created else 'Updated'} admin {user.username!r} (id {user.id}).")


@click.command("prune-idempotency-keys")
@with_appcontext
def prune_idempotency_keys_command() -> None:
    """Delete Idempotency-Keys older than 24 hours (run it daily, e.g. from cron)."""
    click.echo(f"Deleted {prune_expired()} expired idempotency key(s).")


def register_commands(app: Flask) -> None:
    app.cli.add_command(create_admin_command)
    app.cli.add_command(prune_idempotency_keys_command)
