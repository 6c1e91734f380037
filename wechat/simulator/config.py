"""Configuration of the local stand-in of WeChat."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from wechat.keys import DevCredentials, load_private_key, load_public_key
from wechat.timeutil import utc_now


@dataclass(frozen=True)
class SimulatorConfig:
    appid: str
    secret: str
    mchid: str
    apiv3_key: bytes
    merchant_public_key: RSAPublicKey
    merchant_serial_no: str
    wechatpay_private_key: RSAPrivateKey
    wechatpay_public_key_id: str
    clock: Callable[[], datetime] = utc_now


def simulator_config_from_dev_credentials(creds: DevCredentials) -> SimulatorConfig:
    return SimulatorConfig(
        appid=creds.appid,
        secret=creds.secret,
        mchid=creds.mchid,
        apiv3_key=creds.apiv3_key.encode("ascii"),
        merchant_public_key=load_public_key(str(creds.merchant_public_key_path)),
        merchant_serial_no=creds.merchant_serial_no,
        wechatpay_private_key=load_private_key(str(creds.wechatpay_private_key_path)),
        wechatpay_public_key_id=creds.wechatpay_public_key_id,
    )
