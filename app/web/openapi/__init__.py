"""`GET /api/openapi.json`: the OpenAPI 3.1 description of the JSON APIs, built from the data in
`schemas.py` (shapes) and `paths.py` (operations). tests/openapi/test_spec.py keeps it true: a
route missing from it, or a reply that does not match it, fails the suite."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, jsonify

from app.web.openapi.paths import ADMIN, CONSOLE, OPERATIONS, WECHATPAY, WORKER, Op, Param
from app.web.openapi.schemas import SCHEMAS, Schema

bp = Blueprint("openapi", __name__, url_prefix="/api")

ERRORS = {400: "Bad input (a missing or wrongly typed field, malformed JSON, a wrong method)",
          401: "No token, or a forged, expired or revoked one",
          403: "Outside the caller's scope, or admins only",
          404: "No such thing (or not the caller's)", 409: "Refused in the current state",
          413: "The body is over [app].max_body_bytes", 429: "Too many requests",
          500: "A fault of ours (logged)", 502: "WeChat did not answer, or refused us",
          503: "Busy drawing codes (try again after Retry-After), or no CJK font for a PNG"}
SECURITY_SCHEMES = {
    WORKER: {"type": "http", "scheme": "bearer",
             "description": "A worker's token from POST /api/login"},
    ADMIN: {"type": "http", "scheme": "bearer",
            "description": "An admin's or organizer's token from POST /admin/api/token"},
    CONSOLE: {"type": "apiKey", "in": "cookie", "name": "session",
              "description": "The console's signed session; requests other than GET must "
                             "echo its CSRF token in X-CSRF-Token"},
    WECHATPAY: {"type": "apiKey", "in": "header", "name": "Wechatpay-Signature",
                "description": "WeChat Pay's RSA signature of timestamp, nonce and body, "
                               "with Wechatpay-Timestamp, -Nonce and -Serial"},
}


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(build_spec())


@lru_cache(maxsize=1)
def build_spec() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), op in OPERATIONS.items():
        paths.setdefault(path, {})[method] = _operation(path, method, op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "warmfund", "version": "1",
                 "description": "The mini-program API, the admin API and their downloads, the "
                                "public QR codes and posters, and WeChat Pay's notifications. "
                                "Money is integer fen; times RFC 3339 in +08:00."},
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": SECURITY_SCHEMES,
                       "responses": {str(s): _error(s, "Error") for s in ERRORS}},
    }


def _operation(path: str, method: str, op: Op) -> dict[str, Any]:
    error_shape = "WeChatPayFail" if path.startswith("/wechat/pay/") else "Error"
    replies = {str(status): _reply(status, kind) for status, kind in op.replies.items()}
    for status in op.errors:
        replies[str(status)] = (_error(status, error_shape) if error_shape != "Error"
                                else {"$ref": f"#/components/responses/{status}"})
    operation: dict[str, Any] = {"summary": op.summary, "tags": [op.tag],
                                 "operationId": _operation_id(path, method), "responses": replies}
    if op.params:
        operation["parameters"] = [_parameter(p) for p in op.params]
    if op.body:
        operation["requestBody"] = {"required": True, "content": _content(op.body)}
    if op.security:
        operation["security"] = [{scheme: []} for scheme in op.security]
    return operation | op.extra


def _operation_id(path: str, method: str) -> str:
    """get_api_campaigns_code, post_admin_api_units …: unique, since paths and methods are."""
    words = [w.strip("{}").replace(".", "_").replace("-", "_") for w in path.split("/") if w]
    return "_".join([method, *words])


def _parameter(param: Param) -> dict[str, Any]:
    found: dict[str, Any] = {"name": param.name, "in": param.where, "schema": param.schema,
                             "required": param.where == "path"}
    if param.about:
        found["description"] = param.about
    if param.example is not None:
        found["example"] = param.example
    return found


def _content(kind: str) -> dict[str, Any]:
    if kind == "object":
        return {"application/json": {"schema": {"type": "object"}}}
    if "/" in kind:
        return {kind: {"schema": {"type": "string"}}}
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{kind}"}}}


def _reply(status: int, kind: str) -> dict[str, Any]:
    reply: dict[str, Any] = {"description": "Not modified" if status == 304 else "OK"}
    if kind:
        reply["content"] = _content(kind)
    return reply


def _error(status: int, shape: str) -> Schema:
    return {"description": ERRORS[status],
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{shape}"}}}}
