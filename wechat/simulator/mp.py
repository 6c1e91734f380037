"""Mini-program platform endpoints of the stand-in: code2Session, tokens, mini-program codes."""

from __future__ import annotations

import base64
import re
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from wechat.simulator.identity import derive_openid, wxacode_png
from wechat.simulator.web import errcode_response, json_response, read_json

if TYPE_CHECKING:
    from wechat.simulator.app import SimulatorApp

TOKEN_LIFETIME_SECONDS = 7200
ENV_VERSIONS = frozenset({"release", "trial", "develop"})
_SCENE_CHARS = re.compile(r"[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]*")


def _credentials_error(sim: SimulatorApp, request: Request) -> Response | None:
    if request.args.get("appid") != sim.config.appid:
        return errcode_response(40013, "invalid appid")
    if request.args.get("secret") != sim.config.secret:
        return errcode_response(40125, "invalid appsecret")
    return None


def jscode2session(sim: SimulatorApp, request: Request) -> Response:
    refusal = _credentials_error(sim, request)
    if refusal is not None:
        return refusal
    if request.args.get("grant_type") != "authorization_code":
        return errcode_response(40002, "invalid grant_type")
    code = request.args.get("js_code", "")
    with sim.state.lock:
        sim.state.code2session_calls += 1
        if not code.strip():
            return errcode_response(40029, "invalid code")
        if code in sim.state.used_codes:
            return errcode_response(40163, "code been used")
        sim.state.used_codes.add(code)
    session_key = base64.b64encode(secrets.token_bytes(16)).decode("ascii")
    return json_response(
        {"openid": derive_openid(sim.config.appid, code), "session_key": session_key}
    )


def token(sim: SimulatorApp, request: Request) -> Response:
    refusal = _credentials_error(sim, request)
    if refusal is not None:
        return refusal
    if request.args.get("grant_type") != "client_credential":
        return errcode_response(40002, "invalid grant_type")
    issued = secrets.token_urlsafe(48)
    with sim.state.lock:
        # Like WeChat: issuing a token invalidates the previous one.
        sim.state.access_token = issued
        sim.state.access_token_expires_at = sim.config.clock() + timedelta(
            seconds=TOKEN_LIFETIME_SECONDS
        )
        sim.state.tokens_issued += 1
    return json_response({"access_token": issued, "expires_in": TOKEN_LIFETIME_SECONDS})


def _token_error(sim: SimulatorApp, request: Request) -> Response | None:
    presented = request.args.get("access_token")
    with sim.state.lock:
        if not presented or presented != sim.state.access_token:
            return errcode_response(
                40001, "invalid credential, access_token is invalid or not latest"
            )
        expires_at = sim.state.access_token_expires_at
    if expires_at is not None and sim.config.clock() >= expires_at:
        return errcode_response(42001, "access_token expired")
    return None


def _wxacode_error(payload: dict[str, object]) -> Response | None:
    scene, page = payload.get("scene"), payload.get("page", "")
    if not isinstance(scene, str) or not scene or len(scene) > 32:
        return errcode_response(40169, "invalid length for scene, or the data is not json string")
    if not _SCENE_CHARS.fullmatch(scene):
        return errcode_response(40129, "invalid scene")
    if not isinstance(page, str) or page.startswith("/") or "?" in page:
        return errcode_response(41030, "invalid page")
    if payload.get("env_version", "release") not in ENV_VERSIONS:
        return errcode_response(40097, "invalid args: env_version")
    width = payload.get("width", 430)
    if isinstance(width, bool) or not isinstance(width, int):
        return errcode_response(40097, "invalid args: width")
    return None


def wxacode_unlimited(sim: SimulatorApp, request: Request) -> Response:
    with sim.state.lock:
        sim.state.wxacode_calls += 1
    refusal = _token_error(sim, request)
    if refusal is not None:
        return refusal
    payload = read_json(request)
    if payload is None:
        return errcode_response(47001, "data format error")
    refusal = _wxacode_error(payload)
    if refusal is not None:
        return refusal
    return Response(wxacode_png(str(payload["scene"])), content_type="image/png")
