"""Refunds end to end: the admin API, WeChat Pay's stand-in over HTTP, the refund
notifications it posts back, reconcile, and the totals at every step."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from app.services.payments.ledger_check import LedgerCheck
from app.services.payments.reconcile import reconcile
from models import Anomaly, Donation, Refund
from tests.admin.helpers import bearer, error_code, seed
from tests.helpers import Api


def _refund(api: Api, token: str, otn: str, **body: Any) -> Any:
    return api.client.post(f"/admin/api/donations/{otn}/refund",
                           json={"reason": "多捐了", **body}, headers=bearer(token))


def _sim(api: Api, path: str, **payload: Any) -> dict[str, Any]:
    reply = requests.post(f"{api.sim_url}/_sim/{path}", json=payload, timeout=10)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def _campaign(api: Api) -> tuple[int, int, int]:
    body = api.get("/api/campaigns/one-yuan").get_json()
    return body["total_fen"], body["donation_count"], body["donor_count"]


def _unit(api: Api, code: str) -> tuple[int, int, int]:
    totals = next(t for t in api.get(f"/api/units/{code}").get_json()["totals"]
                  if t["campaign"] == "one-yuan")
    return totals["total_fen"], totals["donation_count"], totals["donor_count"]


def _donation(sessions: Any, otn: str) -> Donation:
    with sessions() as session:
        found = session.query(Donation).filter_by(out_trade_no=otn).one()
        return found  # type: ignore[no-any-return]


def _no_drift(sessions: Any) -> None:
    with sessions() as session:
        assert not LedgerCheck.of(session)


@pytest.fixture
def seeded(api: Api, session: Any) -> dict[str, str]:
    return seed(api, session)


def test_partial_then_whole_refund(api: Api, sessions: Any, seeded: dict[str, str]) -> None:
    admin, alice = seeded["admin"], seeded["alice"]  # alice: 300 fen at HC-A1
    assert _campaign(api) == (600, 3, 3)
    reply = _refund(api, admin, alice, amount_fen=100)
    assert reply.status_code == 202, reply.get_json()
    first = reply.get_json()
    assert first == {"out_refund_no": f"{alice}R1", "status": "refunding"}
    assert _refund(api, admin, alice).status_code == 409  # one in flight
    assert _donation(sessions, alice).status == "refunding"
    _sim(api, f"refunds/{first['out_refund_no']}/complete", status="SUCCESS", repeat=3)
    donation = _donation(sessions, alice)
    assert (donation.status, donation.refunded_fen) == ("paid", 100)
    assert _campaign(api) == (500, 3, 3) and _unit(api, "HC-A") == (400, 2, 2)
    worker = api.get(f"/api/donations/{alice}", api.login("alice")).get_json()
    assert (worker["status"], worker["refunded_fen"]) == ("paid", 100)
    # The rest, by default; then nothing is left.
    rest = _refund(api, admin, alice).get_json()
    _sim(api, f"refunds/{rest['out_refund_no']}/complete", status="SUCCESS")
    assert _donation(sessions, alice).status == "refunded"
    assert _campaign(api) == (300, 2, 2) and _unit(api, "DX-HC") == (200, 1, 1)
    assert error_code(_refund(api, admin, alice)) == "not_refundable"
    _no_drift(sessions)
    listed = api.get("/admin/api/refunds", admin).get_json()["refunds"]
    assert [(r["amount_fen"], r["status"]) for r in listed] == [(200, "success"),
                                                                 (100, "success")]


def test_closed_and_abnormal_refunds_put_the_donation_back(
        api: Api, sessions: Any, seeded: dict[str, str]) -> None:
    admin, bob = seeded["admin"], seeded["bob"]
    closing = _refund(api, admin, bob).get_json()["out_refund_no"]
    _sim(api, f"refunds/{closing}/complete", status="CLOSED")
    assert _donation(sessions, bob).status == "paid" and _campaign(api) == (600, 3, 3)
    abnormal = _refund(api, admin, bob).get_json()["out_refund_no"]
    _sim(api, f"refunds/{abnormal}/complete", status="ABNORMAL")
    assert _donation(sessions, bob).status == "paid"
    with sessions() as session:
        kinds = [a.kind for a in session.query(Anomaly).order_by(Anomaly.id)]
        assert kinds == ["refund_closed", "refund_abnormal"]
    # The merchant platform sends the abnormal refund again; it succeeds after all.
    _sim(api, f"refunds/{abnormal}/complete", status="SUCCESS")
    _sim(api, f"refunds/{abnormal}/complete", status="SUCCESS", resend=True)
    _sim(api, f"refunds/{closing}/complete", resend=True)  # a late CLOSED copy
    assert _donation(sessions, bob).status == "refunded" and _campaign(api) == (500, 2, 2)
    _no_drift(sessions)


def test_refund_made_on_the_merchant_platform(
        api: Api, sessions: Any, seeded: dict[str, str]) -> None:
    carol = seeded["carol"]  # 200 fen at HC-A
    # Sent to the payment URL (WeChat's default for it): handled, never ignored.
    made = _sim(api, f"orders/{carol}/refund", amount=50)
    assert made["deliveries"] == [{"status": 204}]
    assert _donation(sessions, carol).refunded_fen == 50 and _campaign(api) == (550, 3, 3)
    with sessions() as session:
        row = session.query(Refund).one()
        assert (row.outside, row.out_refund_no, row.status) == (True, made["out_refund_no"],
                                                                "success")
        assert session.query(Anomaly).one().kind == "refunded_outside"
    _no_drift(sessions)


def test_reconcile_settles_refunds_in_flight_and_resends_lost_ones(
        api: Api, sessions: Any, seeded: dict[str, str]) -> None:
    admin, alice, bob = seeded["admin"], seeded["alice"], seeded["bob"]
    _sim(api, "refunds/fail-next", lose_reply=True)
    lost = _refund(api, admin, alice)
    assert lost.status_code == 202  # in flight: WeChat Pay may have it
    quiet = _refund(api, admin, bob).get_json()["out_refund_no"]
    _sim(api, f"refunds/{quiet}/complete", status="SUCCESS", notify=False)
    assert _campaign(api) == (600, 3, 3)
    with sessions() as session:
        report = reconcile(session, api.runtime.deps)
    assert report.failed == [] and report.refunds.checked == 2
    assert report.refunds.settled == 1 and report.refunds.still_processing == 1
    assert _donation(sessions, bob).status == "refunded" and _campaign(api) == (500, 2, 2)
    # The lost one was created at WeChat Pay: it is found there, not made twice.
    assert report.refunds.resent == 0
    assert api.runtime.deps.pay.query_refund(f"{alice}R1").status == "PROCESSING"
    _no_drift(sessions)


def test_wechat_refusal_is_shown_in_chinese_and_changes_nothing(
        api: Api, sessions: Any, seeded: dict[str, str]) -> None:
    admin, bob = seeded["admin"], seeded["bob"]
    _sim(api, "refunds/fail-next", code="NOT_ENOUGH")
    refused = _refund(api, admin, bob)
    assert refused.status_code == 409 and error_code(refused) == "refund_refused"
    assert "余额不足" in refused.get_json()["error"]["message"]
    assert _donation(sessions, bob).status == "paid"
    with sessions() as session:
        assert session.query(Refund).one().status == "closed"
    assert _refund(api, admin, bob).status_code == 202


def test_a_query_that_reports_refund_records_payment_and_refund(
        api: Api, sessions: Any, seeded: dict[str, str]) -> None:
    placed = api.order(api.login("dora"), unit="DX-XF").get_json()["out_trade_no"]
    api.sim_pay(placed, notify=False)
    _sim(api, f"orders/{placed}/refund", notify=False)
    with sessions() as session:
        session.execute(Donation.__table__.update().values(checked_at=None))
        session.commit()
        assert reconcile(session, api.runtime.deps).paid == 1
    donation = _donation(sessions, placed)
    assert (donation.status, donation.refunded_fen) == ("refunded", 100)
    assert _campaign(api) == (600, 3, 3)
    _no_drift(sessions)


@pytest.mark.parametrize("body, status", [
    ({"reason": None}, 400), ({"reason": " "}, 400), ({"reason": "长" * 81}, 400),
    ({"amount_fen": 0}, 400), ({"amount_fen": -5}, 400), ({"amount_fen": 1.5}, 400),
    ({"amount_fen": 301}, 400), ({"amount_fen": "100"}, 400), ({"amount_fen": True}, 400),
])
def test_bad_refund_requests_answer_4xx(api: Api, seeded: dict[str, str], body: dict[str, Any],
                                        status: int) -> None:
    reply = _refund(api, seeded["admin"], seeded["alice"], **body)
    assert reply.status_code == status and error_code(reply) == "invalid_request"


def test_refund_is_for_admins_and_known_donations(api: Api, seeded: dict[str, str]) -> None:
    assert error_code(_refund(api, seeded["organizer"], seeded["alice"])) == "forbidden"
    assert error_code(_refund(api, seeded["admin"], "WF-nope-000000")) == "not_found"
    pending = api.order(api.login("erin"), unit="DX-XF").get_json()["out_trade_no"]
    assert error_code(_refund(api, seeded["admin"], pending)) == "not_refundable"
    assert api.client.post(f"/admin/api/donations/{pending}/refund",
                           json={"reason": "x"}).status_code == 401


def test_refund_of_a_payment_we_never_heard_of_records_both(
        api: Api, sessions: Any, seeded: dict[str, str]) -> None:
    placed = api.order(api.login("fay"), unit="HC-A1", quantity=2).get_json()["out_trade_no"]
    api.sim_pay(placed, notify=False)
    made = _sim(api, f"orders/{placed}/refund", amount=50,
                notify_url=f"{api.runtime.settings.public_url}/wechat/pay/refund-notify")
    assert made["deliveries"] == [{"status": 204}]
    donation = _donation(sessions, placed)
    assert (donation.status, donation.refunded_fen) == ("paid", 50)
    assert _campaign(api) == (750, 4, 4)
    _no_drift(sessions)



def test_console_refund_confirms_amount_and_reason(
        api: Api, sessions: Any, seeded: dict[str, str]) -> None:
    from tests.admin.helpers import ADMIN, ORGANIZER, console_as, form_csrf

    client, alice = console_as(api, *ADMIN), seeded["alice"]
    listed = client.get("/admin/donations")
    assert b'data-testid="refund-link"' in listed.data
    form = client.get(f"/admin/refunds?out_trade_no={alice}")
    assert alice.encode() in form.data
    fields = {"out_trade_no": alice, "amount_yuan": "1.5", "reason": "多捐了一份",
              "csrf_token": form_csrf(form.data)}
    confirm = client.post("/admin/refunds/confirm", data=fields)
    text = confirm.data.decode()
    assert "1.50 元" in text and "多捐了一份" in text and 'data-testid="refund-confirm"' in text
    with sessions() as session:
        assert session.query(Refund).count() == 0  # nothing sent before the confirmation
    done = client.post("/admin/refunds", data={**fields, "amount_yuan": "1.50"},
                       follow_redirects=True)
    assert f"{alice}R1".encode() in done.data and "已提交微信支付" in done.data.decode()
    assert _donation(sessions, alice).status == "refunding"
    too_much = client.post("/admin/refunds/confirm", follow_redirects=True,
                           data={**fields, "amount_yuan": "9"})
    assert "正在处理" in too_much.data.decode()
    audit = client.get("/admin/audit").data.decode()
    assert "发起退款" in audit
    organizer = console_as(api, *ORGANIZER)
    assert organizer.get("/admin/refunds").status_code == 403


def test_exports_reports_and_worker_view_are_net_of_refunds(
        api: Api, sessions: Any, seeded: dict[str, str]) -> None:
    import csv
    import io

    admin, alice = seeded["admin"], seeded["alice"]
    out_refund_no = _refund(api, admin, alice, amount_fen=100,
                            reason="=多捐").get_json()["out_refund_no"]
    refunding = api.get(f"/api/donations/{alice}", api.login("alice")).get_json()
    assert (refunding["status"], refunding["refunded_fen"]) == ("refunding", 0)
    _sim(api, f"refunds/{out_refund_no}/complete", status="SUCCESS")
    text = api.get("/admin/export/donations.csv", admin).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][-3:] == ["已退款(元)", "退款时间", "退款原因"]
    row = next(r for r in rows if alice in r[0])
    assert row[-3] == "1.00" and row[-2].startswith("20") and row[-1] == "'=多捐"
    # The unit report, all time (running totals) and for a period (the ledger), agree.
    for query in ("", "?from=2020-01-01"):
        report = api.get(f"/admin/api/campaigns/one-yuan/totals{query}", admin).get_json()
        unit = next(u for u in report["units"] if u["code"] == "HC-A1")
        assert (unit["total_fen"], unit["donation_count"]) == (200, 1), query
        assert report["campaign"]["total_fen"] == 500, query
