"""The stand-in's own rules: authentication, validation, control endpoints, state."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import requests

from wechat import DevCredentials, PayConfig, PayV3Client, build_authorization
from wechat.pay_crypto import new_nonce
from wechat.simulator import SimulatorServer


def _signed_post(
    config: PayConfig, path: str, payload: dict, timestamp: int | None = None
) -> requests.Response:
    body = json.dumps(payload).encode()
    authorization = build_authorization(
        "POST",
        path,
        body,
        mchid=config.mchid,
        serial_no=config.merchant_serial_no,
        private_key=config.merchant_private_key,
        timestamp=timestamp if timestamp is not None else int(datetime.now(UTC).timestamp()),
        nonce=new_nonce(),
    )
    return requests.post(
        config.api_base + path,
        data=body,
        timeout=10,
        headers={"Authorization": authorization, "Content-Type": "application/json"},
    )


def _jsapi_body(config: PayConfig, **changes: object) -> dict:
    body = {
        "appid": config.appid,
        "mchid": config.mchid,
        "description": "一元捐",
        "out_trade_no": "WF-sim-0001",
        "notify_url": config.notify_url,
        "amount": {"total": 100, "currency": "CNY"},
        "payer": {"openid": "oX"},
    }
    body.update(changes)
    return body


def test_unsigned_request_is_refused_and_reply_is_signed(simulator: SimulatorServer) -> None:
    response = requests.post(f"{simulator.url}/v3/pay/transactions/jsapi", json={}, timeout=10)
    assert response.status_code == 401 and response.json()["code"] == "SIGN_ERROR"
    assert response.headers["Wechatpay-Serial"].startswith("PUB_KEY_ID_")
    assert response.headers["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"
    assert response.headers["Request-ID"]


def test_stale_request_timestamp_is_refused(pay_config: PayConfig) -> None:
    old = int((datetime.now(UTC) - timedelta(minutes=6)).timestamp())
    response = _signed_post(pay_config, "/v3/pay/transactions/jsapi", _jsapi_body(pay_config), old)
    assert response.status_code == 401


def test_wrong_wechatpay_serial_header_is_refused(pay_config: PayConfig) -> None:
    body = json.dumps(_jsapi_body(pay_config)).encode()
    authorization = build_authorization(
        "POST",
        "/v3/pay/transactions/jsapi",
        body,
        mchid=pay_config.mchid,
        serial_no=pay_config.merchant_serial_no,
        private_key=pay_config.merchant_private_key,
        timestamp=int(datetime.now(UTC).timestamp()),
        nonce=new_nonce(),
    )
    response = requests.post(
        pay_config.api_base + "/v3/pay/transactions/jsapi",
        data=body,
        timeout=10,
        headers={"Authorization": authorization, "Wechatpay-Serial": "PUB_KEY_ID_0001"},
    )
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_REQUEST")


def test_signature_must_cover_the_exact_body(pay_config: PayConfig) -> None:
    body = json.dumps(_jsapi_body(pay_config)).encode()
    authorization = build_authorization(
        "POST",
        "/v3/pay/transactions/jsapi",
        body,
        mchid=pay_config.mchid,
        serial_no=pay_config.merchant_serial_no,
        private_key=pay_config.merchant_private_key,
        timestamp=int(datetime.now(UTC).timestamp()),
        nonce=new_nonce(),
    )
    response = requests.post(
        pay_config.api_base + "/v3/pay/transactions/jsapi",
        data=body + b" ",
        timeout=10,
        headers={"Authorization": authorization},
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"out_trade_no": "abc"}, "PARAM_ERROR"),
        ({"out_trade_no": "WF#bad#chars"}, "PARAM_ERROR"),
        ({"description": "x" * 128}, "PARAM_ERROR"),
        ({"amount": {"total": 1.5}}, "PARAM_ERROR"),
        ({"amount": {"total": -1}}, "PARAM_ERROR"),
        ({"notify_url": "ftp://example.org/n"}, "PARAM_ERROR"),
        ({"notify_url": "https://example.org/n?x=1"}, "PARAM_ERROR"),
        ({"payer": {}}, "PARAM_ERROR"),
        ({"time_expire": "tomorrow"}, "PARAM_ERROR"),
        ({"time_expire": "2026-12-02T12:00:00.5+08:00"}, "PARAM_ERROR"),
        ({"time_expire": "2026-12-02 12:00:00+08:00"}, "PARAM_ERROR"),
        ({"time_expire": "2026-12-02T12:00:00"}, "PARAM_ERROR"),
        ({"appid": "wx_other"}, "APPID_MCHID_NOT_MATCH"),
    ],
)
def test_order_validation(pay_config: PayConfig, changes: dict, code: str) -> None:
    response = _signed_post(
        pay_config, "/v3/pay/transactions/jsapi", _jsapi_body(pay_config, **changes)
    )
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_valid_order_is_accepted_over_raw_http(pay_config: PayConfig) -> None:
    response = _signed_post(pay_config, "/v3/pay/transactions/jsapi", _jsapi_body(pay_config))
    assert response.status_code == 200 and response.json()["prepay_id"].startswith("wx")


def test_control_pay_rules(
    pay_client: PayV3Client, pay_config: PayConfig, simulator: SimulatorServer
) -> None:
    base = f"{simulator.url}/_sim/orders"
    assert requests.post(f"{base}/WF-none/pay", timeout=10).status_code == 404
    _signed_post(
        pay_config, "/v3/pay/transactions/jsapi", _jsapi_body(pay_config, out_trade_no="WF-ctl-1")
    )
    assert requests.post(f"{base}/WF-ctl-1/pay", json={"amount": 0}, timeout=10).status_code == 400
    assert requests.post(f"{base}/WF-ctl-1/pay", json={"repeat": 0}, timeout=10).status_code == 400
    pay_client.close_order("WF-ctl-1")
    assert (
        requests.post(f"{base}/WF-ctl-1/pay", json={"notify": False}, timeout=10).status_code == 409
    )
    raced = requests.post(f"{base}/WF-ctl-1/pay", json={"notify": False, "force": True}, timeout=10)
    assert raced.status_code == 200
    assert pay_client.query_order("WF-ctl-1").trade_state == "SUCCESS"
    listed = requests.get(f"{simulator.url}/_sim/orders", timeout=10).json()["orders"]
    assert [o["out_trade_no"] for o in listed] == ["WF-ctl-1"]


def test_an_order_past_its_time_expire_cannot_be_paid(
    pay_client: PayV3Client, pay_config: PayConfig, simulator: SimulatorServer
) -> None:
    shanghai = timezone(timedelta(hours=8))
    past = (datetime.now(shanghai) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    _signed_post(pay_config, "/v3/pay/transactions/jsapi",
                 _jsapi_body(pay_config, out_trade_no="WF-ctl-exp", time_expire=past))
    base = f"{simulator.url}/_sim/orders/WF-ctl-exp/pay"
    assert requests.post(base, json={"notify": False}, timeout=10).status_code == 409
    assert pay_client.query_order("WF-ctl-exp").trade_state == "NOTPAY"
    forced = requests.post(base, json={"notify": False, "force": True}, timeout=10)
    assert forced.status_code == 200


def test_paid_order_cannot_be_ordered_again(
    pay_client: PayV3Client, pay_config: PayConfig, simulator: SimulatorServer
) -> None:
    body = _jsapi_body(pay_config, out_trade_no="WF-ctl-2")
    _signed_post(pay_config, "/v3/pay/transactions/jsapi", body)
    requests.post(f"{simulator.url}/_sim/orders/WF-ctl-2/pay", json={"notify": False}, timeout=10)
    again = _signed_post(pay_config, "/v3/pay/transactions/jsapi", body)
    assert (again.status_code, again.json()["code"]) == (400, "ORDERPAID")


def test_refund_rules(
    pay_client: PayV3Client, pay_config: PayConfig, simulator: SimulatorServer
) -> None:
    _signed_post(
        pay_config, "/v3/pay/transactions/jsapi", _jsapi_body(pay_config, out_trade_no="WF-rf-1")
    )
    refund = {
        "out_trade_no": "WF-rf-1",
        "out_refund_no": "RF-a",
        "amount": {"refund": 100, "total": 100, "currency": "CNY"},
    }
    unpaid = _signed_post(pay_config, "/v3/refund/domestic/refunds", refund)
    assert (unpaid.status_code, unpaid.json()["code"]) == (400, "INVALID_REQUEST")
    requests.post(f"{simulator.url}/_sim/orders/WF-rf-1/pay", json={"notify": False}, timeout=10)
    first = _signed_post(pay_config, "/v3/refund/domestic/refunds", refund)
    assert first.status_code == 200
    assert _signed_post(pay_config, "/v3/refund/domestic/refunds", refund).json() == first.json()
    too_much = _signed_post(
        pay_config, "/v3/refund/domestic/refunds", {**refund, "out_refund_no": "RF-b"}
    )
    assert too_much.status_code == 400
    unknown = requests.post(f"{simulator.url}/_sim/refunds/RF-zzz/complete", timeout=10)
    assert unknown.status_code == 404
    bad = requests.post(
        f"{simulator.url}/_sim/refunds/RF-a/complete", json={"status": "MAYBE"}, timeout=10
    )
    assert bad.status_code == 400
    assert requests.get(f"{simulator.url}/_sim/state", timeout=10).json()["refunds"] == {
        "PROCESSING": 1
    }


def test_jscode2session_checks_app_credentials(
    simulator: SimulatorServer, dev_creds: DevCredentials
) -> None:
    url = f"{simulator.url}/sns/jscode2session"
    params = {
        "appid": "wx_nobody",
        "secret": dev_creds.secret,
        "js_code": "a#1",
        "grant_type": "authorization_code",
    }
    assert requests.get(url, params=params, timeout=10).json()["errcode"] == 40013
    params["appid"] = dev_creds.appid
    reply = requests.get(url, params=params, timeout=10).json()
    assert reply["openid"].startswith("o") and reply["session_key"]


def test_unknown_route(simulator: SimulatorServer) -> None:
    assert requests.get(f"{simulator.url}/nowhere", timeout=10).status_code == 404
