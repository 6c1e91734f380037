"""Admin and organizer accounts: creation, login, lockout and login tokens."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.orm import Session

from app.infra.passwords import check_password, hash_password, needs_rehash
from app.infra.tokens import issue_token, read_token
from app.services.accounts.audit import record_action
from app.services.actor import Actor
from app.services.errors import (
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    UnauthorizedError,
    taken_as,
)
from app.services.units.units import find_unit
from models import Account, LoginFailure, Role, Unit
from models.base import UTCDateTime
from models.database import write_transaction

PURPOSE = "admin"
USERNAME = re.compile(r"[A-Za-z0-9_.@-]{2,64}")
MIN_PASSWORD = 8
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
LOCKED_OUT = "密码错误次数过多，请 15 分钟后再试"
# Wrong passwords are forgotten this long after the last one: an account's and a stranger's.
FORGET_FAILURES = timedelta(days=1)
_DUMMY_HASH = hash_password("no account has this password")


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD or len(password) > 200:
        raise InvalidRequestError(f"密码至少 {MIN_PASSWORD} 位")


def create_account(session: Session, actor: Actor, *, username: str, password: str, role: str,
                   unit_code: str | None, now: datetime) -> Account:
    actor.require_admin()
    check_account_fields(username, password, role, unit_code)
    password_hash = hash_password(password)  # slow on purpose: before the write lock, not in it
    with taken_as(name_taken(username)), write_transaction(session):
        return add_account(session, actor, username, password_hash, role, unit_code, now)


def name_taken(username: str) -> str:
    return f"用户名 {username} 已存在"


def check_account_fields(username: str, password: str, role: str, unit_code: str | None) -> None:
    if not USERNAME.fullmatch(username):
        raise InvalidRequestError("用户名只能包含字母、数字和 _.@-，2–64 位")
    if role not in (Role.ADMIN, Role.ORGANIZER):
        raise InvalidRequestError("角色只能是 admin 或 organizer")
    if role == Role.ORGANIZER and not unit_code:
        raise InvalidRequestError("单位管理员必须指定所属单位")
    check_new_password(password)


def add_account(session: Session, actor: Actor, username: str, password_hash: str, role: str,
                unit_code: str | None, now: datetime) -> Account:
    """Adds a checked account, and its audit entry, to the caller's write transaction."""
    if session.scalar(select(Account.id).where(Account.username == username)):
        raise InvalidRequestError(name_taken(username))
    unit_id = find_unit(session, unit_code).id if unit_code else None
    account = Account(username=username, password_hash=password_hash, role=role,
                      unit_id=unit_id, active=True, created_at=now)
    session.add(account)
    record_action(session, actor, "account.create", username, {"role": role,
                  "unit": unit_code}, now)
    return account


def has_password(session: Session, username: str, password: str) -> bool:
    """Whether the account's password is this one (for tools: no lockout, no audit)."""
    stored = session.scalar(select(Account.password_hash).where(Account.username == username))
    return stored is not None and check_password(password, stored)


def list_accounts(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(select(Account, Unit.code).outerjoin(Unit, Unit.id == Account.unit_id)
                           .order_by(Account.username))
    return [{"username": a.username, "role": a.role, "unit": code, "active": a.active}
            for a, code in rows]


def _find_account(session: Session, username: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise NotFoundError("找不到该账号")
    return account


def disable_account(session: Session, actor: Actor, username: str, now: datetime) -> None:
    actor.require_admin()
    if username == actor.username:
        raise InvalidRequestError("不能停用自己的账号")
    with write_transaction(session):
        account = _find_account(session, username)
        account.active = False
        account.token_generation += 1
        record_action(session, actor, "account.disable", username, {}, now)


def reset_password(session: Session, actor: Actor, username: str, password: str,
                   now: datetime) -> None:
    actor.require_admin()
    check_new_password(password)
    with write_transaction(session):
        account = _find_account(session, username)
        account.password_hash = hash_password(password)
        account.token_generation += 1
        account.failed_logins, account.locked_until = 0, None
        record_action(session, actor, "account.reset_password", username, {}, now)


def authenticate(session: Session, secret_key: str, username: str, password: str,
                 now: datetime, remote_addr: str = "") -> str:
    """Check a password (with lockout after repeated failures); returns a signed token.

    The account's row is locked while it is checked, so that guesses sent at once are counted
    one after another: the lockout stops the sixth, however many arrive together. Sign-ins,
    failures and lockouts of existing accounts go into the audit trail.
    """
    with write_transaction(session):
        account = session.scalar(
            select(Account).where(Account.username == username).with_for_update())
        # A name that could be an account but is none counts its failures as one would.
        counted = account if account is not None else _stranger(session, username, now)
        if counted is not None and counted.locked_until and counted.locked_until > now:
            raise RateLimitedError(LOCKED_OUT)
        # Unknown and disabled accounts cost a hash check too, so timing reveals no usernames.
        stored = account.password_hash if account is not None else _DUMMY_HASH
        if not check_password(password, stored) or account is None or not account.active:
            action = _count_failure(counted, now) if counted is not None else None
        else:
            account.failed_logins, account.locked_until = 0, None
            if needs_rehash(stored):  # made with older parameters: stored again as today's
                account.password_hash = hash_password(password)
            action = "account.login"
        if account is not None and action is not None:
            who = Actor(account.id, account.username, account.role, account.unit_id, remote_addr)
            record_action(session, who, action, account.username, {}, now)
    if action != "account.login" or account is None:
        raise UnauthorizedError("用户名或密码错误")
    return issue_token(secret_key, PURPOSE, {"a": account.id, "g": account.token_generation})


# Made if new, and locked either way (DO UPDATE locks the row it meets, and waits for, or
# outlives, another request's delete of it).
_STRANGER_ROW = text(
    "INSERT INTO login_failures (username, failed_logins, last_failed_at) "
    "VALUES (:name, 0, :now) ON CONFLICT (username) DO UPDATE SET username = excluded.username"
).bindparams(bindparam("now", type_=UTCDateTime()))


def _stranger(session: Session, username: str, now: datetime) -> LoginFailure | None:
    """The failure count of a name that is no account, its row locked as an account's is;
    None for a name no account can have (nothing to hide there)."""
    if not USERNAME.fullmatch(username):
        return None
    session.execute(delete(LoginFailure).where(
        LoginFailure.last_failed_at < now - FORGET_FAILURES))
    session.execute(_STRANGER_ROW, {"name": username, "now": now})
    return session.scalars(select(LoginFailure).where(LoginFailure.username == username)
                           .with_for_update()).one()


def _count_failure(account: Account | LoginFailure, now: datetime) -> str:
    """The failure's audit action: a failed login, or the one that locks the account. A day
    after the last failure the count starts again."""
    if account.last_failed_at is not None and now - account.last_failed_at > FORGET_FAILURES:
        account.failed_logins = 0
    account.failed_logins += 1
    account.last_failed_at = now
    if account.failed_logins >= MAX_FAILURES:
        account.locked_until = now + LOCKOUT
        account.failed_logins = 0
        return "account.locked"
    return "account.login_failed"


def actor_from_token(session: Session, secret_key: str, token: str, max_age: int,
                     remote_addr: str = "") -> Actor:
    payload = read_token(secret_key, PURPOSE, token, max_age)
    account = session.get(Account, payload.get("a"))
    if account is None or not account.active or account.token_generation != payload.get("g"):
        raise UnauthorizedError("登录已失效，请重新登录")
    return Actor(account.id, account.username, account.role, account.unit_id, remote_addr)


def logout(session: Session, actor: Actor, now: datetime) -> None:
    """Revoke every token and console session of the caller's account."""
    with write_transaction(session):
        account = session.get(Account, actor.account_id)
        if account is not None:
            account.token_generation += 1
            record_action(session, actor, "account.logout", account.username, {}, now)


def change_own_password(session: Session, actor: Actor, old_password: str, new_password: str,
                        now: datetime) -> None:
    """Self-service change; every earlier token stops working. A wrong old password counts
    as a failed login (a stolen session must not become a way to guess the password)."""
    check_new_password(new_password)
    new_hash = hash_password(new_password)  # before the write lock, not in it
    with write_transaction(session):
        account = session.get(Account, actor.account_id, with_for_update=True)
        if account is None:
            raise UnauthorizedError("登录已失效，请重新登录")
        if account.locked_until and account.locked_until > now:
            raise RateLimitedError(LOCKED_OUT)
        changed = check_password(old_password, account.password_hash)
        if changed:
            account.password_hash = new_hash
            account.token_generation += 1
            account.failed_logins = 0
            record_action(session, actor, "account.change_password", account.username, {}, now)
        else:
            record_action(session, actor, _count_failure(account, now), account.username,
                          {"via": "change_password"}, now)
    if not changed:
        raise InvalidRequestError("原密码不正确")


def enable_account(session: Session, actor: Actor, username: str, now: datetime) -> None:
    actor.require_admin()
    with write_transaction(session):
        account = _find_account(session, username)
        account.active = True
        account.failed_logins, account.locked_until = 0, None
        record_action(session, actor, "account.enable", username, {}, now)


def accounts_for(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The account list, for admins only."""
    actor.require_admin()
    return list_accounts(session)


def describe_actor(session: Session, actor: Actor) -> dict[str, Any]:
    unit = session.get(Unit, actor.unit_id) if actor.unit_id else None
    return {"username": actor.username, "role": actor.role,
            "unit": unit.code if unit else None, "unit_name": unit.name if unit else None}
