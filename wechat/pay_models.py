"""Values exchanged with WeChat Pay APIv3, and their parsing from WeChat's JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from wechat.keys import DevCredentials, load_private_key, load_public_key
from wechat.timeutil import parse_rfc3339

PUBLIC_KEY_ID_PREFIX = "PUB_KEY_ID_"


@dataclass(frozen=True)
class PayConfig:
    appid: str
    mchid: str
    api_base: str
    notify_url: str
    refund_notify_url: str
    apiv3_key: bytes
    merchant_private_key: RSAPrivateKey
    merchant_serial_no: str
    wechatpay_public_keys: Mapping[str, RSAPublicKey]
    timeout_seconds: float = 5.0

    def __post_init__(self) -> None:
        if len(self.apiv3_key) != 32:
            raise ValueError("apiv3_key must be exactly 32 bytes")
        if not self.wechatpay_public_keys:
            raise ValueError("at least one WeChat Pay public key is required")

    @property
    def wechatpay_serial(self) -> str:
        """The id sent as `Wechatpay-Serial`: the public-key id when one is configured."""
        for serial in self.wechatpay_public_keys:
            if serial.startswith(PUBLIC_KEY_ID_PREFIX):
                return serial
        return next(iter(self.wechatpay_public_keys))


def dev_pay_config(
    creds: DevCredentials, *, api_base: str, notify_url: str, refund_notify_url: str
) -> PayConfig:
    """A PayConfig for the development credentials, talking to the stand-in at `api_base`."""
    return PayConfig(
        appid=creds.appid,
        mchid=creds.mchid,
        api_base=api_base,
        notify_url=notify_url,
        refund_notify_url=refund_notify_url,
        apiv3_key=creds.apiv3_key.encode("ascii"),
        merchant_private_key=load_private_key(str(creds.merchant_private_key_path)),
        merchant_serial_no=creds.merchant_serial_no,
        wechatpay_public_keys={
            creds.wechatpay_public_key_id: load_public_key(str(creds.wechatpay_public_key_path))
        },
    )


@dataclass(frozen=True)
class JsapiOrder:
    out_trade_no: str
    description: str
    amount_fen: int
    openid: str
    time_expire: datetime
    attach: str = ""


@dataclass(frozen=True)
class PaymentParams:
    """What wx.requestPayment needs."""

    time_stamp: str
    nonce_str: str
    package: str
    sign_type: str
    pay_sign: str

    def as_dict(self) -> dict[str, str]:
        return {
            "timeStamp": self.time_stamp,
            "nonceStr": self.nonce_str,
            "package": self.package,
            "signType": self.sign_type,
            "paySign": self.pay_sign,
        }


@dataclass(frozen=True)
class Transaction:
    appid: str
    mchid: str
    out_trade_no: str
    transaction_id: str | None
    trade_state: str
    amount_total: int | None
    payer_openid: str | None
    success_time: datetime | None
    attach: str


@dataclass(frozen=True)
class Refund:
    out_refund_no: str
    refund_id: str | None
    out_trade_no: str
    transaction_id: str | None
    status: str
    amount_refund: int
    amount_total: int
    success_time: datetime | None


@dataclass(frozen=True)
class Notification:
    id: str
    event_type: str
    create_time: str
    resource_type: str
    transaction: Transaction | None
    refund: Refund | None
    original_type: str = ""
    summary: str = ""


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ValueError(f"{key} is not an object")
    return value


def required_str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"missing or invalid {key}")
    return value


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"invalid {key}")
    return value


def _optional_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"invalid {key}")
    return value


def _required_int(data: Mapping[str, Any], key: str) -> int:
    value = _optional_int(data, key)
    if value is None:
        raise ValueError(f"missing {key}")
    return value


def _optional_time(data: Mapping[str, Any], key: str) -> datetime | None:
    text = _optional_str(data, key)
    return parse_rfc3339(text) if text is not None else None


def transaction_from_json(data: Mapping[str, Any]) -> Transaction:
    """A Transaction from a query reply or decrypted notification; ValueError if unusable."""
    return Transaction(
        appid=required_str(data, "appid"),
        mchid=required_str(data, "mchid"),
        out_trade_no=required_str(data, "out_trade_no"),
        transaction_id=_optional_str(data, "transaction_id"),
        trade_state=required_str(data, "trade_state"),
        amount_total=_optional_int(_mapping(data, "amount"), "total"),
        payer_openid=_optional_str(_mapping(data, "payer"), "openid"),
        success_time=_optional_time(data, "success_time"),
        attach=_optional_str(data, "attach") or "",
    )


def refund_from_json(data: Mapping[str, Any]) -> Refund:
    """Build a Refund from a refund reply (`status`) or notification (`refund_status`)."""
    amount = _mapping(data, "amount")
    status = data.get("status") or data.get("refund_status")
    return Refund(
        out_refund_no=required_str(data, "out_refund_no"),
        refund_id=_optional_str(data, "refund_id"),
        out_trade_no=required_str(data, "out_trade_no"),
        transaction_id=_optional_str(data, "transaction_id"),
        status=required_str({"status": status}, "status"),
        amount_refund=_required_int(amount, "refund"),
        amount_total=_required_int(amount, "total"),
        success_time=_optional_time(data, "success_time"),
    )
