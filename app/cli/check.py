"""`warmfund check-config`: what a configuration would run as, and whether start-up accepts it.

It reads the configuration as start-up does and loads every key and certificate it names, but
starts nothing and creates nothing (no stand-in, no instance/ files, no database file)."""

from __future__ import annotations

import os
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from app.config import CONFIG_ENV, ConfigError, Settings, load_settings
from app.runtime import build_runtime
from models.database import make_engine
from models.migrate import schema_state


@click.command("check-config")
def check_config_command() -> None:
    """Print mode, database, WeChat endpoints and keys; exit 1 on what start-up would refuse."""
    try:
        settings = load_settings()
        if not settings.use_simulator:
            build_runtime(settings).engine.dispose()  # loads every key; starts nothing
    except ConfigError as exc:
        click.echo(f"refused: {exc}", err=True)
        raise SystemExit(1) from None
    for name, value in _summary(settings):
        click.echo(f"{name + ':':<12}{value}")
    click.echo("ok: start-up accepts this configuration")


def _summary(settings: Settings) -> list[tuple[str, str]]:
    wechat, pay = settings.raw["wechat"], settings.raw["wechat.pay"]
    proxies = settings.get("app", "trusted_proxies")
    return [
        ("config", os.environ.get(CONFIG_ENV) or "(none)"),
        ("mode", "development (stand-in of WeChat, generated keys, demo units)"
         if settings.development else "production"),
        ("database", _database(settings)),
        ("limits", "counted in Redis" if settings.get("redis", "url")
         else "counted in the database (shared by every worker)"),
        ("proxies", f"{proxies}: only loopback peers are served (bind to 127.0.0.1)" if proxies
         else "none: clients' own addresses are used"),
        ("wechat", "the local stand-in (started by `warmfund run`)" if settings.use_simulator
         else f"{wechat['api_base']} (appid {wechat['appid']})"),
        ("pay", "the local stand-in" if settings.use_simulator
         else f"{pay['api_base']} (mchid {pay['mchid']}, API {pay['version']})"),
        ("notify", f"{pay['notify_url']} · refunds {pay['refund_notify_url']}"),
        ("keys", _keys(settings)),
    ]


def _database(settings: Settings) -> str:
    url = make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return f"{shown}: no such file yet (`warmfund init` makes it)"
    engine = make_engine(settings.database_url, wait_seconds=3)
    try:
        return f"{shown}: {schema_state(engine).describe()}"
    finally:
        engine.dispose()


def _keys(settings: Settings) -> str:
    secret = str(settings.get("app", "secret_key"))
    found = [f"secret_key ({len(secret)} characters)" if secret
             else "secret_key (development's own, under instance/)"]
    if settings.use_simulator:
        return ", ".join([*found, "WeChat keys: development's own, under instance/"])
    pay = settings.raw["wechat.pay"]
    certificates = [p for p in str(pay["wechatpay_platform_certificates"]).split(",") if p.strip()]
    return ", ".join([*found, "apiv3_key", f"merchant key {pay['merchant_private_key']}",
                      f"WeChat Pay public key {pay['wechatpay_public_key_id']}",
                      f"{len(certificates)} platform certificate(s)"])
