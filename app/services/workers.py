"""Worker (donor) login through WeChat's code2Session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from app.services.deps import Deps
from app.services.errors import (
    InvalidRequestError,
    UnauthorizedError,
    WeChatUnavailableDomainError,
)
from app.services.tokens import issue_token, read_token
from models.base import UTCDateTime
from models.database import write_transaction
from wechat.errors import MiniProgramError, WeChatUnavailableError

PURPOSE = "worker"
_SEEN = text(
    "INSERT INTO workers (openid, unionid, created_at, last_login_at) "
    "VALUES (:openid, :unionid, :now, :now) ON CONFLICT (openid) DO UPDATE SET "
    "last_login_at = excluded.last_login_at, "
    "unionid = COALESCE(workers.unionid, excluded.unionid)",
).bindparams(bindparam("now", type_=UTCDateTime()))


@dataclass(frozen=True)
class Login:
    token: str
    expires_in: int


def login(session: Session, deps: Deps, code: str) -> Login:
    """Exchange a wx.login code for our own token; session_key is never kept or returned."""
    if not code or len(code) > 128:
        raise InvalidRequestError("缺少登录凭证 code")
    try:
        wx = deps.miniprogram.code_to_session(code)
    except MiniProgramError as exc:
        raise UnauthorizedError("微信登录失败，请重新进入小程序") from exc
    except WeChatUnavailableError as exc:
        raise WeChatUnavailableDomainError("微信登录暂时不可用，请稍后再试") from exc
    now = deps.clock()
    with write_transaction(session):
        # One statement, so that two first logins at once (the mini-program's launch and its
        # first page) both succeed: a check then an insert would fail one on PostgreSQL.
        session.execute(_SEEN, {"openid": wx.openid, "unionid": wx.unionid, "now": now})
    token = issue_token(deps.secret_key, PURPOSE, {"o": wx.openid})
    return Login(token=token, expires_in=deps.token_ttl_seconds)


def openid_from_token(deps: Deps, token: str) -> str:
    payload = read_token(deps.secret_key, PURPOSE, token, deps.token_ttl_seconds)
    openid = payload.get("o")
    if not isinstance(openid, str) or not openid:
        raise UnauthorizedError("登录凭证无效")
    return openid
