"""The stand-in's refunds over HTTP: settling them with signed REFUND.* notifications, refunds
made on the merchant platform, refused requests and a lost reply retried with the same
out_refund_no."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.wechat.conftest import REFUND_NOTIFY_PATH, Receiver
from wechat import JsapiOrder, PayConfig, PayV3Client, WeChatPayError, WeChatUnavailableError
from wechat.simulator import SimulatorServer


def _paid_order(pay_client: PayV3Client, simulator: SimulatorServer, otn: str) -> None:
    pay_client.create_jsapi_order(JsapiOrder(otn, "十元捐", 1000, "oAlice",
                                             datetime.now(UTC) + timedelta(minutes=30)))
    reply = requests.post(f"{simulator.url}/_sim/orders/{otn}/pay", json={"notify": False},
                          timeout=10)
    assert reply.status_code == 200


def _control(simulator: SimulatorServer, path: str, **payload: object) -> requests.Response:
    return requests.post(f"{simulator.url}/_sim/{path}", json=payload, timeout=10)


def _refund(pay_client: PayV3Client, otn: str, out_refund_no: str, fen: int = 400) -> str:
    return pay_client.create_refund(out_trade_no=otn, out_refund_no=out_refund_no,
                                    reason="多捐了", refund_fen=fen, total_fen=1000).status


def test_settled_refunds_are_notified_signed_and_decryptable(
    pay_client: PayV3Client, simulator: SimulatorServer, receiver: Receiver
) -> None:
    _paid_order(pay_client, simulator, "WF-srf-1")
    assert _refund(pay_client, "WF-srf-1", "RF-s1") == "PROCESSING"
    settled = _control(simulator, "refunds/RF-s1/complete", status="SUCCESS", repeat=2)
    assert settled.json()["deliveries"] == [{"status": 204}, {"status": 204}]
    copies = [pay_client.parse_notification(r.headers, r.body) for r in receiver.received]
    assert {r.path for r in receiver.received} == {REFUND_NOTIFY_PATH}
    assert copies[0].id == copies[1].id and copies[0].event_type == "REFUND.SUCCESS"
    refund = copies[0].refund
    assert refund is not None and (refund.out_refund_no, refund.status, refund.amount_refund,
                                   refund.amount_total) == ("RF-s1", "SUCCESS", 400, 1000)
    assert refund.success_time is not None
    assert pay_client.query_order("WF-srf-1").trade_state == "REFUND"
    # SUCCESS is final; a resend repeats it unchanged (a late copy).
    assert _control(simulator, "refunds/RF-s1/complete", status="CLOSED").status_code == 409
    again = _control(simulator, "refunds/RF-s1/complete", resend=True, status="CLOSED")
    assert again.json()["status"] == "SUCCESS"


def test_abnormal_then_success_closed_and_lost_notifications(
    pay_client: PayV3Client, simulator: SimulatorServer, receiver: Receiver
) -> None:
    _paid_order(pay_client, simulator, "WF-srf-2")
    _refund(pay_client, "WF-srf-2", "RF-a1")
    assert _control(simulator, "refunds/RF-a1/complete", status="ABNORMAL").status_code == 200
    assert _control(simulator, "refunds/RF-a1/complete", status="SUCCESS",
                    notify=False).json()["deliveries"] == []
    assert pay_client.query_refund("RF-a1").status == "SUCCESS"
    _refund(pay_client, "WF-srf-2", "RF-c1", 600)
    _control(simulator, "refunds/RF-c1/complete", status="CLOSED")
    events = [pay_client.parse_notification(r.headers, r.body).event_type
              for r in receiver.received]
    assert events == ["REFUND.ABNORMAL", "REFUND.CLOSED"]
    # A closed refund gives its amount back to what may be refunded.
    assert _refund(pay_client, "WF-srf-2", "RF-c2", 600) == "PROCESSING"


def test_a_refund_made_on_the_merchant_platform(
    pay_client: PayV3Client, pay_config: PayConfig, simulator: SimulatorServer,
    receiver: Receiver
) -> None:
    _paid_order(pay_client, simulator, "WF-srf-3")
    made = _control(simulator, "orders/WF-srf-3/refund", amount=300,
                    notify_url=pay_config.refund_notify_url).json()
    assert made["out_refund_no"].startswith("MP") and made["status"] == "SUCCESS"
    notified = pay_client.parse_notification(receiver.received[0].headers,
                                             receiver.received[0].body)
    assert notified.refund is not None and notified.refund.amount_refund == 300
    # By default WeChat's notification goes where the order's went; the rest is refunded.
    rest = _control(simulator, "orders/WF-srf-3/refund").json()
    assert receiver.received[1].path == "/wechat/pay/notify"
    assert pay_client.query_refund(rest["out_refund_no"]).amount_refund == 700
    assert _control(simulator, "orders/WF-srf-3/refund", amount=1).status_code == 409
    assert _control(simulator, "orders/WF-nope/refund").status_code == 404


def test_refused_and_lost_refund_requests(
    pay_client: PayV3Client, simulator: SimulatorServer
) -> None:
    _paid_order(pay_client, simulator, "WF-srf-4")
    assert _control(simulator, "refunds/fail-next", code="NOT_ENOUGH").status_code == 200
    with pytest.raises(WeChatPayError) as refused:
        _refund(pay_client, "WF-srf-4", "RF-f1")
    assert (refused.value.code, refused.value.status) == ("NOT_ENOUGH", 403)
    assert _control(simulator, "refunds/fail-next", code="MAYBE").status_code == 400
    _control(simulator, "refunds/fail-next", lose_reply=True)
    with pytest.raises(WeChatUnavailableError):
        _refund(pay_client, "WF-srf-4", "RF-f2")
    # The retry, with the same out_refund_no and fields, finds the refund made.
    assert _refund(pay_client, "WF-srf-4", "RF-f2") == "PROCESSING"
    assert pay_client.query_refund("RF-f2").amount_refund == 400
