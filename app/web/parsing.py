"""Reading requests strictly: a wrong type is a 400, never a 500 or a silent default."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request

from app.services.errors import InvalidRequestError, NotFoundError, UnauthorizedError

T = TypeVar("T")


def json_body() -> dict[str, Any]:
    if not request.is_json:
        raise InvalidRequestError("请求须为 JSON（Content-Type: application/json）")
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # the decoder's own limit, some hundreds of levels down
        body = None
    if not isinstance(body, dict):
        raise InvalidRequestError("请求内容不是有效的 JSON 对象")
    if not _encodable(body):
        raise InvalidRequestError("请求内容含有无效的字符，或嵌套过深")
    return body


# No request of ours nests more than a few levels; deeper is no request of ours.
MAX_JSON_DEPTH = 32


def _encodable(body: Any) -> bool:
    """JSON may carry lone surrogates ("\\ud800") or NULs that no database or UTF-8 file can
    store, or nest deeper than any request of ours (walked without recursion)."""
    pending = [(body, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
            if "\x00" in value:
                return False
        elif isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                return False
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
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
