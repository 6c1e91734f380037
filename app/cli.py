"""The `warmfund` command (a Flask CLI group): init, units, reconcile, totals, simulator, qr;
`admin` is in app/cli_accounts.py, `bill` in app/cli_bill.py."""

from __future__ import annotations

import functools
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext
from flask.helpers import get_debug_flag
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

from app import create_app
from app.cli_accounts import admin_group
from app.cli_bill import bill_group
from app.cli_check import check_config_command
from app.cli_sim import set_simulator_port
from app.config import CONFIG_ENV, ConfigError, Settings, load_settings
from app.runtime import Runtime, current_runtime
from app.services.accounts import accounts
from app.services.actor import SYSTEM
from app.services.catalog import campaigns
from app.services.errors import DomainError
from app.services.payments import ledger_check, reconcile
from app.services.units import unit_import, units
from models import Role

DEMO_UNITS = Path(__file__).resolve().parent / "demo" / "units.csv"

# Without a config file these commands ask for development mode; only those that make things
# (instance/ keys and secret, the database) may create them: any other command run in the
# wrong folder says so and leaves the folder as it was.
DEVELOPMENT_COMMANDS = ("run", "simulator")
CREATING_COMMANDS = ("init", "run", "simulator")


def _cli_app() -> Flask:
    command = click.get_current_context().ensure_object(ScriptInfo).data.get("command")
    overrides = None
    if command in DEVELOPMENT_COMMANDS and not os.environ.get(CONFIG_ENV):
        overrides = {"app": {"development": True}}
    if command not in CREATING_COMMANDS:
        _refuse_to_create(load_settings(overrides))
    return create_app(overrides)


def _refuse_to_create(settings: Settings) -> None:
    url = make_url(settings.database_url)
    database = url.database or ""
    missing = url.get_backend_name() == "sqlite" and database not in ("", ":memory:") and (
        not Path(database).exists())
    if missing or (settings.development and not settings.instance_dir.is_dir()):
        where = database if missing else str(settings.instance_dir)
        raise ConfigError(f"no warmfund database here ({where} does not exist): run "
                          "`warmfund init` first, from the folder that holds instance/ or with "
                          f"{CONFIG_ENV} set")


class _Group(FlaskGroup):
    """Flask's group, saying in one line what to do when the configuration is refused or the
    database has no schema yet, and where the development server's stand-in of WeChat
    listens."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        ctx.ensure_object(ScriptInfo).data["command"] = cmd_name
        command = super().get_command(ctx, cmd_name)
        if cmd_name != "run" or command is None or command.callback is None:
            return command
        serve = command.callback

        @functools.wraps(serve)
        def announced(*args: Any, sim_port: int | None = None, **kwargs: Any) -> Any:
            if sim_port is not None:
                reload = kwargs.get("reload")
                set_simulator_port(sim_port, get_debug_flag() if reload is None else reload)
            # The app is loaded once: Flask's run command reuses it.
            stand_in = ctx.ensure_object(ScriptInfo).load_app().extensions["warmfund"].simulator
            if stand_in is not None:  # its control endpoints (/_sim/…) are on its own port
                url = stand_in.url if sim_port is None else f"http://127.0.0.1:{sim_port}"
                click.echo(f" * WeChat stand-in on {url} (GET {url}/_sim/state; its control "
                           "endpoints are in docs/try-it.md)", err=True)
            return serve(*args, **kwargs)

        sim_port = click.Option(
            ["--sim-port"], type=click.IntRange(1, 65535), default=None,
            help="Port of the local stand-in of WeChat (default: any free port; "
                 "same as WARMFUND_WECHAT_SIMULATOR_PORT).")
        return click.Command(cmd_name, params=[*command.params, sim_port], callback=announced,
                             help=command.help, short_help=command.short_help,
                             context_settings=command.context_settings)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        except DBAPIError as exc:
            found, kind = str(exc.orig), type(exc.orig).__name__
            if "no such table" in found or kind == "UndefinedTable":
                raise click.ClickException(
                    "this database has no warmfund tables yet: run `warmfund init` first (the "
                    "development database is instance/warmfund.db under the current folder)"
                ) from exc
            if "no such column" in found or "has no column named" in found or (
                    kind == "UndefinedColumn"):
                raise click.ClickException(
                    "this database's schema is older than this code: run `warmfund init` to "
                    "upgrade it") from exc
            raise


@click.group(cls=_Group, create_app=_cli_app, add_version_option=False,
             load_dotenv=False)
def main() -> None:
    """warmfund — 一元捐 / 十元捐 donations for the union's relief fund."""


main.add_command(admin_group)
main.add_command(check_config_command)
main.add_command(bill_group)


@main.command("init")
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


@main.group("units")
def units_group() -> None:
    """The unit tree."""


@units_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def units_import(file: Path) -> None:
    """Import units from CSV (UTF-8 or GBK) or XLSX.

    \b
    Header, in Chinese or English, any column order:
      单位编码,单位名称,上级单位,类型[,职工人数]
      code,name,parent_code,kind[,headcount]
    类型: 区总工会 镇总工会 街道总工会 产业基地 基层工会 企业
          (or district town street park grassroots enterprise).
    上级单位 is the parent's code, empty for the top unit. Units not in the file are left
    as they are. The console's 二维码与海报 page offers a template.
    """
    from tqdm import tqdm

    rt = current_runtime()
    try:
        rows = unit_import.read_rows(file.name, file.read_bytes())
        with rt.sessions() as session, tqdm(total=len(rows), unit="unit",
                                            disable=len(rows) < 200) as bar:
            report = unit_import.import_units(session, rows, rt.deps.clock(), bar.update)
    except unit_import.ImportFileError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        click.echo(f"共 {len(exc.problems)} 处问题，未导入任何内容", err=True)
        raise click.exceptions.Exit(1) from exc
    for line in unit_import.summary(report):
        click.echo(line)


@main.command("reconcile")
@with_appcontext
def reconcile_command() -> None:
    """Ask WeChat Pay about every pending order and refund in flight; record what it says."""
    rt = current_runtime()
    with rt.sessions() as session:
        report = reconcile.reconcile(session, rt.deps)
    click.echo(f"checked {report.checked}: paid {report.paid}, closed {report.closed}, "
               f"still pending {report.still_pending}, failed {len(report.failed)}")
    refunds = report.refunds
    click.echo(f"refunds in flight checked {refunds.checked}: settled {refunds.settled}, "
               f"sent again {refunds.resent}, still processing {refunds.still_processing}")
    for failure in report.failed:
        click.echo(f"  {failure}", err=True)
    if report.failed:
        sys.exit(1)


@main.group("totals")
def totals_group() -> None:
    """Running totals against the ledger."""


@totals_group.command("verify")
@click.option("--repair", is_flag=True, help="Rebuild drifted totals from the ledger.")
@with_appcontext
def totals_verify(repair: bool) -> None:
    """Recompute every total from the ledger and report (or repair) any drift."""
    rt = current_runtime()
    with rt.sessions() as session:
        found = (ledger_check.repair_totals(session) if repair
                 else ledger_check.verify_totals(session))
    for d in found.totals:
        click.echo(f"campaign {d.campaign_id} {d.scope} {d.unit_id}: stored {d.stored}, "
                   f"ledger {d.expected}")
    for campaign_id, scope, unit_id in found.tallies:
        click.echo(f"campaign {campaign_id} {scope} {unit_id}: donor tallies differ from the "
                   "ledger")
    if not found:
        click.echo("all totals equal the ledger")
    elif not repair:
        sys.exit(1)
    else:
        click.echo(f"repaired {len(found.totals)} total(s) and the donor tallies of "
                   f"{len(found.tallies)}")


@main.command("simulator")
@click.option("--port", type=int, default=9090, show_default=True)
@with_appcontext
def simulator_command(port: int) -> None:
    """Run the local stand-in of WeChat's servers (development credentials in instance/)."""
    from wechat.keys import generate_dev_credentials
    from wechat.simulator import run_simulator, simulator_config_from_dev_credentials

    creds = generate_dev_credentials(current_runtime().settings.instance_dir / "dev-credentials")
    click.echo(f"WeChat stand-in on http://127.0.0.1:{port} — point the app at it with\n"
               f"  WARMFUND_WECHAT_API_BASE=http://127.0.0.1:{port} "
               f"WARMFUND_WECHAT_PAY_API_BASE=http://127.0.0.1:{port}")
    run_simulator(simulator_config_from_dev_credentials(creds), port)


@main.group("qr")
def qr_group() -> None:
    """QR codes and posters."""


@qr_group.command("export")
@click.option("--campaign", "campaign_code", required=True, help="Campaign code, e.g. one-yuan.")
@click.option("--out", "out_path", required=True,
              type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--unit", "unit_code", default=None, help="Only this unit's subtree.")
@with_appcontext
def qr_export(campaign_code: str, out_path: Path, unit_code: str | None) -> None:
    """Every active unit's QR PNG, SVG and poster PDF in a ZIP, in folders following the tree."""
    import os

    from tqdm import tqdm

    from app.services.codes import bundles

    rt = current_runtime()
    with rt.sessions() as session:
        try:
            campaign, entries = bundles.plan_bundle(session, campaign_code, unit_code)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
    font = rt.poster_fonts.find()
    if font is None:
        click.echo("no CJK font found: posters use the viewer's STSong-Light", err=True)
    partial = out_path.with_name(out_path.name + ".part")
    with partial.open("wb") as fh, tqdm(total=len(entries), unit="unit") as bar:
        count = bundles.write_bundle(fh, rt.deps.public_url, campaign, entries, font, bar.update,
                                     workers=os.cpu_count() or 1)
    partial.replace(out_path)
    click.echo(f"wrote {count} units' QR codes and posters to {out_path}")
