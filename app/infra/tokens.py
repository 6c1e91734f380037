"""Our own signed, expiring bearer tokens (never WeChat's session_key)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.services.errors import UnauthorizedError


@lru_cache(maxsize=16)
def _serializer(secret_key: str, purpose: str) -> URLSafeTimedSerializer:
    # Made once per key and purpose: every request of a donor reads a token.
    return URLSafeTimedSerializer(secret_key, salt=purpose)


def issue_token(secret_key: str, purpose: str, payload: dict[str, Any]) -> str:
    return str(_serializer(secret_key, purpose).dumps(payload))


def read_token(secret_key: str, purpose: str, token: str, max_age: int) -> dict[str, Any]:
    try:
        payload = _serializer(secret_key, purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise UnauthorizedError("登录已过期，请重新登录") from exc
    except BadSignature as exc:
        raise UnauthorizedError("登录凭证无效") from exc
    if not isinstance(payload, dict):
        raise UnauthorizedError("登录凭证无效")
    return payload
