"""Small HTTP helpers shared by the stand-in's handlers."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(dumps(payload), status=status, content_type="application/json; charset=utf-8")


def errcode_response(errcode: int, errmsg: str) -> Response:
    """The mini-program platform answers its errors with HTTP 200 and an errcode."""
    return json_response({"errcode": errcode, "errmsg": errmsg})


def read_json(request: Request, *, allow_empty: bool = False) -> dict[str, Any] | None:
    """The request body as a JSON object, or None when it is not one."""
    raw = request.get_data(cache=True)
    if not raw.strip() and allow_empty:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
