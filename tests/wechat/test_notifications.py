"""parse_notification: every verdict, and the stand-in's real deliveries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.wechat.conftest import NOTIFY_PATH, REFUND_NOTIFY_PATH, Receiver
from wechat import (
    DevCredentials,
    JsapiOrder,
    NotificationError,
    PayConfig,
    PayV3Client,
    build_notification,
    load_private_key,
)
from wechat.simulator import SimulatorServer

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def _transaction(config: PayConfig, **changes: Any) -> dict[str, Any]:
    plain = {
        "appid": config.appid,
        "mchid": config.mchid,
        "out_trade_no": "WF-notify-01",
        "transaction_id": "4200000000000000000000000001",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "attach": "",
        "success_time": "2024-06-01T20:00:00+08:00",
        "payer": {"openid": "oAlice"},
        "amount": {"total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY"},
    }
    plain.update(changes)
    return plain


def _signed(
    config: PayConfig, creds: DevCredentials, *, plain: dict[str, Any] | None = None, **options: Any
) -> tuple[dict[str, str], bytes]:
    arguments: dict[str, Any] = {
        "event_type": "TRANSACTION.SUCCESS",
        "resource_plain": plain if plain is not None else _transaction(config),
        "original_type": "transaction",
        "apiv3_key": config.apiv3_key,
        "private_key": load_private_key(str(creds.wechatpay_private_key_path)),
        "serial": creds.wechatpay_public_key_id,
        "now": NOW,
    }
    arguments.update(options)
    return build_notification(**arguments)


def _verdict(client: PayV3Client, headers: dict[str, str], body: bytes, now: datetime = NOW) -> str:
    with pytest.raises(NotificationError) as refused:
        client.parse_notification(headers, body, now)
    return refused.value.verdict


def test_genuine_notification_is_read(
    pay_client: PayV3Client, pay_config: PayConfig, dev_creds: DevCredentials
) -> None:
    headers, body = _signed(pay_config, dev_creds, notification_id="EV-1")
    lowered = {name.lower(): value for name, value in headers.items()}
    note = pay_client.parse_notification(lowered, body, NOW + timedelta(seconds=299))
    assert (note.id, note.event_type, note.resource_type) == (
        "EV-1",
        "TRANSACTION.SUCCESS",
        "encrypt-resource",
    )
    assert note.refund is None and note.transaction is not None
    assert note.transaction.amount_total == 100
    assert note.transaction.transaction_id == "4200000000000000000000000001"
    assert note.transaction.success_time == datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    assert headers["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"


def test_forged_with_another_key(
    pay_client: PayV3Client,
    pay_config: PayConfig,
    dev_creds: DevCredentials,
    other_creds: DevCredentials,
) -> None:
    forger = load_private_key(str(other_creds.wechatpay_private_key_path))
    headers, body = _signed(pay_config, dev_creds, private_key=forger)
    assert _verdict(pay_client, headers, body) == "bad_signature"


def test_tampered_body_byte(
    pay_client: PayV3Client, pay_config: PayConfig, dev_creds: DevCredentials
) -> None:
    headers, body = _signed(pay_config, dev_creds)
    tampered = body.replace(b'"summary":"', b'"summary": "', 1)
    assert tampered != body and json.loads(tampered) == json.loads(body)
    assert _verdict(pay_client, headers, tampered) == "bad_signature"


@pytest.mark.parametrize("offset", [301, -301, 3600])
def test_stale(
    pay_client: PayV3Client, pay_config: PayConfig, dev_creds: DevCredentials, offset: int
) -> None:
    headers, body = _signed(pay_config, dev_creds)
    assert _verdict(pay_client, headers, body, NOW + timedelta(seconds=offset)) == "stale"


def test_signtest_probe(
    pay_client: PayV3Client, pay_config: PayConfig, dev_creds: DevCredentials
) -> None:
    headers, body = _signed(pay_config, dev_creds)
    headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
    assert _verdict(pay_client, headers, body) == "signtest"


def test_unknown_serial(
    pay_client: PayV3Client, pay_config: PayConfig, dev_creds: DevCredentials
) -> None:
    headers, body = _signed(pay_config, dev_creds, serial="PUB_KEY_ID_0114232134912410000000000000")
    assert _verdict(pay_client, headers, body) == "unknown_serial"


@pytest.mark.parametrize("field", ["mchid", "appid"])
def test_wrong_merchant(
    pay_client: PayV3Client, pay_config: PayConfig, dev_creds: DevCredentials, field: str
) -> None:
    plain = _transaction(pay_config, **{field: "someone-else"})
    headers, body = _signed(pay_config, dev_creds, plain=plain)
    assert _verdict(pay_client, headers, body) == "wrong_merchant"


def test_decrypt_failed_with_another_apiv3_key(
    pay_client: PayV3Client, pay_config: PayConfig, dev_creds: DevCredentials
) -> None:
    headers, body = _signed(pay_config, dev_creds, apiv3_key=b"k" * 32)
    assert _verdict(pay_client, headers, body) == "decrypt_failed"


@pytest.mark.parametrize(
    "missing", ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"]
)
def test_missing_header(
    pay_client: PayV3Client, pay_config: PayConfig, dev_creds: DevCredentials, missing: str
) -> None:
    headers, body = _signed(pay_config, dev_creds)
    del headers[missing]
    assert _verdict(pay_client, headers, body) == "bad_signature"  # unsigned: answered 401


def test_signed_but_malformed_json_and_missing_fields(
    pay_client: PayV3Client, pay_config: PayConfig, dev_creds: DevCredentials
) -> None:
    from wechat.pay_notify import signed_headers

    key = load_private_key(str(dev_creds.wechatpay_private_key_path))
    for body in (b"{not json", b"[]", b'{"id":"x","event_type":"TRANSACTION.SUCCESS"}'):
        headers = signed_headers(key, dev_creds.wechatpay_public_key_id, body, NOW)
        assert _verdict(pay_client, headers, body) == "malformed"
    plain = _transaction(pay_config)
    del plain["out_trade_no"]
    headers, body = _signed(pay_config, dev_creds, plain=plain)
    assert _verdict(pay_client, headers, body) == "malformed"


def test_refusals_say_whether_wechat_pay_signed_them(
    pay_client: PayV3Client, pay_config: PayConfig, dev_creds: DevCredentials
) -> None:
    def signed_flag(headers: dict[str, str], body: bytes, now: datetime = NOW) -> bool:
        with pytest.raises(NotificationError) as refused:
            pay_client.parse_notification(headers, body, now)
        return refused.value.signed

    headers, body = _signed(pay_config, dev_creds)
    assert signed_flag(headers, body, NOW + timedelta(minutes=6)) is False  # stale
    assert signed_flag({**headers, "Wechatpay-Signature": "AAAA"}, body) is False
    assert signed_flag({k: v for k, v in headers.items() if k != "Wechatpay-Nonce"}, body) is False
    # Past the signature, what we refuse is WeChat Pay's own: a foreign merchant, another key.
    foreign = _transaction(pay_config, mchid="someone-else")
    assert signed_flag(*_signed(pay_config, dev_creds, plain=foreign)) is True
    assert signed_flag(*_signed(pay_config, dev_creds, apiv3_key=b"k" * 32)) is True


def test_optional_fields_may_be_missing(
    pay_client: PayV3Client, pay_config: PayConfig, dev_creds: DevCredentials
) -> None:
    plain = {
        k: v
        for k, v in _transaction(pay_config).items()
        if k not in ("payer", "success_time", "attach")
    }
    headers, body = _signed(pay_config, dev_creds, plain=plain)
    transaction = pay_client.parse_notification(headers, body, NOW).transaction
    assert transaction is not None
    assert (transaction.payer_openid, transaction.success_time, transaction.attach) == (
        None,
        None,
        "",
    )


def test_refund_notification(
    pay_client: PayV3Client, pay_config: PayConfig, dev_creds: DevCredentials
) -> None:
    plain = {
        "mchid": pay_config.mchid,
        "out_trade_no": "WF-1",
        "transaction_id": "4200000000000000000000000001",
        "out_refund_no": "RF-1",
        "refund_id": "50000000000000000000000000001",
        "refund_status": "SUCCESS",
        "success_time": "2024-06-01T20:00:00+08:00",
        "amount": {"total": 100, "refund": 100, "payer_total": 100, "payer_refund": 100},
    }
    headers, body = _signed(
        pay_config, dev_creds, plain=plain, event_type="REFUND.SUCCESS", original_type="refund"
    )
    note = pay_client.parse_notification(headers, body, NOW)
    assert note.transaction is None and note.refund is not None
    assert (note.refund.status, note.refund.amount_refund, note.event_type) == (
        "SUCCESS",
        100,
        "REFUND.SUCCESS",
    )
    headers, body = _signed(
        pay_config,
        dev_creds,
        plain={**plain, "mchid": "1"},
        event_type="REFUND.SUCCESS",
        original_type="refund",
    )
    assert _verdict(pay_client, headers, body) == "wrong_merchant"


def _place_order(client: PayV3Client, out_trade_no: str, amount_fen: int = 100) -> None:
    client.create_jsapi_order(
        JsapiOrder(
            out_trade_no, "一元捐", amount_fen, "oBob", datetime.now(UTC) + timedelta(minutes=30)
        )
    )


def test_stand_in_delivers_verifiable_notifications(
    pay_client: PayV3Client, simulator: SimulatorServer, receiver: Receiver
) -> None:
    _place_order(pay_client, "WF-deliver-1")
    reply = requests.post(
        f"{simulator.url}/_sim/orders/WF-deliver-1/pay",
        json={"repeat": 3, "amount": 90},
        timeout=10,
    ).json()
    assert reply["deliveries"] == [{"status": 204}] * 3
    assert [r.path for r in receiver.received] == [NOTIFY_PATH] * 3
    notes = [pay_client.parse_notification(r.headers, r.body) for r in receiver.received]
    assert {note.id for note in notes} == {notes[0].id}
    transaction = notes[0].transaction
    assert transaction is not None
    assert (transaction.out_trade_no, transaction.trade_state) == ("WF-deliver-1", "SUCCESS")
    assert transaction.amount_total == 90  # the tampered amount travels in the notification
    assert transaction.transaction_id == reply["transaction_id"]
    assert transaction.payer_openid == "oBob"
    state = requests.get(f"{simulator.url}/_sim/state", timeout=10).json()
    assert state["notifications_sent"] == 3 and state["orders"] == {"SUCCESS": 1}


def test_unreachable_notify_url_is_reported(
    pay_config: PayConfig, simulator: SimulatorServer, receiver: Receiver
) -> None:
    from dataclasses import replace

    with PayV3Client(replace(pay_config, notify_url="http://127.0.0.1:9/notify")) as client:
        _place_order(client, "WF-deliver-2")
    reply = requests.post(f"{simulator.url}/_sim/orders/WF-deliver-2/pay", timeout=10).json()
    assert reply["deliveries"] == [{"status": None}]


def test_stand_in_refund_notification(
    pay_client: PayV3Client, simulator: SimulatorServer, receiver: Receiver
) -> None:
    _place_order(pay_client, "WF-refund-9", 300)
    requests.post(
        f"{simulator.url}/_sim/orders/WF-refund-9/pay", json={"notify": False}, timeout=10
    )
    pay_client.create_refund(
        out_trade_no="WF-refund-9", out_refund_no="RF-9", reason="", refund_fen=300, total_fen=300
    )
    reply = requests.post(
        f"{simulator.url}/_sim/refunds/RF-9/complete", json={"status": "SUCCESS"}, timeout=10
    )
    assert reply.json()["deliveries"] == [{"status": 204}]
    [delivered] = receiver.received
    assert delivered.path == REFUND_NOTIFY_PATH
    assert delivered.headers.get("Content-Type") == "application/json"
    note = pay_client.parse_notification(delivered.headers, delivered.body)
    assert (
        note.refund is not None
        and note.refund.status == "SUCCESS"
        and note.refund.amount_refund == 300
    )
    assert pay_client.query_refund("RF-9").status == "SUCCESS"
    assert pay_client.query_order("WF-refund-9").trade_state == "REFUND"
