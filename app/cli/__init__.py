"""The `warmfund` command, a Flask CLI group; each module of this package holds a few of its
commands: setup (init), units (units import, qr export), ledger (reconcile, totals verify),
accounts (admin …), bill (bill check), check (check-config), simulator (simulator, and
run's --sim-port)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo
from flask.helpers import get_debug_flag
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app import create_app
from app.cli.accounts import admin_group
from app.cli.bill import bill_group
from app.cli.check import check_config_command
from app.cli.ledger import reconcile_command, totals_group
from app.cli.setup import init_command
from app.cli.simulator import set_simulator_port, simulator_command
from app.cli.units import qr_group, units_group
from app.config import CONFIG_ENV, ConfigError, Settings, load_settings

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


for _command in (init_command, units_group, qr_group, reconcile_command, totals_group,
                 admin_group, bill_group, check_config_command, simulator_command):
    main.add_command(_command)
