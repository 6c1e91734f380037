"""`warmfund init`: the schema, the default campaigns and, when asked, the demo unit tree (in
development also the development admin)."""

from __future__ import annotations

import secrets
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from app.runtime import Runtime, current_runtime
from app.services.accounts import accounts
from app.services.actor import SYSTEM
from app.services.catalog import campaigns
from app.services.units import unit_import, units
from models import Role

DEMO_UNITS = Path(__file__).resolve().parents[1] / "demo" / "units.csv"


@click.command("init")
@click.option("--demo/--no-demo", default=None,
              help="Load the demo unit tree (default: [app].demo_data).")
@with_appcontext
def init_command(demo: bool | None) -> None:
    """Create or upgrade the schema and ensure the default campaigns."""
    from models.migrate import upgrade

    rt = current_runtime()
    if rt.engine.dialect.name == "sqlite":
        rt.settings.instance_dir.mkdir(parents=True, exist_ok=True)
    upgrade(rt.engine)
    now = rt.deps.clock()
    with rt.sessions() as session:
        created = campaigns.ensure_default_campaigns(session, now)
        click.echo(f"schema is up to date; campaigns created: {', '.join(created) or 'none'}")
        if demo if demo is not None else rt.settings.get("app", "demo_data"):
            _load_demo(session, rt)  # ends with the development admin's password


def _load_demo(session: Session, rt: Runtime) -> None:
    if units.count_units(session):
        # Never over what someone changed while trying things out.
        click.echo("demo units: a unit tree is already there (left as it is)")
    else:
        rows = unit_import.read_rows(DEMO_UNITS.name, DEMO_UNITS.read_bytes())
        report = unit_import.import_units(session, rows, rt.deps.clock())
        click.echo(f"demo units: {len(report.created)} created")
    if rt.settings.development:
        _development_admin(session, rt)


def _development_admin(session: Session, rt: Runtime) -> None:
    """Make the development admin in a database without accounts, or say how to sign in."""
    path = rt.settings.instance_dir / "dev-admin-password.txt"
    names = {a["username"] for a in accounts.list_accounts(session)}
    if "admin" in names:
        known = path.read_text().strip() if path.exists() else ""
        if known and accounts.has_password(session, "admin", known):
            click.echo(f"development admin: admin / {known}  (from {path})")
        else:
            click.echo("development admin: admin, with a password changed since (set one with "
                       "`warmfund admin reset-password admin --password-stdin`)")
    elif not names:
        password = secrets.token_urlsafe(9)
        accounts.create_account(session, SYSTEM, username="admin", password=password,
                                role=Role.ADMIN, unit_code=None, now=rt.deps.clock())
        path.write_text(password + "\n")
        path.chmod(0o600)
        click.echo(f"development admin: admin / {password}  (also in {path})")
