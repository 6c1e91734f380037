"""`warmfund admin …`: admin and organizer accounts from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.runtime import current_runtime
from app.services.accounts import accounts
from app.services.actor import SYSTEM
from app.services.errors import DomainError


@click.group("admin")
def admin_group() -> None:
    """Admin and organizer accounts."""


def _read_password() -> str:
    line = sys.stdin.readline()
    if not line:
        raise click.ClickException("no password on standard input")
    return line.rstrip("\r\n")


@admin_group.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "organizer"]), required=True)
@click.option("--unit", "unit_code", default=None, help="Unit code (organizers).")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from one line of standard input.")
@with_appcontext
def admin_create(name: str, role: str, unit_code: str | None, password_stdin: bool) -> None:
    """Create an account NAME; the password comes on standard input.

    echo 'a long password' | warmfund admin create boss --role admin --password-stdin
    """
    rt = current_runtime()
    password = _read_password()
    with rt.sessions() as session:
        try:
            accounts.create_account(session, SYSTEM, username=name, password=password,
                                    role=role, unit_code=unit_code, now=rt.deps.clock())
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(f"created {role} {name}")


@admin_group.command("list")
@with_appcontext
def admin_list() -> None:
    """Every account: username, role, unit, active or disabled."""
    with current_runtime().sessions() as session:
        for a in accounts.list_accounts(session):
            state = "active" if a["active"] else "disabled"
            click.echo(f"{a['username']}\t{a['role']}\t{a['unit'] or '-'}\t{state}")


@admin_group.command("disable")
@click.argument("name")
@with_appcontext
def admin_disable(name: str) -> None:
    """Disable account NAME; its tokens and console sessions stop working at once."""
    rt = current_runtime()
    with rt.sessions() as session:
        try:
            accounts.disable_account(session, SYSTEM, name, rt.deps.clock())
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(f"disabled {name}")


@admin_group.command("reset-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the new password from one line of standard input.")
@with_appcontext
def admin_reset_password(name: str, password_stdin: bool) -> None:
    """Set a new password for account NAME (and unlock it)."""
    rt = current_runtime()
    password = _read_password()
    with rt.sessions() as session:
        try:
            accounts.reset_password(session, SYSTEM, name, password, rt.deps.clock())
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(f"password reset for {name}")


@admin_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def admin_import(file: Path) -> None:
    """Create accounts from a CSV (username,unit[,role][,password]); prints generated passwords."""
    from app.services.accounts import account_import

    rt = current_runtime()
    with rt.sessions() as session:
        try:
            rows = account_import.read_accounts_csv(file.read_bytes())
            created = account_import.import_accounts(session, SYSTEM, rows, rt.deps.clock())
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(account_import.credentials_csv(created), nl=False)
