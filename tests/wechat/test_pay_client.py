"""PayV3Client against the stand-in, over real HTTP."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from tests.wechat.conftest import Receiver
from wechat import (
    DevCredentials,
    JsapiOrder,
    PayConfig,
    PayV3Client,
    WeChatPayError,
    WeChatUnavailableError,
    load_private_key,
    load_public_key,
    verify_message,
)
from wechat.simulator import SimulatorServer


def _order(out_trade_no: str = "WF20240101ABC", amount_fen: int = 1000) -> JsapiOrder:
    return JsapiOrder(
        out_trade_no=out_trade_no,
        description="十元捐 - 温暖基金",
        amount_fen=amount_fen,
        openid="oAlice000000000000000000000",
        time_expire=datetime.now(UTC) + timedelta(minutes=30),
        attach="one-yuan/U001",
    )


def _sim_pay(simulator: SimulatorServer, out_trade_no: str, **options: object) -> dict:
    response = requests.post(
        f"{simulator.url}/_sim/orders/{out_trade_no}/pay", json=options, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_order_params_pay_query_close(
    pay_client: PayV3Client, simulator: SimulatorServer, dev_creds: DevCredentials
) -> None:
    prepay_id = pay_client.create_jsapi_order(_order())
    assert prepay_id.startswith("wx") and len(prepay_id) == 36

    params = pay_client.payment_params(prepay_id)
    assert params.package == f"prepay_id={prepay_id}"
    assert params.as_dict()["signType"] == "RSA"
    message = f"{dev_creds.appid}\n{params.time_stamp}\n{params.nonce_str}\n{params.package}\n"
    merchant_public = load_public_key(str(dev_creds.merchant_public_key_path))
    assert verify_message(merchant_public, message, params.pay_sign)

    unpaid = pay_client.query_order("WF20240101ABC")
    assert (unpaid.trade_state, unpaid.transaction_id, unpaid.amount_total) == (
        "NOTPAY",
        None,
        1000,
    )

    paid_reply = _sim_pay(simulator, "WF20240101ABC", notify=False)
    assert paid_reply["deliveries"] == []
    paid = pay_client.query_order("WF20240101ABC")
    assert paid.trade_state == "SUCCESS"
    assert paid.transaction_id == paid_reply["transaction_id"]
    assert paid.payer_openid == "oAlice000000000000000000000"
    assert paid.amount_total == 1000
    assert paid.attach == "one-yuan/U001"
    assert paid.success_time is not None and paid.success_time.utcoffset() == timedelta(hours=8)

    with pytest.raises(WeChatPayError) as refused:
        pay_client.close_order("WF20240101ABC")
    assert (refused.value.code, refused.value.status) == ("ORDERPAID", 400)


def test_same_order_twice_gives_same_prepay_id_and_changed_params_are_refused(
    pay_client: PayV3Client,
) -> None:
    order = _order("WF-dup-001")
    assert pay_client.create_jsapi_order(order) == pay_client.create_jsapi_order(order)
    with pytest.raises(WeChatPayError) as refused:
        pay_client.create_jsapi_order(replace(order, amount_fen=2000))
    assert refused.value.code == "INVALID_REQUEST"


def test_close_unpaid_then_query_shows_closed(pay_client: PayV3Client) -> None:
    pay_client.create_jsapi_order(_order("WF|close*01"))
    assert pay_client.close_order("WF|close*01") is None
    assert pay_client.query_order("WF|close*01").trade_state == "CLOSED"


def test_query_unknown_order(pay_client: PayV3Client) -> None:
    with pytest.raises(WeChatPayError) as refused:
        pay_client.query_order("WF-nope-404")
    assert (refused.value.code, refused.value.status) == ("ORDER_NOT_EXIST", 404)


def test_invalid_order_fields_are_param_errors(pay_client: PayV3Client) -> None:
    with pytest.raises(WeChatPayError) as refused:
        pay_client.create_jsapi_order(_order("short"))
    assert refused.value.code == "PARAM_ERROR"
    with pytest.raises(WeChatPayError):
        pay_client.create_jsapi_order(_order("WF-zero-amount", amount_fen=0))


def test_refund_flow(pay_client: PayV3Client, simulator: SimulatorServer) -> None:
    pay_client.create_jsapi_order(_order("WF-refund-01"))
    _sim_pay(simulator, "WF-refund-01", notify=False)
    refund = pay_client.create_refund(
        out_trade_no="WF-refund-01",
        out_refund_no="RF-01",
        reason="捐错了",
        refund_fen=1000,
        total_fen=1000,
    )
    assert (refund.status, refund.amount_refund, refund.amount_total) == ("PROCESSING", 1000, 1000)
    assert refund.refund_id and refund.transaction_id
    assert pay_client.query_refund("RF-01") == refund
    with pytest.raises(WeChatPayError) as refused:
        pay_client.query_refund("RF-unknown")
    assert refused.value.status == 404


def _unavailable(config: PayConfig, call: Callable[[PayV3Client], object]) -> str:
    with PayV3Client(config) as client, pytest.raises(WeChatUnavailableError) as refused:
        call(client)
    return str(refused.value)


def test_wrong_wechatpay_public_key_refuses_replies(
    pay_client: PayV3Client, pay_config: PayConfig, other_creds: DevCredentials
) -> None:
    pay_client.create_jsapi_order(_order("WF-forged-01"))
    forged_view = {
        serial: load_public_key(str(other_creds.wechatpay_public_key_path))
        for serial in pay_config.wechatpay_public_keys
    }
    forged = replace(pay_config, wechatpay_public_keys=forged_view)
    assert "bad_signature" in _unavailable(forged, lambda c: c.query_order("WF-forged-01"))
    assert "bad_signature" in _unavailable(
        forged, lambda c: c.create_jsapi_order(_order("WF-forged-02"))
    )


def _the_key(config: PayConfig) -> RSAPublicKey:
    return next(iter(config.wechatpay_public_keys.values()))


def test_reply_with_unknown_serial_is_refused(pay_config: PayConfig) -> None:
    # Only a platform-certificate serial is configured; replies carry the PUB_KEY_ID.
    only_other = {"5157F09EFDC096DE15EBE81A47057A7232F1B8E1": _the_key(pay_config)}
    config = replace(pay_config, wechatpay_public_keys=only_other)
    assert "unknown_serial" in _unavailable(
        config, lambda c: c.create_jsapi_order(_order("WF-serial-01"))
    )


def test_merchant_signature_checked_by_stand_in(
    pay_config: PayConfig, other_creds: DevCredentials
) -> None:
    impostor = replace(
        pay_config,
        merchant_private_key=load_private_key(str(other_creds.merchant_private_key_path)),
    )
    with PayV3Client(impostor) as client, pytest.raises(WeChatPayError) as refused:
        client.create_jsapi_order(_order("WF-impostor"))
    assert (refused.value.status, refused.value.code) == (401, "SIGN_ERROR")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_unavailable(pay_config: PayConfig) -> None:
    config = replace(pay_config, api_base=f"http://127.0.0.1:{_free_port()}")
    assert "GET /v3/pay/transactions" in _unavailable(config, lambda c: c.query_order("WF-x"))


def test_server_error_and_unsigned_reply_are_unavailable(
    pay_config: PayConfig, receiver: Receiver
) -> None:
    config = replace(pay_config, api_base=receiver.url)
    receiver.status = 503
    assert "503" in _unavailable(config, lambda c: c.query_order("WF-x"))
    # A 200 without any Wechatpay-* signature is not trusted either.
    receiver.status = 200
    assert "missing Wechatpay-* header" in _unavailable(config, lambda c: c.query_order("WF-x"))


def test_timeout_is_unavailable(pay_config: PayConfig, receiver: Receiver) -> None:
    receiver.delay_seconds = 1.0
    slow = replace(pay_config, api_base=receiver.url, timeout_seconds=0.2)
    assert "timed out" in _unavailable(slow, lambda c: c.query_order("WF-x"))


def test_requests_carry_the_protocol_headers(pay_config: PayConfig, receiver: Receiver) -> None:
    receiver.status = 204
    _unavailable(replace(pay_config, api_base=receiver.url), lambda c: c.close_order("WF-h"))
    headers = {k.lower(): v for k, v in receiver.received[-1].headers.items()}
    assert headers["authorization"].startswith('WECHATPAY2-SHA256-RSA2048 mchid="1900000001",')
    assert headers["wechatpay-serial"].startswith("PUB_KEY_ID_")
    assert headers["accept"] == "application/json"
    assert headers["user-agent"].startswith("warmfund")
    assert receiver.received[-1].body == b'{"mchid":"1900000001"}'
