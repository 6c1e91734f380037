"""Loading RSA keys, and generating a self-consistent set of development credentials."""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

DEV_MCHID = "1900000001"
DEV_APPID = "wx0123456789abcdef"
_PEM_MARKER = b"-----BEGIN"


@dataclass(frozen=True)
class DevCredentials:
    """Development credentials: the merchant's keys and the stand-in's keys, all local."""

    directory: Path
    appid: str
    secret: str
    mchid: str
    apiv3_key: str
    merchant_serial_no: str
    wechatpay_public_key_id: str
    merchant_private_key_path: Path
    merchant_public_key_path: Path
    wechatpay_private_key_path: Path
    wechatpay_public_key_path: Path
    credentials_path: Path


def _pem_bytes(path_or_pem: str | bytes) -> bytes:
    if isinstance(path_or_pem, bytes):
        return (
            path_or_pem
            if _PEM_MARKER in path_or_pem
            else Path(os.fsdecode(path_or_pem)).read_bytes()
        )
    if _PEM_MARKER.decode() in path_or_pem:
        return path_or_pem.encode("ascii")
    return Path(path_or_pem).read_bytes()


def load_private_key(path_or_pem: str | bytes) -> RSAPrivateKey:
    """Load an RSA private key (PKCS#8 or PKCS#1 PEM) from PEM text or a file path."""
    key = serialization.load_pem_private_key(_pem_bytes(path_or_pem), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def load_public_key(path_or_pem: str | bytes) -> RSAPublicKey:
    """Load an RSA public key from a PUBLIC KEY or CERTIFICATE PEM (text or file path)."""
    pem = _pem_bytes(path_or_pem)
    if b"CERTIFICATE" in pem:
        return _rsa_public(x509.load_pem_x509_certificate(pem).public_key())
    return _rsa_public(serialization.load_pem_public_key(pem))


def _rsa_public(key: object) -> RSAPublicKey:
    if not isinstance(key, RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def load_platform_certificate(path_or_pem: str | bytes) -> tuple[str, RSAPublicKey]:
    """(serial, public key) of a WeChat Pay platform certificate. The serial, in upper-case
    hex, is what WeChat Pay names the certificate by in `Wechatpay-Serial`."""
    certificate = x509.load_pem_x509_certificate(_pem_bytes(path_or_pem))
    return certificate_serial(certificate.serial_number), _rsa_public(certificate.public_key())


def certificate_serial(serial: int | str) -> str:
    """A certificate serial as WeChat Pay's headers name it: upper-case hex, written without
    the leading zeros that some tools keep (ValueError if it is not hex)."""
    number = serial if isinstance(serial, int) else int(serial, 16)
    return f"{number:X}"


def generate_private_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_key_pem(key: RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: RSAPublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _write_private_file(path: Path, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.chmod(path, 0o600)


def _ensure_key_pair(private_path: Path, public_path: Path) -> None:
    if private_path.exists():
        key = load_private_key(str(private_path))
    else:
        key = generate_private_key()
        _write_private_file(private_path, private_key_pem(key))
    _write_private_file(public_path, public_key_pem(key.public_key()))


def _new_credential_values() -> dict[str, str]:
    alphabet = string.ascii_letters + string.digits
    return {
        "appid": DEV_APPID,
        "secret": secrets.token_hex(16),
        "mchid": DEV_MCHID,
        "apiv3_key": "".join(secrets.choice(alphabet) for _ in range(32)),
        "merchant_serial_no": secrets.token_hex(20).upper(),
        "wechatpay_public_key_id": "PUB_KEY_ID_"
        + "".join(secrets.choice(string.digits) for _ in range(32)),
    }


def _ensure_values(path: Path) -> dict[str, str]:
    if path.exists():
        values: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return values
    values = _new_credential_values()
    _write_private_file(path, json.dumps(values, indent=2).encode("utf-8"))
    return values


def generate_dev_credentials(directory: Path) -> DevCredentials:
    """Create (or reuse, when present) development keys and credentials in `directory`."""
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    merchant_key, merchant_pub = directory / "merchant_key.pem", directory / "merchant_pub.pem"
    wechatpay_key, wechatpay_pub = directory / "wechatpay_key.pem", directory / "wechatpay_pub.pem"
    _ensure_key_pair(merchant_key, merchant_pub)
    _ensure_key_pair(wechatpay_key, wechatpay_pub)
    values = _ensure_values(directory / "credentials.json")
    return DevCredentials(
        directory=directory,
        appid=values["appid"],
        secret=values["secret"],
        mchid=values["mchid"],
        apiv3_key=values["apiv3_key"],
        merchant_serial_no=values["merchant_serial_no"],
        wechatpay_public_key_id=values["wechatpay_public_key_id"],
        merchant_private_key_path=merchant_key,
        merchant_public_key_path=merchant_pub,
        wechatpay_private_key_path=wechatpay_key,
        wechatpay_public_key_path=wechatpay_pub,
        credentials_path=directory / "credentials.json",
    )
