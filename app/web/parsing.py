"""Reading requests strictly: a wrong type is a 400, never a 500 or a silent default."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request

from app.services.errors import InvalidRequestError, NotFoundError, UnauthorizedError

T = TypeVar("T")


def json_body() -> dict[str, Any]:
    if not request.is_json:
        raise InvalidRequestError("请求须为 JSON（Content-Type: application/json）")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidRequestError("请求内容不是有效的 JSON 对象")
    if not _encodable(body):
        raise InvalidRequestError("请求内容含有无效的字符")
    return body


def _encodable(value: Any) -> bool:
    """JSON may carry lone surrogates ("\\ud800") that no database or UTF-8 file can store."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return "\x00" not in value
    if isinstance(value, dict):
        return all(_encodable(k) and _encodable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_encodable(v) for v in value)
    return True


def field(body: dict[str, Any], name: str, kind: type[T], default: Any = ...,
          label: str | None = None) -> T:
    """body[name] checked against `kind`; missing -> default, or a 400 when required."""
    if name not in body or body[name] is None:
        if default is ...:
            raise InvalidRequestError(f"缺少参数 {label or name}")
        return default  # type: ignore[no-any-return]
    value = body[name]
    wrong_int = kind is int and isinstance(value, bool)
    if not isinstance(value, kind) or wrong_int:
        raise InvalidRequestError(f"参数 {label or name} 类型错误")
    return value


def query_arg(name: str, default: str | None = None, max_length: int = 200) -> str | None:
    value = request.args.get(name, default)
    if value is not None and len(value) > max_length:
        raise InvalidRequestError(f"参数 {name} 过长")
    if value is not None and "\x00" in value:  # no database can compare text with a NUL
        raise InvalidRequestError(f"参数 {name} 含有无效的字符")
    return value


def refuse_impossible_path_values(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A code or order number in a path that holds a NUL names nothing there can be: 404, as
    for any unknown one (PostgreSQL would refuse even to compare it)."""
    if values and any(isinstance(v, str) and "\x00" in v for v in values.values()):
        raise NotFoundError("找不到该内容")


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("请先登录")
    return token.strip()


def client_ip() -> str:
    return request.remote_addr or ""
