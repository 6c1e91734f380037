"""The in-memory fakes behave like the real adapters where services rely on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wechat import (
    JsapiOrder,
    MiniProgramError,
    NotificationError,
    WeChatPayError,
    WeChatUnavailableError,
)
from wechat.fake import FakeMiniProgram, FakePay

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _order(out_trade_no: str = "WF-fake-1") -> JsapiOrder:
    return JsapiOrder(
        out_trade_no, "一元捐", 100, "oFake", datetime.now(UTC) + timedelta(minutes=30)
    )


def test_fake_pay_order_lifecycle() -> None:
    pay = FakePay()
    prepay_id = pay.create_jsapi_order(_order())
    assert pay.payment_params(prepay_id).package == f"prepay_id={prepay_id}"
    assert pay.query_order("WF-fake-1").trade_state == "NOTPAY"
    paid = pay.pay("WF-fake-1", amount=90)
    assert (paid.trade_state, paid.amount_total, paid.payer_openid) == ("SUCCESS", 90, "oFake")
    assert paid.transaction_id and paid.transaction_id.startswith("4200000")
    with pytest.raises(WeChatPayError) as refused:
        pay.close_order("WF-fake-1")
    assert refused.value.code == "ORDERPAID"
    with pytest.raises(WeChatPayError) as unknown:
        pay.query_order("WF-none")
    assert (unknown.value.code, unknown.value.status) == ("ORDER_NOT_EXIST", 404)


def test_fake_pay_fail_next_fires_once() -> None:
    pay = FakePay()
    pay.fail_next = WeChatUnavailableError("down")
    with pytest.raises(WeChatUnavailableError):
        pay.create_jsapi_order(_order())
    assert pay.create_jsapi_order(_order())


def test_fake_pay_plain_notifications() -> None:
    pay = FakePay()
    pay.create_jsapi_order(_order())
    body = pay.notification_body(pay.pay("WF-fake-1"))
    note = pay.parse_notification({}, body)
    assert note.transaction == pay.query_order("WF-fake-1")
    with pytest.raises(NotificationError) as refused:
        pay.parse_notification({"X-Fake-Verdict": "stale"}, body)
    assert refused.value.verdict == "stale"
    with pytest.raises(NotificationError) as malformed:
        pay.parse_notification({}, b"{")
    assert malformed.value.verdict == "malformed"
    other = FakePay(mchid="1999999999")
    with pytest.raises(NotificationError) as wrong:
        other.parse_notification({}, body)
    assert wrong.value.verdict == "wrong_merchant"


def test_fake_pay_refunds() -> None:
    pay = FakePay()
    pay.create_jsapi_order(_order())
    pay.pay("WF-fake-1")
    refund = pay.create_refund(
        out_trade_no="WF-fake-1", out_refund_no="RF-1", reason="", refund_fen=100, total_fen=100
    )
    assert pay.query_refund("RF-1") == refund and refund.status == "PROCESSING"


def test_fake_mini_program() -> None:
    mp = FakeMiniProgram()
    assert mp.code_to_session("alice#1").openid == mp.code_to_session("alice#2").openid
    assert mp.code_to_session("bob#1").openid != mp.code_to_session("alice#3").openid
    with pytest.raises(MiniProgramError) as reused:
        mp.code_to_session("alice#1")
    assert reused.value.errcode == 40163
    assert mp.get_wxacode_unlimited(scene="U1/one-yuan", page="pages/donate/donate").startswith(
        PNG_MAGIC
    )
