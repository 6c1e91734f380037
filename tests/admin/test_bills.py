"""The daily trade bill end to end, through the stand-in of WeChat Pay over HTTP: the command
`warmfund bill check` (its lines and exit codes), the admin API and the console page 对账."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from app import create_app
from app.cli.bill import bill_check
from tests import notices
from tests.admin.helpers import ADMIN, ORGANIZER, bearer, console_as, error_code, form_csrf, seed
from tests.conftest import app_config
from tests.helpers import Api
from wechat.timeutil import CHINA_TZ, to_rfc3339, utc_now


@pytest.fixture
def api(sessions: Any, database_url: str, http_server: Any, tmp_path: Path) -> Iterator[Api]:
    """The app beside a stand-in of its own (an instance folder of its own): the session's
    stand-in remembers every earlier test's payments, which would all be in today's bill."""
    dispatcher, url = http_server
    flask_app = create_app(app_config(database_url, url, tmp_path))
    dispatcher.app = flask_app
    yield Api(flask_app, flask_app.test_client())
    dispatcher.app = None
    flask_app.extensions["warmfund"].engine.dispose()


def _sim_order(api: Api, out_trade_no: str) -> dict[str, Any]:
    orders = requests.get(f"{api.sim_url}/_sim/orders", timeout=10).json()["orders"]
    return dict(next(o for o in orders if o["out_trade_no"] == out_trade_no))


def _paid_day(api: Api, out_trade_no: str) -> date:
    """The China date on which the stand-in took the payment (its bill's day)."""
    paid = _sim_order(api, out_trade_no)
    return datetime.fromisoformat(paid["success_time"]).astimezone(CHINA_TZ).date()


def _refund_on_platform(api: Api, out_trade_no: str, amount: int) -> str:
    """A refund made on the merchant platform whose notification never came."""
    made = requests.post(f"{api.sim_url}/_sim/orders/{out_trade_no}/refund", timeout=10,
                         json={"amount": amount, "notify": False})
    assert made.status_code == 200, made.text
    return str(made.json()["out_refund_no"])


def _refund_notified(api: Api, out_trade_no: str, out_refund_no: str, amount: int) -> None:
    """A signed REFUND.SUCCESS notification of `amount`, succeeded now, whatever WeChat Pay's
    own books say of that refund."""
    creds, order = notices.credentials(api.app), _sim_order(api, out_trade_no)
    plain = notices.refund(creds, out_trade_no, out_refund_no, amount,
                           order["amount"]["total"], order["transaction_id"])
    headers, body = notices.signed(creds, {**plain, "success_time": to_rfc3339(utc_now())})
    assert api.client.post("/wechat/pay/refund-notify", data=body,
                           headers=headers).status_code == 204


def _run(api: Api, *args: str) -> Any:
    return api.app.test_cli_runner().invoke(bill_check, list(args))


def _order(api: Api, worker: str, quantity: int) -> str:
    placed = api.order(api.login(worker), unit="DX-XF", quantity=quantity)
    assert placed.status_code == 201, placed.get_json()
    return str(placed.get_json()["out_trade_no"])


def test_bill_check_recovers_lists_and_refuses(api: Api, session: Any) -> None:
    seeded = seed(api, session)  # three payments, notified
    lost = _order(api, "dora", 2)
    api.sim_pay(lost, notify=False)
    day = _paid_day(api, lost).isoformat()
    taken = requests.post(f"{api.sim_url}/_sim/bill/rows", timeout=10, json={
        "out_trade_no": f"WF-never-{seeded['bob'][-8:]}", "amount": 500})
    assert taken.status_code == 200
    first = _run(api, "--date", day)
    assert first.exit_code == 1, first.output
    lines = first.output.splitlines()
    assert lines[0].startswith(f"{day} WeChat Pay bill:") and "yuan" in lines[0]
    assert any(line.startswith(f"recovered {lost}: ") and "2.00" in line for line in lines)
    assert any(line.startswith(f"unknown_order WF-never-{seeded['bob'][-8:]}: ")
               for line in lines)
    assert api.get("/api/campaigns/one-yuan").get_json()["total_fen"] == 800  # 3+1+2+2 yuan
    again = _run(api, "--date", day)
    assert again.exit_code == 1 and "recovered" not in again.output
    assert api.get("/api/campaigns/one-yuan").get_json()["total_fen"] == 800
    for fault in ("hash", "summary"):
        requests.post(f"{api.sim_url}/_sim/bill/fault", json={"fault": fault}, timeout=10)
        refused = _run(api, "--date", day)
        assert refused.exit_code == 2 and "could not be checked (refused)" in refused.output


def test_a_day_without_a_bill_and_a_bad_date(api: Api, session: Any) -> None:
    seed(api, session)
    quiet = (datetime.now(CHINA_TZ).date() - timedelta(days=5)).isoformat()
    result = _run(api, "--date", quiet)
    assert result.exit_code == 2 and "has no bill for this day" in result.output
    assert "NO_STATEMENT_EXIST" in result.output
    for bad in ("2026-13-01", "20261201", "yesterday"):
        assert _run(api, "--date", bad).exit_code == 2


def test_admin_api_lists_checks_and_a_days_findings(api: Api, session: Any) -> None:
    seeded = seed(api, session)
    day = _paid_day(api, seeded["bob"]).isoformat()
    assert _run(api, "--date", day).exit_code == 0
    admin = bearer(seeded["admin"])
    listed = api.client.get("/admin/api/bills", headers=admin).get_json()["bills"]
    assert [(c["date"], c["status"], c["findings_count"]) for c in listed] == [(day, "done", 0)]
    one = api.client.get(f"/admin/api/bills/{day}", headers=admin).get_json()
    assert one["bill"] == {"count": 3, "paid_fen": 600, "refund_fen": 0, "fee_fen": 4}
    assert one["ledger"] == {"count": 3, "paid_fen": 600, "refund_fen": 0}
    assert one["findings"] == [] and one["checked_at"].endswith("+08:00")
    organizer = bearer(seeded["organizer"])
    assert api.client.get("/admin/api/bills", headers=organizer).status_code == 403
    assert api.client.get(f"/admin/api/bills/{day}", headers=organizer).status_code == 403
    assert api.client.get("/admin/api/bills").status_code == 401
    assert error_code(api.client.get("/admin/api/bills/2026-02-30", headers=admin)) == (
        "invalid_request")
    assert error_code(api.client.get("/admin/api/bills/2020-01-01", headers=admin)) == (
        "not_found")


def test_console_page_starts_a_check_and_shows_both_sides(api: Api, session: Any) -> None:
    seeded = seed(api, session)
    lost = _order(api, "erin", 1)
    api.sim_pay(lost, notify=False)
    day = _paid_day(api, lost).isoformat()
    console = console_as(api, *ADMIN)
    page = console.get("/admin/bills")
    assert page.status_code == 200 and "还没有对过账" in page.get_data(as_text=True)
    started = console.post("/admin/bills", data={"date": day,
                                                 "csrf_token": form_csrf(page.data)})
    assert started.status_code == 302 and started.location.endswith(f"/admin/bills/{day}")
    detail = console.get(f"/admin/bills/{day}").get_data(as_text=True)
    assert "已补记支付" in detail and lost in detail and "7.00" in detail  # 3+1+2+1 yuan
    listing = console.get("/admin/bills").get_data(as_text=True)
    assert day in listing and "已完成" in listing
    organizer = console_as(api, *ORGANIZER)
    assert organizer.get("/admin/bills").status_code == 403
    assert seeded["bob"]


def test_bill_check_records_and_lists_refunds(api: Api, session: Any) -> None:
    seeded = seed(api, session)  # alice 3 yuan, bob 1, carol 2: 6 yuan, notified
    alice, bob, carol = seeded["alice"], seeded["bob"], seeded["carol"]
    lost = _refund_on_platform(api, alice, 100)
    _refund_notified(api, bob, "RF-not-at-wechat", 100)  # WeChat Pay's books lack it
    unequal = _refund_on_platform(api, carol, 200)
    _refund_notified(api, carol, unequal, 150)
    stranger = f"WF-never-{bob[-8:]}"
    assert requests.post(f"{api.sim_url}/_sim/bill/rows", timeout=10,
                         json={"out_trade_no": stranger, "amount": 500}).ok
    theirs = _refund_on_platform(api, stranger, 200)
    day = _paid_day(api, alice).isoformat()
    first = _run(api, "--date", day)
    assert first.exit_code == 1, first.output
    found = sorted(line.split(":")[0] for line in first.output.splitlines()[2:-1])
    assert found == sorted([f"refund_recovered {alice} {lost}", f"unknown_order {stranger}",
                            f"refund_unknown {stranger} {theirs}",
                            f"refund_missing_at_wechat {bob} RF-not-at-wechat",
                            f"amount_mismatch {carol} {unequal}"])
    assert api.get("/api/campaigns/one-yuan").get_json()["total_fen"] == 250  # 6-1-1-1.5
    again = _run(api, "--date", day)
    assert again.exit_code == 1 and "refund_recovered" not in again.output
    assert again.output.count("\n") == first.output.count("\n") - 1
    assert api.get("/api/campaigns/one-yuan").get_json()["total_fen"] == 250
    figures = api.client.get(f"/admin/api/bills/{day}",
                             headers=bearer(seeded["admin"])).get_json()
    assert figures["bill"]["refund_fen"] == 500 and figures["bill"]["count"] == 7
    assert figures["ledger"] == {"count": 6, "paid_fen": 600, "refund_fen": 350}
    page = console_as(api, *ADMIN).get(f"/admin/bills/{day}").get_data(as_text=True)
    assert all(name in page for name in ("未知退款", "退款不在账单中", theirs, "RF-not-at-wechat"))
