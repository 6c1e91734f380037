"""Refunds under concurrency (the real race on PostgreSQL): admins pressing 退款 at once make
one refund at WeChat Pay, and a refund notification racing reconcile's query of the same
refund counts it once."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.services.actor import SYSTEM
from app.services.errors import NotRefundableError
from app.services.payments.ledger_check import LedgerCheck
from app.services.payments.payments import ReceivedNotice, handle_notification, record_refund
from app.services.payments.refunds import RefundAsked, request_refund
from models import Donation
from tests import notices
from tests.helpers import Api, at_once, demo_tree
from wechat import WeChatPayError

THREADS = 8


def _paid(api: Api, session: Any) -> tuple[str, int]:
    demo_tree(session)
    order = api.order(api.login("racer"), unit="HC-A1", quantity=3).get_json()
    api.sim_pay(order["out_trade_no"])
    return order["out_trade_no"], order["amount_fen"]


def test_admins_pressing_at_once_make_one_refund(api: Api, sessions: Any, session: Any) -> None:
    otn, _amount = _paid(api, session)
    deps = api.runtime.deps

    def press(_n: int) -> str:
        with sessions() as own:
            try:
                return str(request_refund(own, deps, SYSTEM, RefundAsked(otn, "重复"))["status"])
            except NotRefundableError:
                return "409"

    assert sorted(at_once(THREADS, press)) == ["409"] * (THREADS - 1) + ["refunding"]
    assert deps.pay.query_refund(f"{otn}R1").amount_refund == 300
    with pytest.raises(WeChatPayError):
        deps.pay.query_refund(f"{otn}R2")


def test_notification_racing_reconciles_query_counts_once(
        api: Api, sessions: Any, session: Any) -> None:
    otn, amount = _paid(api, session)
    deps = api.runtime.deps
    request_refund(session, deps, SYSTEM, RefundAsked(otn, "重复", 100))
    out_refund_no = f"{otn}R1"
    reply = api.client.get("/api/campaigns/one-yuan").get_json()
    assert reply["total_fen"] == amount
    requests.post(f"{api.sim_url}/_sim/refunds/{out_refund_no}/complete",
                  json={"status": "SUCCESS", "notify": False}, timeout=10)
    creds = notices.credentials(api.app)
    tid = session.scalar(select(Donation.transaction_id).where(Donation.out_trade_no == otn))
    plain = notices.refund(creds, otn, out_refund_no, 100, amount, tid)

    def race(n: int) -> str:
        with sessions() as own:
            if n % 2:
                headers, body = notices.signed(creds, plain)
                return handle_notification(own, deps, ReceivedNotice("refund", headers, body, ""))
            return record_refund(own, deps.pay.query_refund(out_refund_no), deps.clock())

    verdicts = at_once(THREADS, race)
    assert sorted(verdicts) == ["duplicate"] * (THREADS - 1) + ["refunded"]
    session.rollback()  # a fresh snapshot
    donation = session.scalars(select(Donation).where(Donation.out_trade_no == otn)).one()
    assert (donation.status, donation.refunded_fen) == ("paid", 100)
    assert api.client.get("/api/campaigns/one-yuan").get_json()["total_fen"] == amount - 100
    assert not LedgerCheck.of(session)
