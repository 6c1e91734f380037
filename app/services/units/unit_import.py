"""Importing the unit tree from CSV (UTF-8 with or without BOM, or GB18030/GBK) or XLSX.

Columns, by their English or Chinese header, in any order: code 单位编码, name 单位名称,
parent_code 上级单位 (its code; empty at the top), kind 类型 (district 区总工会, town 镇总工会,
street 街道总工会, park 产业基地, grassroots 基层工会, enterprise 企业), and optionally
headcount 职工人数. The whole file is checked before anything is written; every problem is
reported with its row number, and nothing is imported while any row is bad. A re-import
updates names, parents and headcounts; units missing from the file are left as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.accounts.audit import record_action
from app.services.actor import SYSTEM
from app.services.errors import InvalidRequestError
from app.services.numbers import whole_number
from app.services.units.unit_admin import rebuild_after_moves
from app.services.units.units import (
    KINDS,
    UNIT_CODE,
    UNIT_KIND_NAMES,
    ancestors,
    closure_pairs,
    lock_tree,
    rebuild_closure,
)
from models import Unit
from models.database import write_transaction

COLUMNS = ("code", "name", "parent_code", "kind")
# Every header a column is known by, lower-cased: English, and Chinese as clerks write it.
HEADERS = {
    "code": ("code", "单位编码", "编码"),
    "name": ("name", "单位名称", "名称"),
    "parent_code": ("parent_code", "上级单位", "上级单位编码", "上级编码"),
    "kind": ("kind", "类型", "单位类型"),
    "headcount": ("headcount", "职工人数", "人数"),
}
KIND_ALIASES = {**{name: kind for kind, name in UNIT_KIND_NAMES.items()},
                "镇": "town", "街道": "street", "园区": "park", "产业园区": "park",
                "企业工会": "enterprise"}
TEMPLATE_HEADER = ("单位编码", "单位名称", "上级单位", "类型", "职工人数")
Progress = Callable[[int], None]


@dataclass(frozen=True)
class ImportRow:
    line: int
    code: str
    name: str
    parent_code: str
    kind: str
    headcount: int | None


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    missing: list[str] = field(default_factory=list)


class ImportFileError(InvalidRequestError):
    """The file cannot be imported; `problems` lists each one with its row number."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("文件有误，未导入任何内容：\n" + "\n".join(problems[:50]))
        self.problems = problems


def read_rows(filename: str, content: bytes) -> list[ImportRow]:
    if filename.lower().endswith((".xlsx", ".xlsm")):
        records = _xlsx_records(content)
    else:
        records = csv_records(content)
    return _rows_from_records(records)


def csv_records(content: bytes) -> list[list[str]]:
    """The rows of an uploaded CSV file, whatever its encoding and line endings (Excel for Mac
    ends lines with a bare CR); ImportFileError when it is not CSV."""
    try:
        return list(csv.reader(io.StringIO(decode_text(content), newline="")))
    except csv.Error as exc:
        raise ImportFileError([f"无法按 CSV 读取：{exc}"]) from exc


def decode_text(content: bytes) -> str:
    """UTF-8 (with or without BOM) or, failing that, GB18030 — what Excel in China writes;
    UTF-16 when it starts with its BOM (Excel's "Unicode text")."""
    for marks, encoding in _BOMS:
        if content.startswith(marks):
            return _without_nul(_decode(content, (encoding,)))
    return _without_nul(_decode(content, ("utf-8", "gb18030")))


def _without_nul(text: str) -> str:
    # Text holds no NUL (and no database can store one); UTF-16 read as UTF-8 is full of them.
    if "\x00" in text:
        raise ImportFileError(["文件含有空字符（NUL）：请另存为 UTF-8 或 GBK 编码的 CSV"])
    return text


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _decode(content: bytes, encodings: tuple[str, ...]) -> str:
    for encoding in encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(["文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV"])


def _xlsx_records(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
        raise ImportFileError(["不是有效的 XLSX 文件"]) from exc
    sheet = book.worksheets[0]
    records = [["" if v is None else _cell_text(v) for v in row]
               for row in sheet.iter_rows(values_only=True)]
    book.close()
    return records


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows_from_records(records: list[list[str]]) -> list[ImportRow]:
    if not records:
        raise ImportFileError(["文件是空的"])
    where = _columns(records[0])
    rows, problems = [], []
    for line, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        cells = [c.strip() for c in record] + [""] * len(records[0])
        code, name, parent, kind = (cells[where[c]] for c in COLUMNS)
        headcount, problem = _headcount(cells[where["headcount"]] if "headcount" in where
                                        else "", line)
        if problem:
            problems.append(problem)
        rows.append(ImportRow(line, code, name, parent, KIND_ALIASES.get(kind, kind),
                              headcount))
    if problems:
        raise ImportFileError(problems)
    return rows


def _columns(header: list[str]) -> dict[str, int]:
    """Where each column is, from its English or Chinese header (with or without a BOM)."""
    known = {alias: column for column, aliases in HEADERS.items() for alias in aliases}
    where: dict[str, int] = {}
    for index, title in enumerate(header):
        column = known.get(title.strip().lstrip("\ufeff").lower())
        if column is not None:
            where.setdefault(column, index)
    if any(c not in where for c in COLUMNS):
        raise ImportFileError(["第 1 行：表头须为 单位编码,单位名称,上级单位,类型[,职工人数]"
                               "（或 code,name,parent_code,kind[,headcount]）"])
    return where


def template_csv() -> bytes:
    """The file a clerk fills in: the Chinese header and two example rows, UTF-8 with a BOM
    (Excel opens it as Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TEMPLATE_HEADER)
    writer.writerow(("DX-XF", "兴丰街道总工会", "DX", "街道总工会", ""))
    writer.writerow(("DX-XF-01", "兴丰街道某公司工会", "DX-XF", "企业", "120"))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def summary(report: ImportReport, shown: int = 5) -> list[str]:
    """What an import did, in Chinese; units it left out are counted, a few named."""
    lines = [f"新增 {len(report.created)} 个单位，修改 {len(report.updated)} 个，"
             f"{report.unchanged} 个不变"]
    if report.missing:
        named = "、".join(report.missing[:shown]) + ("等" if len(report.missing) > shown else "")
        lines.append(f"另有 {len(report.missing)} 个已有单位不在文件中，保持不变（{named}）")
    return lines


def _headcount(text: str, line: int) -> tuple[int | None, str | None]:
    if not text:
        return None, None
    value = whole_number(text, high=10_000_000)
    if value is None:
        return None, f"第 {line} 行：职工人数 {text!r} 不是有效的非负整数"
    return value, None


def check_rows(rows: list[ImportRow], existing: dict[str, str | None]) -> list[str]:
    """Every problem of the file, against the units already registered (code -> parent)."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for row in rows:
        problems.extend(_row_problems(row, seen))
        seen.setdefault(row.code, row.line)
    parents = dict(existing)
    parents.update({r.code: r.parent_code or None for r in rows})
    for row in rows:
        if row.parent_code and row.parent_code not in parents:
            problems.append(f"第 {row.line} 行：上级单位 {row.parent_code} 不存在")
    problems.extend(_cycles(rows, parents))
    return problems


def _row_problems(row: ImportRow, seen: dict[str, int]) -> Iterable[str]:
    if not UNIT_CODE.fullmatch(row.code):
        yield f"第 {row.line} 行：单位编码 {row.code!r} 不合规（字母、数字、_、-，最长16位）"
    if row.code in seen:
        yield f"第 {row.line} 行：单位编码 {row.code} 与第 {seen[row.code]} 行重复"
    if not row.name or len(row.name) > 100:
        yield f"第 {row.line} 行：单位名称不能为空且不超过100字"
    if row.kind not in KINDS:
        yield (f"第 {row.line} 行：单位类型 {row.kind!r} 无效（可填 "
               f"{'、'.join(UNIT_KIND_NAMES.values())}）")


def _cycles(rows: list[ImportRow], parents: dict[str, str | None]) -> list[str]:
    return [f"第 {row.line} 行：单位 {row.code} 的上级关系形成了循环" for row in rows
            if row.code in ancestors(parents, parents.get(row.code))]


def import_units(session: Session, rows: list[ImportRow], now: datetime,
                 progress: Progress | None = None) -> ImportReport:
    with write_transaction(session):
        lock_tree(session)
        tree_before = closure_pairs(session)
        units = {u.code: u for u in session.scalars(select(Unit))}
        by_id = {u.id: u.code for u in units.values()}
        existing = {code: by_id.get(u.parent_id) if u.parent_id else None
                    for code, u in units.items()}
        problems = check_rows(rows, existing)
        if problems:
            raise ImportFileError(problems)
        report, moved = _apply_rows(session, rows, units, existing, now, progress)
        if moved:
            rebuild_after_moves(session, tree_before)
        else:
            rebuild_closure(session)
        record_action(session, SYSTEM, "unit.import", f"{len(rows)} rows",
                      {"created": len(report.created), "updated": len(report.updated),
                       "moved": moved}, now)
    listed = {r.code for r in rows}
    report.missing = sorted(code for code in units if code not in listed)
    return report


def _apply_rows(session: Session, rows: list[ImportRow], units: dict[str, Unit],
                existing: dict[str, str | None], now: datetime,
                progress: Progress | None) -> tuple[ImportReport, bool]:
    report, moved = ImportReport(), False
    for row in rows:
        unit = units.get(row.code)
        if unit is None:
            unit = Unit(code=row.code, name=row.name, kind=row.kind, headcount=row.headcount,
                        active=True, created_at=now, updated_at=now)
            session.add(unit)
            units[row.code] = unit
            report.created.append(row.code)
        elif (unit.name, unit.kind, unit.headcount, existing[row.code]) != (
                row.name, row.kind, row.headcount, row.parent_code or None):
            moved = moved or existing[row.code] != (row.parent_code or None)
            unit.name, unit.kind, unit.headcount, unit.updated_at = (
                row.name, row.kind, row.headcount, now)
            report.updated.append(row.code)
        else:
            report.unchanged += 1
        if progress:
            progress(1)
    session.flush()
    for row in rows:
        parent = units[row.parent_code] if row.parent_code else None
        units[row.code].parent_id = parent.id if parent else None
    session.flush()
    return report, moved
