"""The trade bill through PayV3Client and the stand-in, over real HTTP: any day's bill from the
stand-in's own state, gzip, SHA-1 stated with the signed answer, the download signed by us and
not by WeChat Pay, and the control endpoints that stage findings."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import requests

from tests.wechat.test_pay_client import _order, _sim_pay
from wechat import PayV3Client, WeChatPayError
from wechat.bill import BillError, BillReader, BillRow, open_bill
from wechat.simulator import SimulatorServer
from wechat.timeutil import CHINA_TZ


def _today() -> date:
    return datetime.now(UTC).astimezone(CHINA_TZ).date()


def _bill(client: PayV3Client, day: date) -> list[BillRow]:
    found = client.trade_bill(day)
    sink = io.BytesIO()
    client.download_bill(found.download_url, sink)
    assert sink.getvalue()[:2] == b"\x1f\x8b"  # asked for tar_type=GZIP
    sink.seek(0)
    return list(BillReader(open_bill(sink), found.hash_value, found.hash_type).rows())


def _control(simulator: SimulatorServer, path: str, body: dict[str, object]) -> requests.Response:
    return requests.post(f"{simulator.url}/_sim/bill/{path}", json=body, timeout=10)


def test_the_days_bill_lists_its_payments_and_refunds(pay_client: PayV3Client,
                                                      simulator: SimulatorServer) -> None:
    pay_client.create_jsapi_order(_order("WF-bill-01", 1000))
    pay_client.create_jsapi_order(_order("WF-bill-02", 100))
    pay_client.create_jsapi_order(_order("WF-bill-03", 100))  # never paid: not in the bill
    paid = _sim_pay(simulator, "WF-bill-01", notify=False)
    _sim_pay(simulator, "WF-bill-02", notify=False)
    pay_client.create_refund(out_trade_no="WF-bill-01", out_refund_no="RF-bill-01",
                             reason="捐错了", refund_fen=400, total_fen=1000)
    assert requests.post(f"{simulator.url}/_sim/refunds/RF-bill-01/complete", json={},
                         timeout=10).status_code == 200
    rows = _bill(pay_client, _today())
    assert sorted((r.out_trade_no, r.trade_state, r.order_fen, r.refund_fen, r.out_refund_no)
                  for r in rows) == [("WF-bill-01", "REFUND", 0, 400, "RF-bill-01"),
                                     ("WF-bill-01", "SUCCESS", 1000, 0, ""),
                                     ("WF-bill-02", "SUCCESS", 100, 0, "")]
    assert paid["transaction_id"] in {r.transaction_id for r in rows}


def test_a_day_without_trades_has_no_bill(pay_client: PayV3Client) -> None:
    with pytest.raises(WeChatPayError) as refused:
        pay_client.trade_bill(_today() - timedelta(days=3))
    assert (refused.value.code, refused.value.status) == ("NO_STATEMENT_EXIST", 400)


@pytest.mark.parametrize("day", [timedelta(days=1), timedelta(days=-100)])
def test_days_outside_the_three_months_are_refused(pay_client: PayV3Client,
                                                   day: timedelta) -> None:
    with pytest.raises(WeChatPayError) as refused:
        pay_client.trade_bill(_today() + day)
    assert refused.value.code == "PARAM_ERROR"


def test_a_payment_for_an_order_never_made_shows_in_its_days_bill(
        pay_client: PayV3Client, simulator: SimulatorServer) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    taken = _control(simulator, "rows", {"out_trade_no": "WF-stranger-1", "amount": 300,
                                         "time": yesterday.isoformat()})
    assert taken.status_code == 200, taken.text
    rows = _bill(pay_client, yesterday.astimezone(CHINA_TZ).date())
    assert [(r.out_trade_no, r.order_fen, r.transaction_id) for r in rows] == [
        ("WF-stranger-1", 300, taken.json()["transaction_id"])]
    assert pay_client.query_order("WF-stranger-1").trade_state == "SUCCESS"
    assert _control(simulator, "rows", {"out_trade_no": "WF-stranger-1",
                                        "amount": 300}).status_code == 409


@pytest.mark.parametrize("body", [{"out_trade_no": "x", "amount": 1},
                                  {"out_trade_no": "WF-okay-01", "amount": 0},
                                  {"out_trade_no": "WF-okay-01", "amount": 1, "time": "soon"}])
def test_the_control_endpoint_refuses_bad_rows(simulator: SimulatorServer,
                                               body: dict[str, object]) -> None:
    assert _control(simulator, "rows", body).status_code == 400


@pytest.mark.parametrize("fault, reason", [("hash", "hash_mismatch"),
                                           ("summary", "summary_mismatch")])
def test_the_stand_in_can_serve_a_bill_that_must_be_refused(
        pay_client: PayV3Client, simulator: SimulatorServer, fault: str, reason: str) -> None:
    assert _control(simulator, "rows", {"out_trade_no": "WF-faulty-1", "amount": 100}).ok
    assert _control(simulator, "fault", {"fault": fault}).ok
    with pytest.raises(BillError) as refused:
        _bill(pay_client, _today())
    assert refused.value.reason == reason
    assert _control(simulator, "fault", {"fault": None}).ok
    assert len(_bill(pay_client, _today())) == 1


def test_the_download_needs_our_signature_and_its_reply_is_not_signed(
        pay_client: PayV3Client, simulator: SimulatorServer) -> None:
    assert _control(simulator, "rows", {"out_trade_no": "WF-signed-1", "amount": 100}).ok
    found = pay_client.trade_bill(_today())
    assert found.download_url.startswith(simulator.url + "/v3/billdownload/file?token=")
    assert requests.get(found.download_url, timeout=10).status_code == 401
    sink = io.BytesIO()
    pay_client.download_bill(found.download_url, sink)  # the unsigned reply is accepted
    stale = found.download_url.replace("token=", "token=x")
    with pytest.raises(WeChatPayError):
        pay_client.download_bill(stale, io.BytesIO())
