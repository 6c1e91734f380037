"""WeChat Pay APIv3 primitives: request signatures, response verification, AES-256-GCM."""

from __future__ import annotations

import base64
import binascii
import re
import secrets

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wechat.errors import DecryptError

AUTH_SCHEME = "WECHATPAY2-SHA256-RSA2048"
SIGNTEST_PREFIX = "WECHATPAY/SIGNTEST/"
AEAD_ALGORITHM = "AEAD_AES_256_GCM"
_GCM_TAG_BYTES = 16
_AUTH_PARAM = re.compile(r'(\w+)="([^"]*)"')


def new_nonce() -> str:
    return secrets.token_hex(16).upper()


def _as_bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8")


def sign_message(private_key: RSAPrivateKey, message: str | bytes) -> str:
    """SHA256withRSA (PKCS#1 v1.5) over `message`, base64."""
    signature = private_key.sign(_as_bytes(message), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify_message(public_key: RSAPublicKey, message: str | bytes, signature_b64: str) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public_key.verify(signature, _as_bytes(message), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def request_message(
    method: str, canonical_url: str, timestamp: int | str, nonce: str, body: str | bytes
) -> bytes:
    """The five-line string a merchant signs: each line, the empty body included, ends in \\n."""
    head = f"{method.upper()}\n{canonical_url}\n{timestamp}\n{nonce}\n".encode()
    return head + _as_bytes(body) + b"\n"


def response_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    """The three-line string WeChat Pay signs; `body` is the raw bytes as received."""
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def build_authorization(
    method: str,
    canonical_url: str,
    body: str | bytes,
    *,
    mchid: str,
    serial_no: str,
    private_key: RSAPrivateKey,
    timestamp: int | str,
    nonce: str,
) -> str:
    """The `Authorization` header value of one APIv3 request."""
    signature = sign_message(
        private_key, request_message(method, canonical_url, timestamp, nonce, body)
    )
    return (
        f'{AUTH_SCHEME} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial_no}"'
    )


def parse_authorization(header: str) -> dict[str, str] | None:
    """Split an `Authorization` header into its parameters; None if it is not APIv3's."""
    scheme, _, params = header.strip().partition(" ")
    if scheme != AUTH_SCHEME:
        return None
    parsed = dict(_AUTH_PARAM.findall(params))
    wanted = {"mchid", "nonce_str", "signature", "timestamp", "serial_no"}
    return parsed if wanted <= parsed.keys() else None


def verify_signature(
    public_key: RSAPublicKey, timestamp: str, nonce: str, body: bytes, signature_b64: str
) -> bool:
    """Check a response's or notification's Wechatpay-Signature over the raw body."""
    if signature_b64.startswith(SIGNTEST_PREFIX):
        return False
    return verify_message(public_key, response_message(timestamp, nonce, body), signature_b64)


def sign_response(private_key: RSAPrivateKey, timestamp: str, nonce: str, body: bytes) -> str:
    """What WeChat Pay does to its own responses; used by the stand-in and tests."""
    return sign_message(private_key, response_message(timestamp, nonce, body))


def pay_sign(
    private_key: RSAPrivateKey, appid: str, timestamp: str, nonce: str, package: str
) -> str:
    """The `paySign` of wx.requestPayment: appId, timeStamp, nonceStr, package, one per line."""
    return sign_message(private_key, f"{appid}\n{timestamp}\n{nonce}\n{package}\n")


def _aead(apiv3_key: bytes, nonce: str) -> tuple[AESGCM, bytes]:
    # WeChat documents a 32-byte key and a 12-byte nonce; anything else is refused
    # rather than quietly becoming AES-128 as some SDK tests allow.
    if len(apiv3_key) != 32:
        raise DecryptError("the APIv3 key must be exactly 32 bytes")
    nonce_bytes = nonce.encode("utf-8")
    if len(nonce_bytes) != 12:
        raise DecryptError("the resource nonce must be 12 bytes")
    return AESGCM(apiv3_key), nonce_bytes


def decrypt_resource(
    apiv3_key: bytes, nonce: str, ciphertext_b64: str, associated_data: str
) -> bytes:
    """Decrypt an AEAD_AES_256_GCM resource; raises DecryptError on any failure."""
    aead, nonce_bytes = _aead(apiv3_key, nonce)
    try:
        sealed = base64.b64decode(ciphertext_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptError("ciphertext is not base64") from exc
    if len(sealed) < _GCM_TAG_BYTES:
        raise DecryptError("ciphertext shorter than the GCM tag")
    try:
        return aead.decrypt(nonce_bytes, sealed, associated_data.encode("utf-8"))
    except InvalidTag as exc:
        raise DecryptError("authentication tag mismatch") from exc


def encrypt_resource(
    apiv3_key: bytes, plaintext: bytes, associated_data: str, nonce: str | None = None
) -> dict[str, str]:
    """Encrypt like WeChat Pay; returns the `resource` fields minus `original_type`."""
    nonce = nonce if nonce is not None else secrets.token_urlsafe(9)
    aead, nonce_bytes = _aead(apiv3_key, nonce)
    sealed = aead.encrypt(nonce_bytes, plaintext, associated_data.encode("utf-8"))
    return {
        "algorithm": AEAD_ALGORITHM,
        "ciphertext": base64.b64encode(sealed).decode("ascii"),
        "associated_data": associated_data,
        "nonce": nonce,
    }
