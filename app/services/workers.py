"""Worker (donor) login through WeChat's code2Session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.deps import Deps
from app.services.errors import (
    InvalidRequestError,
    UnauthorizedError,
    WeChatUnavailableDomainError,
)
from app.services.tokens import issue_token, read_token
from models import Worker
from models.database import write_transaction
from wechat.errors import MiniProgramError, WeChatUnavailableError

PURPOSE = "worker"


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
        worker = session.scalar(select(Worker).where(Worker.openid == wx.openid))
        if worker is None:
            session.add(Worker(openid=wx.openid, unionid=wx.unionid, created_at=now,
                               last_login_at=now))
        else:
            worker.last_login_at = now
    token = issue_token(deps.secret_key, PURPOSE, {"o": wx.openid})
    return Login(token=token, expires_in=deps.token_ttl_seconds)


def openid_from_token(deps: Deps, token: str) -> str:
    payload = read_token(deps.secret_key, PURPOSE, token, deps.token_ttl_seconds)
    openid = payload.get("o")
    if not isinstance(openid, str) or not openid:
        raise UnauthorizedError("登录凭证无效")
    return openid
