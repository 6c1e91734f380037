"""Worker (donor) login through WeChat's code2Session."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Engine, bindparam, text
from sqlalchemy.orm import Session

from app.infra.tokens import issue_token, read_token
from app.services.deps import Deps
from app.services.errors import (
    DomainError,
    InvalidRequestError,
    RateLimitedError,
    UnauthorizedError,
    WeChatUnavailableDomainError,
)
from models.base import UTCDateTime
from models.direct import DirectStatement
from wechat.errors import MiniProgramError, WeChatUnavailableError

PURPOSE = "worker"
log = logging.getLogger(__name__)
# code2Session's errcodes about the code itself: invalid, already used, missing; a blocked user.
_CODE_REFUSED = {40029, 40163, 41008, 40226}
_TOO_FREQUENT = 45011
_LOGIN_UNAVAILABLE = "微信登录暂时不可用，请稍后再试"
# One statement whoever logs in: an upsert, so that two first logins at once (the mini-program's
# launch and its first page) both succeed, where a check then an insert would fail one on
# PostgreSQL. It draws a value from workers' id sequence even when it updates; a gap in the ids
# is the price of one round trip a login (the id is never shown; the sequence lasts).
_SEEN = DirectStatement(text(
    "INSERT INTO workers (openid, unionid, created_at, last_login_at) "
    "VALUES (:openid, :unionid, :now, :now) ON CONFLICT (openid) DO UPDATE SET "
    "last_login_at = excluded.last_login_at, "
    "unionid = COALESCE(workers.unionid, excluded.unionid)",
).bindparams(bindparam("now", type_=UTCDateTime())))


@dataclass(frozen=True)
class Login:
    token: str
    expires_in: int


def login(session: Session, deps: Deps, code: str) -> Login:
    """Exchange a wx.login code for our own token; session_key is never kept or returned."""
    if not code or len(code) > 128:
        raise InvalidRequestError("缺少登录凭证")
    try:
        wx = deps.miniprogram.code_to_session(code)
    except MiniProgramError as exc:
        raise _login_refused(exc) from exc
    except WeChatUnavailableError as exc:
        raise WeChatUnavailableDomainError(_LOGIN_UNAVAILABLE) from exc
    seen = {"openid": wx.openid, "unionid": wx.unionid, "now": deps.clock()}
    # Whole alone, so no transaction around it (and no connection of the session's).
    _SEEN.alone(cast(Engine, session.get_bind()), seen)
    token = issue_token(deps.secret_key, PURPOSE, {"o": wx.openid})
    return Login(token=token, expires_in=deps.token_ttl_seconds)


def _login_refused(exc: MiniProgramError) -> DomainError:
    """A code the worker's mini-program sent is refused as theirs to fix (log in again); a
    rate limit as a rate limit; anything else (our secret, our IP allowlist, WeChat busy) is
    ours, logged, and reported as WeChat unavailable."""
    if exc.errcode in _CODE_REFUSED:
        return UnauthorizedError("微信登录失败，请重新进入小程序")
    if exc.errcode == _TOO_FREQUENT:
        return RateLimitedError("登录太频繁，请稍后再试")
    log.error("code2Session failed: %s", exc)
    return WeChatUnavailableDomainError(_LOGIN_UNAVAILABLE)


def openid_from_token(deps: Deps, token: str) -> str:
    payload = read_token(deps.secret_key, PURPOSE, token, deps.token_ttl_seconds)
    openid = payload.get("o")
    if not isinstance(openid, str) or not openid:
        raise UnauthorizedError("登录凭证无效")
    return openid
