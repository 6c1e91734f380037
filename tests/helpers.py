"""Small action helpers for tests: log in, order, pay through the stand-in."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, make_url, text

from app.services.accounts.accounts import create_account
from app.services.actor import SYSTEM
from app.services.deps import utc_now
from app.services.units.units import UnitInput, create_unit

_codes = itertools.count(1)

PRODUCTION_SECRET = "Jq3vXw0e7RkT1bYp9LmZs4HdN2cUfA6g"


def production_config(folder: Path, **pay: Any) -> dict[str, dict[str, Any]]:
    """A complete non-development configuration (real-looking keys made under `folder`)."""
    from wechat.keys import generate_dev_credentials

    creds = generate_dev_credentials(folder / "creds")
    values = {"mchid": creds.mchid, "apiv3_key": creds.apiv3_key,
              "merchant_private_key": str(creds.merchant_private_key_path),
              "merchant_serial_no": creds.merchant_serial_no,
              "wechatpay_public_key": str(creds.wechatpay_public_key_path),
              "wechatpay_public_key_id": creds.wechatpay_public_key_id, **pay}
    return {"app": {"secret_key": PRODUCTION_SECRET, "instance_dir": str(folder)},
            "database": {"url": f"sqlite:///{folder / 'x.db'}"},
            "wechat": {"appid": creds.appid, "secret": creds.secret}, "wechat.pay": values}


@contextmanager
def postgres_database(server_url: str, name: str) -> Iterator[str]:
    """A fresh PostgreSQL database `name` on the server of `server_url` (its URL), dropped
    afterwards."""
    base = make_url(server_url)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Api:
    def __init__(self, app: Any, client: Any) -> None:
        self.app = app
        self.client = client
        self.runtime = app.extensions["warmfund"]

    @property
    def sim_url(self) -> str:
        return str(self.runtime.simulator.url)

    def login(self, worker: str = "alice") -> str:
        reply = self.client.post("/api/login", json={"code": f"{worker}#{next(_codes)}"})
        assert reply.status_code == 200, reply.get_json()
        return str(reply.get_json()["token"])

    def order(self, token: str, unit: str = "DX-XF", campaign: str = "one-yuan",
              quantity: int = 1, **extra: Any) -> Any:
        body = {"campaign": campaign, "unit": unit, "quantity": quantity, **extra}
        return self.client.post("/api/donations", json=body,
                                headers={"Authorization": f"Bearer {token}"})

    def sim_pay(self, out_trade_no: str, **options: Any) -> dict[str, Any]:
        reply = requests.post(f"{self.sim_url}/_sim/orders/{out_trade_no}/pay", json=options,
                              timeout=10)
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    def get(self, path: str, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.get(path, headers=headers)


def add_units(session: Any, *specs: tuple[str, str | None, str]) -> None:
    """specs: (code, parent, kind)."""
    for code, parent, kind in specs:
        create_unit(session, UnitInput(code=code, name=f"{code} 工会", parent=parent, kind=kind),
                    utc_now())


def demo_tree(session: Any) -> None:
    add_units(session, ("DX", None, "district"), ("DX-XF", "DX", "street"),
              ("DX-HC", "DX", "town"), ("HC-A", "DX-HC", "grassroots"),
              ("HC-A1", "HC-A", "enterprise"))


def make_admin(session: Any, username: str = "boss", password: str = "correct horse 1",
               role: str = "admin", unit: str | None = None) -> None:
    create_account(session, SYSTEM, username=username, password=password, role=role,
                   unit_code=unit, now=utc_now())


def at_once(count: int, call: Any) -> list[Any]:
    """call(n) for n in range(count), from as many threads released together: what each
    returned, in the order they finished."""
    start, results = threading.Barrier(count), []

    def run(n: int) -> None:
        start.wait()
        results.append(call(n))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def cut_pooled_connections(engine: Any, session: Any, count: int) -> int:
    """Cut `count` of the engine's pooled connections from under it, as a database restart
    would (on PostgreSQL the server ends their backends; SQLite's are closed); returns how many
    were cut."""
    pooled = [engine.raw_connection() for _ in range(count)]
    if engine.dialect.name != "postgresql":
        for connection in pooled:
            connection.driver_connection.close()
            connection.close()
        return len(pooled)
    pids = [connection.driver_connection.info.backend_pid for connection in pooled]
    for connection in pooled:
        connection.close()  # back to the pool, alive as far as the pool knows
    session.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(:pids) AS pid"),
                    {"pids": pids})
    session.commit()
    return len(pids)
