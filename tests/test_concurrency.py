"""Eight threads deliver the same notifications at once: every payment counts exactly once.

Runs on whichever database the suite uses; on PostgreSQL this is the real race (row locks,
guarded updates, concurrent upserts of the same totals and donor tallies)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.services.payments.ledger_check import find_drift, find_tally_drift
from app.services.payments.payments import ReceivedNotice, handle_notification
from models import Donation
from tests import notices
from tests.helpers import Api, at_once, demo_tree

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
                    verdicts.append(handle_notification(own, api.runtime.deps, notice))
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
    assert find_tally_drift(session) == []
    campaign = api.get("/api/campaigns/one-yuan").get_json()
    assert campaign["total_fen"] == sum(o["amount_fen"] for o in orders)
    assert campaign["donation_count"] == len(orders)
    assert campaign["donor_count"] == 4


def test_units_move_while_payments_land(api: Api, sessions: Any, session: Any) -> None:
    """A move recounts subtree totals under a table lock while payments keep arriving: no
    deadlock, no lost payment, and the totals follow the unit to its new parent."""
    from app.services.actor import SYSTEM
    from app.services.deps import utc_now
    from app.services.units.unit_admin import UnitChanges, update_unit_as

    demo_tree(session)
    token = api.login("mover")
    orders = [api.order(token, unit="HC-A1", quantity=1 + i % 5, message=str(i)).get_json()
              for i in range(24)]
    creds = notices.credentials(api.app)
    messages = [notices.signed(creds, notices.transaction(creds, o["out_trade_no"],
                                                          o["amount_fen"])) for o in orders]
    errors: list[BaseException] = []

    def pay(batch: list[Any]) -> None:
        try:
            with sessions() as own:
                for headers, body in batch:
                    handle_notification(own, api.runtime.deps,
                                                ReceivedNotice("payment", headers, body, ""))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def move() -> None:
        try:
            with sessions() as own:
                for parent in ["DX-XF", "DX-HC"] * 3:
                    update_unit_as(own, SYSTEM, "HC-A", UnitChanges(parent=parent, move=True),
                                   utc_now())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=pay, args=(messages[i::4],)) for i in range(4)]
    threads.append(threading.Thread(target=move))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert find_drift(session) == []
    assert find_tally_drift(session) == []
    total = sum(o["amount_fen"] for o in orders)
    hc = next(t for t in api.get("/api/units/DX-HC").get_json()["totals"]
              if t["campaign"] == "one-yuan")
    xf = next(t for t in api.get("/api/units/DX-XF").get_json()["totals"]
              if t["campaign"] == "one-yuan")
    assert (hc["total_fen"], xf["total_fen"]) == (total, 0)


def test_first_logins_of_one_worker_at_once_all_succeed(api: Api, session: Any,
                                                        http_server: Any) -> None:
    # The mini-program's launch and its first page may both log a new worker in at once.
    import requests

    from models import Worker

    url = http_server[1]
    for round_ in range(5):
        statuses = at_once(THREADS, lambda n, r=round_: requests.post(
            f"{url}/api/login", json={"code": f"new{r}#{n}"}, timeout=30).status_code)
        assert statuses == [200] * THREADS
    session.rollback()
    openids = list(session.scalars(select(Worker.openid)))
    assert len(openids) == len(set(openids)) == 5


def test_an_order_holds_the_workers_row_until_it_commits(api: Api, sessions: Any,
                                                          session: Any,
                                                          database_url: str) -> None:
    # What keeps a double tap from placing two identical orders: the order's first statement
    # (the campaign and unit) locks the worker's row, so the other tap's waits for the commit
    # and then sees the order this one placed. (SQLite: one writer at a time anyway.)
    from app.services.payments.donations import OrderRequest, _find_target_and_lock_worker
    from models import Worker
    from models.database import WRITE_OPTION, make_engine, write_transaction

    demo_tree(session)
    api.login("gus")
    openid = session.scalar(select(Worker.openid))
    other_tap = make_engine(database_url, wait_seconds=0.5)

    def lock_the_worker() -> None:
        with other_tap.connect() as conn, conn.execution_options(
                **{WRITE_OPTION: True}).begin() as tx:
            tx.connection.execute(select(Worker.id).where(Worker.openid == openid)
                                  .with_for_update())

    with sessions() as placing, write_transaction(placing):
        _find_target_and_lock_worker(placing, OrderRequest(
            openid=openid, campaign="one-yuan", unit="HC-A1"))
        with pytest.raises(OperationalError):
            lock_the_worker()
    lock_the_worker()  # free again once the order committed
    other_tap.dispose()


@pytest.mark.parametrize("path, body", [
    ("/admin/api/campaigns", {"code": "drive", "name": "新项目", "amount_fen": 500}),
    ("/admin/api/accounts", {"username": "twin", "password": "a long password 1",
                             "role": "admin"}),
])
def test_one_name_created_at_once_is_created_once(api: Api, session: Any, http_server: Any,
                                                  path: str, body: dict[str, Any]) -> None:
    import requests

    from tests.admin.helpers import ADMIN, bearer, token_for
    from tests.helpers import make_admin

    demo_tree(session)
    make_admin(session, *ADMIN)
    headers = bearer(token_for(api, *ADMIN))
    statuses = at_once(6, lambda _n: requests.post(f"{http_server[1]}{path}", json=body,
                                                    headers=headers, timeout=30).status_code)
    assert sorted(statuses) == [201] + [400] * 5
