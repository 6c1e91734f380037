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

from app.services.accounts import USERNAME, Actor, check_new_password, create_account
from app.services.errors import InvalidRequestError
from app.services.unit_import import csv_records
from models import Account, Role, Unit

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
    role = role or Role.ORGANIZER.value
    if not USERNAME.fullmatch(username):
        raise InvalidRequestError(f"第 {line} 行：用户名无效（字母、数字和 _.@-，2–64 位）")
    if role not in (Role.ADMIN.value, Role.ORGANIZER.value):
        raise InvalidRequestError(f"第 {line} 行：角色只能是 admin 或 organizer")
    if role == Role.ORGANIZER.value and not unit:
        raise InvalidRequestError(f"第 {line} 行：单位管理员必须填写单位编码")
    if password:
        # Every rule create_account applies, checked before the first account is made.
        try:
            check_new_password(password)
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"第 {line} 行：{exc.message}") from exc
    generated = not password
    return NewAccount(username, role, unit or None, password or _new_password(), generated)


def _new_password() -> str:
    return secrets.token_urlsafe(9)


def import_accounts(session: Session, actor: Actor, rows: list[NewAccount],
                    now: datetime) -> list[NewAccount]:
    """Creates every account after checking names and units against the database."""
    actor.require_admin()
    names = [r.username for r in rows]
    if len(set(names)) != len(names):
        raise InvalidRequestError("文件中有重复的用户名")
    taken = set(session.scalars(select(Account.username).where(Account.username.in_(names))))
    if taken:
        raise InvalidRequestError("用户名已存在：" + "、".join(sorted(taken)))
    wanted_units = {r.unit for r in rows if r.unit}
    known = set(session.scalars(select(Unit.code).where(Unit.code.in_(wanted_units))))
    if wanted_units - known:
        raise InvalidRequestError("找不到单位：" + "、".join(sorted(wanted_units - known)))
    for row in rows:
        create_account(session, actor, username=row.username, password=row.password,
                       role=row.role, unit_code=row.unit, now=now)
    return rows


def credentials_csv(rows: list[NewAccount]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["username", "unit", "role", "password"])
    for row in rows:
        writer.writerow([row.username, row.unit or "", row.role,
                         row.password if row.generated else "（已自定）"])
    return buffer.getvalue()
