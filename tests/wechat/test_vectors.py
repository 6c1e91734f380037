"""Our APIv3 primitives reproduce WeChat Pay's published known-answer vectors."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.wechat.conftest import FIXTURES, load_vectors
from wechat import (
    DecryptError,
    NotificationError,
    PayConfig,
    build_authorization,
    decrypt_resource,
    encrypt_resource,
    load_private_key,
    load_public_key,
    pay_sign,
    sign_message,
    verify_message,
    verify_signature,
)
from wechat.keys import generate_private_key
from wechat.pay_crypto import parse_authorization, request_message
from wechat.pay_notify import parse_notification_message


def _by_id(name: str) -> dict[str, dict[str, Any]]:
    return {vector["id"]: vector for vector in load_vectors(name)}


SIGNING = _by_id("v3_request_signing.json")
PAY_SIGN = _by_id("v3_pay_sign.json")
VERIFY = load_vectors("v3_signature_verification.json")
AEAD = load_vectors("v3_aead_aes_256_gcm.json")
NOTIFY = _by_id("v3_notifications_full.json")


def _private(vector: dict[str, Any]) -> RSAPrivateKey:
    return load_private_key(str(FIXTURES / vector["private_key_file"]))


@pytest.mark.parametrize(
    "vector_id",
    [
        "official_doc_jsapi_order_body_signature",
        "official_doc_jsapi_order_body_signature_merchant_variant",
    ],
)
def test_authorization_header_matches_official_example(vector_id: str) -> None:
    vector = SIGNING[vector_id]
    mchid = json.loads(vector["body"])["mchid"]
    header = build_authorization(
        vector["method"],
        vector["canonical_url"],
        vector["body"],
        mchid=mchid,
        serial_no="408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB",
        private_key=_private(vector),
        timestamp=vector["timestamp"],
        nonce=vector["nonce_str"],
    )
    params = parse_authorization(header)
    assert params is not None
    assert params["signature"] == vector["expected_signature"]
    if "authorization_header" in vector:
        assert header == vector["authorization_header"]


def test_get_signing_string_has_empty_body_line() -> None:
    vector = SIGNING["official_doc_get_certificates_layout"]
    message = request_message(
        "GET", "/v3/certificates", vector["timestamp"], vector["nonce_str"], ""
    )
    assert message.decode() == vector["message_to_sign"]
    assert sign_message(_private(vector), message) == vector["computed_by_us"]


def test_wechatpy_primitive_signature() -> None:
    vector = SIGNING["wechatpy_calculate_signature_rsa"]
    message = request_message(
        vector["method"], vector["canonical_url"], vector["timestamp"], vector["nonce_str"], ""
    )
    assert message.decode() == vector["message_to_sign"]
    assert sign_message(_private(vector), message) == vector["expected_signature"]


@pytest.mark.parametrize("case", SIGNING["wechatpay-go_authorization_header_layout"]["cases"])
def test_signing_string_layout_matches_go_sdk(case: dict[str, str]) -> None:
    signed = re.search(r'signature="Sign:(.*)"$', case["expected_authorization"], re.S)
    assert signed is not None
    message = request_message(
        case["method"], case["canonical_url"], case["timestamp"], case["nonce_str"], case["body"]
    )
    assert message.decode() == signed.group(1)


def test_raw_sign_source() -> None:
    vector = SIGNING["wechatpay-go_raw_sign_source"]
    assert sign_message(_private(vector), vector["message_to_sign"]) == vector["expected_signature"]


@pytest.mark.parametrize("vector_id", ["official_jsapi_miniprogram_paySign", "official_app_sign"])
def test_pay_sign(vector_id: str) -> None:
    vector = PAY_SIGN[vector_id]
    signature = pay_sign(
        _private(vector), vector["appId"], vector["timeStamp"], vector["nonceStr"], vector["line4"]
    )
    assert signature == vector["expected_signature"]


@pytest.mark.parametrize("vector", VERIFY, ids=[v["id"] for v in VERIFY])
def test_signature_verification(vector: dict[str, Any]) -> None:
    public_key = load_public_key(str(FIXTURES / vector["public_key_or_cert_file"]))
    if vector["wechatpay_timestamp"] is None:
        result = verify_message(
            public_key, vector["message_to_verify"], vector["wechatpay_signature"]
        )
    else:
        result = verify_signature(
            public_key,
            vector["wechatpay_timestamp"],
            vector["wechatpay_nonce"],
            vector["body"].encode("utf-8"),
            vector["wechatpay_signature"],
        )
    assert result is (vector["expected_result"] == "valid")


def test_signtest_prefix_never_verifies() -> None:
    vector = VERIFY[0]
    public_key = load_public_key(str(FIXTURES / vector["public_key_or_cert_file"]))
    body = vector["body"].encode()
    probe = "WECHATPAY/SIGNTEST/" + vector["wechatpay_signature"]
    assert not verify_signature(
        public_key, vector["wechatpay_timestamp"], vector["wechatpay_nonce"], body, probe
    )


def _decrypt(vector: dict[str, Any]) -> bytes:
    return decrypt_resource(
        vector["apiv3_key"].encode(),
        vector["nonce"],
        vector["ciphertext_b64"],
        vector["associated_data"],
    )


AEAD_32 = [v for v in AEAD if v.get("apiv3_key_len_bytes") == 32 or len(v["apiv3_key"]) == 32]
AEAD_OTHER = [v for v in AEAD if v not in AEAD_32]


@pytest.mark.parametrize("vector", AEAD_32, ids=[v["id"] for v in AEAD_32])
def test_aead_vectors_with_32_byte_keys(vector: dict[str, Any]) -> None:
    if vector["expected_result"] == "decrypts":
        plain = _decrypt(vector).decode("utf-8")
        if vector["expected_plaintext"].startswith("PEM"):
            assert plain.startswith("-----BEGIN CERTIFICATE-----")
        else:
            assert plain == vector["expected_plaintext"]
    else:
        with pytest.raises(DecryptError):
            _decrypt(vector)


@pytest.mark.parametrize("vector", AEAD_OTHER, ids=[v["id"] for v in AEAD_OTHER])
def test_aead_keys_that_are_not_32_bytes_are_refused(vector: dict[str, Any]) -> None:
    # Deliberate: AEAD_AES_256_GCM means a 32-byte key; SDK tests that use 16 bytes are AES-128.
    with pytest.raises(DecryptError, match="32 bytes"):
        _decrypt(vector)


def test_encrypt_known_answer() -> None:
    vector = next(v for v in AEAD if v["id"] == "wechatpay-java_ok")
    sealed = encrypt_resource(
        vector["apiv3_key"].encode(), b"message", vector["associated_data"], nonce=vector["nonce"]
    )
    assert sealed["ciphertext"] == vector["ciphertext_b64"]
    assert sealed["algorithm"] == "AEAD_AES_256_GCM"


def _go_notification_config() -> PayConfig:
    vector = NOTIFY["wechatpay-go_payscore_user_open_service"]
    return PayConfig(
        appid="054aa7d7a2a54ab5898df65bd96f001c",
        mchid="1234567890",
        api_base="http://127.0.0.1:9",
        notify_url="https://example.org/n",
        refund_notify_url="https://example.org/r",
        apiv3_key=b"0" * 32,
        merchant_private_key=generate_private_key(),
        merchant_serial_no="0" * 40,
        wechatpay_public_keys={
            vector["headers"]["Wechatpay-Serial"]: load_public_key(
                str(FIXTURES / vector["platform_cert_file"])
            )
        },
    )


def test_full_notification_signature_checks_out_then_short_key_refused() -> None:
    vector = NOTIFY["wechatpay-go_payscore_user_open_service"]
    now = datetime.fromtimestamp(vector["now_unix_for_freshness_check"], UTC)
    # Signature, serial and freshness pass; only the 16-byte SDK test key cannot be ours.
    with pytest.raises(NotificationError) as refused:
        parse_notification_message(
            _go_notification_config(), vector["headers"], vector["body"].encode(), now
        )
    assert refused.value.verdict == "decrypt_failed"


@pytest.mark.parametrize(
    ("change", "verdict"),
    [
        ({"Wechatpay-Timestamp": "1624523847"}, "bad_signature"),
        ({"Wechatpay-Serial": "F5765756002FDD77"}, "unknown_serial"),
        ({"Wechatpay-Nonce": ""}, "bad_signature"),
    ],
)
def test_full_notification_negatives(change: dict[str, str], verdict: str) -> None:
    vector = NOTIFY["wechatpay-go_payscore_user_open_service"]
    now = datetime.fromtimestamp(vector["now_unix_for_freshness_check"], UTC)
    headers = {**vector["headers"], **change}
    with pytest.raises(NotificationError) as refused:
        parse_notification_message(_go_notification_config(), headers, vector["body"].encode(), now)
    assert refused.value.verdict == verdict


def test_full_notification_is_stale_with_the_real_clock() -> None:
    vector = NOTIFY["wechatpay-go_payscore_user_open_service"]
    with pytest.raises(NotificationError) as refused:
        parse_notification_message(
            _go_notification_config(), vector["headers"], vector["body"].encode(), datetime.now(UTC)
        )
    assert refused.value.verdict == "stale"


def test_full_notification_decrypts_with_its_own_key_as_aes128() -> None:
    # The vector's resource is sound: it opens with its own (16-byte) key using plain AES-GCM,
    # which is exactly what our strict decrypt_resource refuses to do.
    vector = NOTIFY["wechatpay-go_payscore_user_open_service"]
    resource = json.loads(vector["body"])["resource"]
    plain = AESGCM(vector["apiv3_key"].encode()).decrypt(
        resource["nonce"].encode(),
        base64.b64decode(resource["ciphertext"]),
        resource["associated_data"].encode(),
    )
    assert plain.decode() == vector["expected"]["plaintext"]
    with pytest.raises(DecryptError):
        decrypt_resource(
            vector["apiv3_key"].encode(), resource["nonce"], resource["ciphertext"], "payscore"
        )
