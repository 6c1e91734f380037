"""A payment notification waits at most about 3 s for a database lock: WeChat Pay gives 5 s, and
a 5xx makes it deliver again, where a hung worker would only time out."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import text

from models.database import WRITE_OPTION
from tests import notices
from tests.helpers import Api, demo_tree

HELD_SECONDS = 8.0


def _hold_the_order(api: Api, out_trade_no: str, released: threading.Event) -> threading.Event:
    """Another connection holds what the notification must write (SQLite: the write lock;
    PostgreSQL: the order's row) until `released` is set or HELD_SECONDS have passed."""
    holding = threading.Event()

    lock = "" if api.runtime.engine.dialect.name == "sqlite" else " FOR UPDATE"

    def hold() -> None:
        with api.runtime.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})  # SQLite: BEGIN IMMEDIATE
            conn.begin()
            conn.execute(text(f"SELECT id FROM donations WHERE out_trade_no = :n{lock}"),
                         {"n": out_trade_no})
            holding.set()
            released.wait(HELD_SECONDS)
            conn.rollback()

    threading.Thread(target=hold, daemon=True).start()
    assert holding.wait(10)
    return holding


def test_a_notification_gives_up_on_a_held_lock_in_time(api: Api, session: Any) -> None:
    demo_tree(session)
    order = api.order(api.login("alice"), unit="HC-A1").get_json()
    creds = notices.credentials(api.app)
    headers, body = notices.signed(creds, notices.transaction(creds, order["out_trade_no"], 100))
    released = threading.Event()
    _hold_the_order(api, order["out_trade_no"], released)
    started = time.monotonic()
    reply = api.client.post("/wechat/pay/notify", data=body, headers=headers)
    waited = time.monotonic() - started
    released.set()
    assert reply.status_code == 500, waited
    assert reply.get_json()["code"] == "FAIL"
    assert 2.5 <= waited < 4.5
    again = api.client.post("/wechat/pay/notify", data=body, headers=headers)
    assert again.status_code == 204  # WeChat Pay's next delivery is recorded
