"""Crafting WeChat Pay notifications for tests, signed with the stand-in's generated key."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from app.services.deps import utc_now
from wechat import build_notification
from wechat.keys import DevCredentials, generate_dev_credentials, load_private_key

_ids = itertools.count(4200000000000000001)


def credentials(app: Any) -> DevCredentials:
    return generate_dev_credentials(app.extensions["warmfund"].settings.instance_dir
                                    / "dev-credentials")


def transaction(creds: DevCredentials, out_trade_no: str, amount: int, openid: str = "o-x",
                transaction_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"appid": creds.appid, "mchid": creds.mchid, "out_trade_no": out_trade_no,
            "transaction_id": transaction_id or str(next(_ids)), "trade_type": "JSAPI",
            "trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "OTHERS",
            "attach": "", "success_time": "2026-11-28T10:00:00+08:00",
            "payer": {"openid": openid},
            "amount": {"total": amount, "payer_total": amount, "currency": "CNY",
                       "payer_currency": "CNY"}, **extra}


def refund(creds: DevCredentials, out_trade_no: str, out_refund_no: str, refund_fen: int,
           total_fen: int, transaction_id: str, status: str = "SUCCESS") -> dict[str, Any]:
    """A REFUND.* notification's decrypted resource, as WeChat Pay documents it."""
    return {"mchid": creds.mchid, "out_trade_no": out_trade_no,
            "transaction_id": transaction_id, "out_refund_no": out_refund_no,
            "refund_id": f"50{abs(hash(out_refund_no)) % 10**27:027d}", "refund_status": status,
            "success_time": "2026-11-28T11:00:00+08:00", "user_received_account": "支付用户零钱",
            "amount": {"total": total_fen, "refund": refund_fen, "payer_total": total_fen,
                       "payer_refund": refund_fen}}


def signed(creds: DevCredentials, plain: dict[str, Any], *, now: datetime | None = None,
           key: Any = None, serial: str | None = None) -> tuple[dict[str, str], bytes]:
    refunding = "refund_status" in plain
    return build_notification(
        event_type=f"REFUND.{plain['refund_status']}" if refunding else "TRANSACTION.SUCCESS",
        resource_plain=plain, original_type="refund" if refunding else "transaction",
        apiv3_key=creds.apiv3_key.encode(), serial=serial or creds.wechatpay_public_key_id,
        private_key=key or load_private_key(str(creds.wechatpay_private_key_path)),
        now=now or utc_now())


def forged(creds: DevCredentials, plain: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    return signed(creds, plain, key=rsa.generate_private_key(public_exponent=65537,
                                                             key_size=2048))


def stale(creds: DevCredentials, plain: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    return signed(creds, plain, now=utc_now() - timedelta(minutes=6))


def tampered(creds: DevCredentials, plain: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    headers, body = signed(creds, plain)
    return headers, body.replace(b'"event_type":"TRANSACTION.SUCCESS"',
                                 b'"event_type":"TRANSACTION.SUCCESs"')


def signtest(creds: DevCredentials, plain: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    headers, body = signed(creds, plain)
    headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
    return headers, body


def unknown_serial(creds: DevCredentials, plain: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    return signed(creds, plain, serial="PUB_KEY_ID_0000000000000000000000000000099")


def platform_certificate(folder: Any) -> tuple[Any, str, Any]:
    """A self-signed stand-in for a WeChat Pay platform certificate, made at run time: its file,
    its serial as Wechatpay-Serial names it, and its private key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA")])
    now = utc_now()
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    path = folder / "platform-cert.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path, f"{certificate.serial_number:X}", key
