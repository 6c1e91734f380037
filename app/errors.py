"""The one place that turns errors into the contract's JSON shape."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from app.services.errors import DomainError

log = logging.getLogger(__name__)

STATUS = {
    "invalid_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "campaign_closed": 409,
    "unit_inactive": 409,
    "not_refundable": 409,
    "refund_refused": 409,
    "payload_too_large": 413,
    "rate_limited": 429,
    "wechat_unavailable": 502,
}

_HTTP_CODES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "invalid_request", 413: "payload_too_large", 429: "rate_limited"}

_HTTP_MESSAGES = {
    "invalid_request": "请求有误",
    "unauthorized": "请先登录",
    "forbidden": "没有权限",
    "not_found": "找不到该内容",
    "payload_too_large": "请求内容过大",
    "rate_limited": "操作太频繁，请稍后再试",
}


# WeChat Pay reads its own shape from the notification endpoints, even for what Flask refuses.
WECHAT_PAY_PREFIX = "/wechat/pay/"


def wechat_pay_fail(status: int, message: str) -> tuple[Response, int]:
    """The reply WeChat Pay reads from our notification endpoints when we did not take it."""
    return jsonify({"code": "FAIL", "message": message}), status


def _reply(code: str, message: str, status: int) -> tuple[Response, int]:
    """The contract's error shape, or WeChat Pay's under its prefix."""
    if request.path.startswith(WECHAT_PAY_PREFIX):
        return wechat_pay_fail(status, message)
    return jsonify({"error": {"code": code, "message": message}}), status


def error_response(code: str, message: str) -> tuple[Response, int]:
    return _reply(code, message, STATUS.get(code, 400))


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> tuple[Response, int]:
        return error_response(exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Response, int] | HTTPException:
        code = _HTTP_CODES.get(exc.code or 500)
        if code is None:
            if request.path.startswith(WECHAT_PAY_PREFIX):
                return wechat_pay_fail(exc.code or 500, exc.name)
            return exc
        return error_response(code, _HTTP_MESSAGES[code])

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        return _reply("internal_error", "服务器开小差了，请稍后再试", 500)
