"""Key loading and development credentials."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from tests.wechat.conftest import FIXTURES
from wechat import generate_dev_credentials, load_private_key, load_public_key
from wechat.keys import public_key_pem


def test_generate_dev_credentials_is_idempotent_and_private(tmp_path: Path) -> None:
    first = generate_dev_credentials(tmp_path / "dev")
    second = generate_dev_credentials(tmp_path / "dev")
    assert first == second
    assert first.mchid == "1900000001"
    assert re.fullmatch(r"wx[0-9a-f]{16}", first.appid)
    assert re.fullmatch(r"[0-9A-Za-z]{32}", first.apiv3_key)
    assert re.fullmatch(r"[0-9A-F]{40}", first.merchant_serial_no)
    assert re.fullmatch(r"PUB_KEY_ID_\d{32}", first.wechatpay_public_key_id)
    assert re.fullmatch(r"[0-9a-f]{32}", first.secret)
    for path in (
        first.merchant_private_key_path,
        first.merchant_public_key_path,
        first.wechatpay_private_key_path,
        first.wechatpay_public_key_path,
        first.credentials_path,
    ):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert json.loads(first.credentials_path.read_text())["apiv3_key"] == first.apiv3_key


def test_dev_key_pairs_match(tmp_path: Path) -> None:
    creds = generate_dev_credentials(tmp_path)
    for private_path, public_path in (
        (creds.merchant_private_key_path, creds.merchant_public_key_path),
        (creds.wechatpay_private_key_path, creds.wechatpay_public_key_path),
    ):
        private = load_private_key(str(private_path))
        assert public_key_pem(private.public_key()) == public_path.read_bytes()
    merchant = load_private_key(str(creds.merchant_private_key_path))
    wechatpay = load_private_key(str(creds.wechatpay_private_key_path))
    assert merchant.private_numbers() != wechatpay.private_numbers()


def test_load_keys_from_text_bytes_path_and_certificate() -> None:
    pkcs1 = (FIXTURES / "keys" / "wechatpy_apiclient_key.pem").read_text()
    assert load_private_key(pkcs1).key_size == 2048
    assert load_private_key(pkcs1.encode()).key_size == 2048
    from_cert = load_public_key(
        str(FIXTURES / "keys" / "wechatpay-go_platform_cert_F5765756002FDD77.pem")
    )
    from_pem = load_public_key((FIXTURES / "keys" / "wechatpay-go_public_key.pem").read_bytes())
    assert from_cert.public_numbers() == from_pem.public_numbers()


def test_garbage_is_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ValueError):
        load_private_key(str(garbage))
