"""Reading requests strictly: a wrong type is a 400, never a 500 or a silent default."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request

from app.services.errors import InvalidRequestError, NotFoundError, UnauthorizedError
from app.services.numbers import whole_number

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


# What a message shown to a worker (or a clerk) calls each field: never its English name.
FIELD_NAMES = {
    "campaign": "募捐项目", "unit": "单位", "quantity": "份数", "anonymous": "匿名选项",
    "message": "留言", "code": "登录凭证", "cursor": "翻页位置", "q": "链接",
    "scene": "小程序码内容",
    "username": "用户名", "password": "密码", "old_password": "原密码",
    "new_password": "新密码", "role": "角色", "active": "启用状态", "name": "名称",
    "amount_fen": "每份金额", "goal_fen": "目标金额", "starts_on": "开始日期",
    "ends_on": "结束日期", "description": "说明", "status": "状态", "resolution": "处理说明",
    "kind": "单位类型", "parent": "上级单位", "headcount": "职工人数", "from": "开始日期",
    "to": "结束日期", "openid": "捐款人标识", "limit": "每页条数", "sort": "排序方式",
    "action": "操作类型", "verdict": "通知结论", "all": "显示范围",
}


def field_name(name: str) -> str:
    return FIELD_NAMES.get(name, f"参数 {name} ")


def field(body: dict[str, Any], name: str, kind: type[T], default: Any = ...) -> T:
    """body[name] checked against `kind`; missing -> default, or a 400 when required."""
    if name not in body or body[name] is None:
        if default is ...:
            raise InvalidRequestError(f"缺少{field_name(name)}")
        return default  # type: ignore[no-any-return]
    value = body[name]
    wrong_int = kind is int and isinstance(value, bool)
    if not isinstance(value, kind) or wrong_int:
        raise InvalidRequestError(f"{field_name(name)}格式不正确")
    return value


def query_arg(name: str, default: str | None = None, max_length: int = 200) -> str | None:
    value = request.args.get(name, default)
    if value is not None and len(value) > max_length:
        raise InvalidRequestError(f"{field_name(name)}过长")
    if value is not None and "\x00" in value:  # no database can compare text with a NUL
        raise InvalidRequestError(f"{field_name(name)}含有无效的字符")
    return value


def form_fen(name: str) -> int | None:
    """A yuan amount typed into a form ("1", "1.5", "10.00") as fen; blank -> None."""
    text = request.form.get(name, "").strip()
    if not text:
        return None
    whole, _, cents = text.partition(".")
    yuan = whole_number(whole, high=10**12)
    fraction = whole_number((cents + "00")[:2]) if len(cents) <= 2 else None
    if yuan is None or fraction is None:
        raise InvalidRequestError(f"金额格式不正确：{text}")
    return yuan * 100 + fraction


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
