"""Creating a drive's organizer accounts from a CSV: username,unit[,role][,password].

The whole file is checked first; nothing is created while any row is bad. Rows without a
password get a generated one, returned once so the admin can hand it over.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.infra.passwords import hash_passwords
from app.services.accounts.accounts import add_account, check_account_fields
from app.services.actor import Actor
from app.services.errors import InvalidRequestError, taken_as
from app.services.units.unit_import import csv_records
from models import Account, Role, Unit
from models.database import write_transaction

MAX_ROWS = 1000


@dataclass(frozen=True)
class NewAccount:
    username: str
    role: str
    unit: str | None
    password: str
    generated: bool


def read_accounts_csv(content: bytes) -> list[NewAccount]:
    """Parses the file (header row optional); raises with every problem and its line."""
    records = [r for r in csv_records(content) if any(c.strip() for c in r)]
    if records and records[0] and records[0][0].strip().lower() in ("username", "用户名"):
        records = records[1:]
    if not records:
        raise InvalidRequestError("文件中没有账号")
    if len(records) > MAX_ROWS:
        raise InvalidRequestError(f"一次最多导入 {MAX_ROWS} 个账号")
    return [_row(line, cells) for line, cells in enumerate(records, start=1)]


def _row(line: int, cells: list[str]) -> NewAccount:
    cells = [c.strip() for c in cells] + ["", "", "", ""]
    username, unit, role, password = cells[:4]
    role = role or Role.ORGANIZER
    generated = not password
    password = password or _new_password()
    try:  # every rule create_account applies, checked before the first account is made
        check_account_fields(username, password, role, unit or None)
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"第 {line} 行：{exc.message}") from exc
    return NewAccount(username, role, unit or None, password, generated)


def _new_password() -> str:
    return secrets.token_urlsafe(9)


def import_accounts(session: Session, actor: Actor, rows: list[NewAccount],
                    now: datetime) -> list[NewAccount]:
    """Creates every account, or none: names and units are checked against the database in the
    same transaction that adds them."""
    actor.require_admin()
    names = [r.username for r in rows]
    if len(set(names)) != len(names):
        raise InvalidRequestError("文件中有重复的用户名")
    _check_against_database(session, rows)  # first, so that a bad file is refused at once
    session.rollback()  # no transaction stays open through the hashing
    # Hashing is slow on purpose: done before the write transaction, which stays short.
    hashes = hash_passwords([row.password for row in rows])
    with taken_as("有用户名刚被他人创建，请重新导入"), write_transaction(session):
        _check_against_database(session, rows)  # again: someone may have been quicker
        for row, password_hash in zip(rows, hashes, strict=True):
            add_account(session, actor, row.username, password_hash, row.role, row.unit, now)
    return rows


def _check_against_database(session: Session, rows: list[NewAccount]) -> None:
    names = [r.username for r in rows]
    taken = set(session.scalars(select(Account.username).where(Account.username.in_(names))))
    if taken:
        raise InvalidRequestError("用户名已存在：" + "、".join(sorted(taken)))
    wanted_units = {r.unit for r in rows if r.unit}
    known = set(session.scalars(select(Unit.code).where(Unit.code.in_(wanted_units))))
    if wanted_units - known:
        raise InvalidRequestError("找不到单位：" + "、".join(sorted(wanted_units - known)))


def credentials_csv(rows: list[NewAccount]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["username", "unit", "role", "password"])
    for row in rows:
        writer.writerow([row.username, row.unit or "", row.role,
                         row.password if row.generated else "（已自定）"])
    return buffer.getvalue()
