"""Signed APIv3 messages from WeChat Pay: checking them, and crafting them for the stand-in."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from wechat.errors import DecryptError, NotificationError
from wechat.keys import certificate_serial
from wechat.pay_crypto import (
    AUTH_SCHEME,
    SIGNTEST_PREFIX,
    decrypt_resource,
    encrypt_resource,
    new_nonce,
    sign_response,
    verify_signature,
)
from wechat.pay_models import (
    Notification,
    PayConfig,
    Refund,
    Transaction,
    refund_from_json,
    required_str,
    transaction_from_json,
)
from wechat.timeutil import to_rfc3339

MAX_CLOCK_SKEW_SECONDS = 300
_SIGNED_HEADERS = ("wechatpay-timestamp", "wechatpay-nonce", "wechatpay-signature")
_SUMMARIES = {
    "TRANSACTION.SUCCESS": "支付成功",
    "REFUND.SUCCESS": "退款成功",
    "REFUND.ABNORMAL": "退款异常",
    "REFUND.CLOSED": "退款关闭",
}


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def check_signed_message(
    public_keys: Mapping[str, RSAPublicKey],
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> None:
    """Verify WeChat Pay's signature headers over the raw `body`; NotificationError if not."""
    lowered = _lower_headers(headers)
    if any(not lowered.get(name) for name in (*_SIGNED_HEADERS, "wechatpay-serial")):
        raise NotificationError("bad_signature", "missing Wechatpay-* header")
    public_key = _key_named(public_keys, lowered["wechatpay-serial"])
    if public_key is None:
        raise NotificationError("unknown_serial", lowered["wechatpay-serial"])
    signature = lowered["wechatpay-signature"]
    if signature.startswith(SIGNTEST_PREFIX):
        raise NotificationError("signtest")
    timestamp = lowered["wechatpay-timestamp"]
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise NotificationError("bad_signature", "Wechatpay-Timestamp is not a number")
    if abs(now.timestamp() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        raise NotificationError("stale", f"timestamp {timestamp}")
    if not verify_signature(public_key, timestamp, lowered["wechatpay-nonce"], body, signature):
        raise NotificationError("bad_signature")


def _key_named(public_keys: Mapping[str, RSAPublicKey], serial: str) -> RSAPublicKey | None:
    """The key `Wechatpay-Serial` names: the public key by its id, a platform certificate by
    its serial, however its case and leading zeros are written."""
    found = public_keys.get(serial)
    if found is None and serial.isascii() and serial.isalnum() and len(serial) <= 64:
        with suppress(ValueError):
            found = public_keys.get(certificate_serial(serial))
    return found


def _load_json_object(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotificationError("malformed", "body is not JSON") from exc
    if not isinstance(data, dict):
        raise NotificationError("malformed", "body is not a JSON object")
    return data


def _decrypt(config: PayConfig, resource: Mapping[str, Any]) -> dict[str, Any]:
    try:
        fields = [required_str(resource, key) for key in ("nonce", "ciphertext")]
    except ValueError as exc:
        raise NotificationError("malformed", str(exc)) from exc
    aad = resource.get("associated_data") or ""
    try:
        plain = decrypt_resource(config.apiv3_key, fields[0], fields[1], str(aad))
    except DecryptError as exc:
        raise NotificationError("decrypt_failed", str(exc)) from exc
    return _load_json_object(plain)


def _check_merchant(config: PayConfig, plain: Mapping[str, Any], with_appid: bool) -> None:
    if plain.get("mchid") != config.mchid:
        raise NotificationError("wrong_merchant", f"mchid {plain.get('mchid')!r}")
    if with_appid and plain.get("appid") != config.appid:
        raise NotificationError("wrong_merchant", f"appid {plain.get('appid')!r}")


def _resource_models(
    config: PayConfig, event_type: str, original_type: str, plain: Mapping[str, Any]
) -> tuple[Transaction | None, Refund | None]:
    # By the event as well as the resource's type: a payment is never dropped as "ignored"
    # because WeChat Pay labelled its resource unexpectedly.
    try:
        if original_type == "transaction" or event_type.startswith("TRANSACTION."):
            _check_merchant(config, plain, with_appid=True)
            return transaction_from_json(plain), None
        if original_type == "refund" or event_type.startswith("REFUND."):
            _check_merchant(config, plain, with_appid=False)
            return None, refund_from_json(plain)
    except ValueError as exc:
        raise NotificationError("malformed", str(exc)) from exc
    return None, None


def parse_notification_message(
    config: PayConfig, headers: Mapping[str, str], body: bytes, now: datetime
) -> Notification:
    """Verify, decrypt and read one notification; raises NotificationError with a verdict."""
    check_signed_message(config.wechatpay_public_keys, headers, body, now)
    try:
        return _read_signed_message(config, body)
    except NotificationError as exc:
        exc.signed = True
        raise


def _read_signed_message(config: PayConfig, body: bytes) -> Notification:
    envelope = _load_json_object(body)
    resource = envelope.get("resource")
    if not isinstance(resource, Mapping):
        raise NotificationError("malformed", "no resource")
    original_type = str(resource.get("original_type", ""))
    plain = _decrypt(config, resource)
    transaction, refund = _resource_models(config, str(envelope.get("event_type", "")),
                                           original_type, plain)
    try:
        return Notification(
            id=required_str(envelope, "id"),
            event_type=required_str(envelope, "event_type"),
            create_time=str(envelope.get("create_time", "")),
            resource_type=str(envelope.get("resource_type", "")),
            transaction=transaction,
            refund=refund,
            original_type=original_type,
            summary=str(envelope.get("summary", "")),
        )
    except ValueError as exc:
        raise NotificationError("malformed", str(exc)) from exc


def signed_headers(
    private_key: RSAPrivateKey, serial: str, body: bytes, now: datetime
) -> dict[str, str]:
    """The Wechatpay-* headers WeChat Pay puts on a response or a notification."""
    timestamp, nonce = str(int(now.timestamp())), new_nonce()
    return {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature": sign_response(private_key, timestamp, nonce, body),
        "Wechatpay-Signature-Type": AUTH_SCHEME,
        "Request-ID": uuid.uuid4().hex.upper(),
    }


def build_notification(
    *,
    event_type: str,
    resource_plain: Mapping[str, Any],
    original_type: str,
    apiv3_key: bytes,
    private_key: RSAPrivateKey,
    serial: str,
    now: datetime,
    notification_id: str | None = None,
) -> tuple[dict[str, str], bytes]:
    """A notification exactly as WeChat Pay would POST it: (headers, raw body)."""
    plain = json.dumps(resource_plain, ensure_ascii=False, separators=(",", ":"))
    resource = encrypt_resource(apiv3_key, plain.encode("utf-8"), original_type)
    envelope = {
        "id": notification_id or str(uuid.uuid4()),
        "create_time": to_rfc3339(now),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": _SUMMARIES.get(event_type, ""),
        "resource": {"original_type": original_type, **resource},
    }
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    headers.update(signed_headers(private_key, serial, body, now))
    return headers, body
