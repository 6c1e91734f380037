"""Eight threads deliver the same notifications at once: every payment counts exactly once.

Runs on whichever database the suite uses; on PostgreSQL this is the real race (row locks,
guarded updates, concurrent upserts of the same totals and donor tallies)."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select

from app.services.ledger_check import find_drift
from app.services.payments import ReceivedNotice, handle_payment_notification
from models import Donation
from tests import notices
from tests.helpers import Api, demo_tree

THREADS = 8


def test_eight_threads_same_notifications(api: Api, sessions: Any, session: Any) -> None:
    demo_tree(session)
    workers = [api.login(f"t{i}") for i in range(4)]
    units = ["DX-XF", "HC-A1", "HC-A", "DX-HC"]
    orders = [api.order(workers[i % 4], unit=units[i % 4], quantity=1 + i % 3).get_json()
              for i in range(12)]
    creds = notices.credentials(api.app)
    messages = [notices.signed(creds, notices.transaction(creds, o["out_trade_no"],
                                                          o["amount_fen"])) for o in orders]
    barrier = threading.Barrier(THREADS)
    verdicts: list[str] = []
    errors: list[BaseException] = []

    def deliver_all() -> None:
        try:
            barrier.wait()
            with sessions() as own:
                for headers, body in messages:
                    notice = ReceivedNotice("payment", headers, body, "127.0.0.1")
                    verdicts.append(handle_payment_notification(own, api.runtime.deps, notice))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver_all) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(verdicts).count("recorded") == len(orders)
    assert sorted(verdicts).count("duplicate") == len(orders) * (THREADS - 1)
    session.expire_all()
    assert set(session.scalars(select(Donation.status))) == {"paid"}
    assert find_drift(session) == []
    campaign = api.get("/api/campaigns/one-yuan").get_json()
    assert campaign["total_fen"] == sum(o["amount_fen"] for o in orders)
    assert campaign["donation_count"] == len(orders)
    assert campaign["donor_count"] == 4
