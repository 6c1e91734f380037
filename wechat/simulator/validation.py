"""Field checks the stand-in applies to APIv3 request bodies, as WeChat Pay documents them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from wechat.timeutil import parse_rfc3339

OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_|*\-]{6,32}")
# WeChat Pay's documented form: yyyy-MM-DDTHH:mm:ss+TIMEZONE, whole seconds, an offset.
TIME_EXPIRE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", re.ASCII)
OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_|*@\-]{1,64}")


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _text(value: Any, max_len: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= max_len


def _notify_url_error(value: Any) -> str | None:
    if not _text(value, 255) or not value.startswith(("https://", "http://")):
        return "notify_url must be an http(s) URL of at most 255 characters"
    if "?" in value:
        return "notify_url must not carry a query string"
    return None


def _amount_error(amount: Any) -> str | None:
    if not isinstance(amount, Mapping) or not _positive_int(amount.get("total")):
        return "amount.total must be a positive integer (fen)"
    if amount.get("currency", "CNY") != "CNY":
        return "amount.currency must be CNY"
    return None


def _optional_fields_error(body: Mapping[str, Any]) -> str | None:
    if "attach" in body and not (isinstance(body["attach"], str) and len(body["attach"]) <= 128):
        return "attach must be at most 128 characters"
    if "time_expire" in body:
        try:
            if not TIME_EXPIRE.fullmatch(str(body["time_expire"])):
                raise ValueError(body["time_expire"])
            parse_rfc3339(str(body["time_expire"]))
        except ValueError:
            return "time_expire must be yyyy-MM-DDTHH:mm:ss+hh:mm (whole seconds, an offset)"
    return None


def jsapi_order_error(body: Mapping[str, Any]) -> str | None:
    """Why a JSAPI order body is invalid, or None."""
    out_trade_no = body.get("out_trade_no")
    if not isinstance(out_trade_no, str) or not OUT_TRADE_NO.fullmatch(out_trade_no):
        return "out_trade_no must be 6-32 characters of [0-9A-Za-z_-|*]"
    if not _text(body.get("description"), 127):
        return "description must be 1-127 characters"
    payer = body.get("payer")
    if not isinstance(payer, Mapping) or not _text(payer.get("openid"), 128):
        return "payer.openid is required"
    return (
        _amount_error(body.get("amount"))
        or _notify_url_error(body.get("notify_url"))
        or _optional_fields_error(body)
    )


def refund_error(body: Mapping[str, Any]) -> str | None:
    """Why a refund body is invalid, or None."""
    out_refund_no = body.get("out_refund_no")
    if not isinstance(out_refund_no, str) or not OUT_REFUND_NO.fullmatch(out_refund_no):
        return "out_refund_no must be 1-64 characters of [0-9A-Za-z_-|*@]"
    if not isinstance(body.get("out_trade_no"), str):
        return "out_trade_no is required"
    if "reason" in body and len(str(body["reason"]).encode("utf-8")) > 80:
        return "reason must be at most 80 bytes"
    if "notify_url" in body and _notify_url_error(body["notify_url"]):
        return _notify_url_error(body["notify_url"])
    amount = body.get("amount")
    if not isinstance(amount, Mapping):
        return "amount is required"
    if not (_positive_int(amount.get("refund")) and _positive_int(amount.get("total"))):
        return "amount.refund and amount.total must be positive integers (fen)"
    return None
