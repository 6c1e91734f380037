"""Donation exports for the finance office: CSV (UTF-8 with BOM) and XLSX, both streamed.

Rows are read in keyset-paged batches and written as they come, so memory stays flat however
many donations match. Order numbers are written as text so that Excel keeps every digit, and
anything a donor typed is defused against spreadsheet formula injection.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.services.accounts.audit import record_action
from app.services.actor import Actor
from app.services.reports.donation_list import (
    DonationFilter,
    ResolvedFilter,
    iter_rows,
    resolve_filter,
)
from app.services.reports.figures import shanghai_text
from app.services.units.scope import campaign_names, unit_directory
from models import Donation
from models.database import write_transaction

HEADERS = ("订单号", "微信支付单号", "状态", "项目", "单位编码", "单位名称", "份数", "金额(元)",
           "匿名", "留言", "openid", "下单时间", "支付时间", "已退款(元)", "退款时间", "退款原因")
STATUS_NAMES = {"pending": "待支付", "paid": "已支付", "closed": "已关闭", "disputed": "金额不符",
                "refunding": "退款中", "refunded": "已退款"}
BOM = "\ufeff"
# `{` too: "{=…}" is an array formula to Excel, and to xlsxwriter before 3.3.1 whatever
# strings_to_formulas said.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "{")
# Columns of text (order numbers, names, the message, the openid) among HEADERS.
_TEXT_COLUMNS = (0, 1, 2, 3, 4, 5, 8, 9, 10)
CHUNK = 64 * 1024


# xlsxwriter's options that keep what people typed as text: by default a cell reading "=..."
# would become a formula, "http://...", "mailto:..." or "external:..." a live link (a donor's
# message pointing a clerk's Excel at a file share), and "123" a number.
XLSX_TEXT_AS_TEXT = {"strings_to_formulas": False, "strings_to_urls": False,
                     "strings_to_numbers": False}


def safe_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def write_texts(sheet: Any, row: int, column: int, texts: Iterable[str],
                style: Any = None) -> None:
    """Each as a string cell whatever it looks like: write_string never makes a formula, a
    number or a link, on any xlsxwriter (write() decides by the text)."""
    for offset, text in enumerate(texts):
        sheet.write_string(row, column + offset, text, style)


class _Formatter:
    """Export cells from ledger rows: names looked up once, times formatted by the database."""

    def __init__(self, session: Session) -> None:
        dialect = session.get_bind().dialect.name
        self.columns = (Donation.out_trade_no, Donation.transaction_id, Donation.status,
                        Donation.campaign_id, Donation.unit_id, Donation.quantity,
                        Donation.amount_fen, Donation.anonymous, Donation.message,
                        Donation.openid, shanghai_text(Donation.created_at, dialect),
                        shanghai_text(Donation.paid_at, dialect), Donation.refunded_fen,
                        shanghai_text(Donation.refunded_at, dialect), Donation.refund_reason)
        # The finance office reads 一元捐, not one-yuan; names are typed by people too.
        self.campaigns = {cid: safe_text(name) for cid, name in campaign_names(session).items()}
        # Unit names are typed by people too: defused once here, not per row.
        directory = unit_directory(session)
        self.units = {uid: (safe_text(u.code), safe_text(u.name))
                      for uid, u in directory.items()}
        self.statuses = {k: STATUS_NAMES[k] for k in STATUS_NAMES}

    def cells(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        """订单号 … 退款原因, amounts still in fen (CSV and XLSX format them apart)."""
        (out_trade_no, transaction_id, status, campaign_id, unit_id, quantity, amount_fen,
         anonymous, message, openid, created, paid, refunded, refunded_at, why, _id) = row
        unit_code, unit_name = self.units[unit_id]
        return (out_trade_no, transaction_id or "", self.statuses.get(status, status),
                self.campaigns[campaign_id], unit_code, unit_name, quantity, amount_fen,
                "是" if anonymous else "否", safe_text(message) if message else "", openid,
                created or "", paid or "", refunded, refunded_at or "", safe_text(why))


def csv_chunks(session: Session, actor: Actor, wanted: DonationFilter,
               now: datetime) -> Iterator[bytes]:
    """The export as CSV bytes in ~64 KB chunks; the filter is checked, and the export
    recorded in the audit trail, before the first one."""
    rf = _checked_and_recorded(session, actor, wanted, "csv", now)
    formatter = _Formatter(session)
    return _csv_body(session, rf, formatter)


def _checked_and_recorded(session: Session, actor: Actor, wanted: DonationFilter, kind: str,
                          now: datetime) -> ResolvedFilter:
    """Exports carry openids and messages out of the system: each one is in the audit trail,
    with its filter, whether or not the download is completed."""
    rf = resolve_filter(session, actor, wanted)
    with write_transaction(session):
        record_action(session, actor, "export.donations", f"donations.{kind}",
                      {name: value for name, value in asdict(wanted).items() if value}, now)
    return rf


class _Sink(io.BytesIO):
    """Write-only, so that the text layer over it keeps no decoder to reset on every row."""

    def readable(self) -> bool:
        return False


def _csv_body(session: Session, rf: ResolvedFilter, formatter: _Formatter) -> Iterator[bytes]:
    raw = _Sink()
    # Encoding as we go (rather than a StringIO encoded per chunk) is the faster path.
    text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    write = csv.writer(text, lineterminator="\r\n").writerow
    text.write(BOM)
    write(HEADERS)
    units, campaigns, statuses = formatter.units, formatter.campaigns, formatter.statuses
    # The hot loop of a million-row export: cells() inlined, no per-row helper calls.
    for (out_trade_no, transaction_id, status, campaign_id, unit_id, quantity, fen, anonymous,
         message, openid, created, paid, refunded, refunded_at, why,
         row_id) in iter_rows(session, rf, formatter.columns):
        unit_code, unit_name = units[unit_id]
        # ="…" makes Excel keep a long digit string as text instead of 4.2E+27.
        write((f'="{out_trade_no}"', f'="{transaction_id}"' if transaction_id else "",
               statuses.get(status, status), campaigns[campaign_id], unit_code, unit_name,
               quantity, f"{fen // 100}.{fen % 100:02d}", "是" if anonymous else "否",
               safe_text(message) if message else "", openid, created or "", paid or "",
               f"{refunded // 100}.{refunded % 100:02d}" if refunded else "", refunded_at or "",
               safe_text(why) if why else ""))
        if row_id % 256 == 0 and raw.tell() >= CHUNK:
            text.flush()
            yield raw.getvalue()
            raw.seek(0)
            raw.truncate()
    text.flush()
    yield raw.getvalue()
    text.detach()


def xlsx_chunks(session: Session, actor: Actor, wanted: DonationFilter,
                now: datetime) -> Iterator[bytes]:
    """The export as an XLSX workbook, built in a temporary file with constant memory."""
    rf = _checked_and_recorded(session, actor, wanted, "xlsx", now)
    formatter = _Formatter(session)
    return _xlsx_body(session, rf, formatter)


def _xlsx_body(session: Session, rf: ResolvedFilter, formatter: _Formatter) -> Iterator[bytes]:
    import xlsxwriter

    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="warmfund-export-")
    os.close(handle)
    try:
        workbook = xlsxwriter.Workbook(path, XLSX_TEXT_AS_TEXT | {"constant_memory": True})
        sheet = workbook.add_worksheet("捐款明细")
        money = workbook.add_format({"num_format": "0.00"})
        # Times as Excel dates (Asia/Shanghai wall time), so finance can sort and filter them.
        when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        sheet.set_column(0, 1, 30)
        sheet.set_column(10, 12, 20)
        sheet.set_column(14, 14, 20)
        write_texts(sheet, 0, 0, HEADERS)
        for index, row in enumerate(iter_rows(session, rf, formatter.columns), start=1):
            cells = formatter.cells(row)
            for column in _TEXT_COLUMNS:
                if cells[column]:
                    sheet.write_string(index, column, cells[column])
            sheet.write_number(index, 6, cells[6])
            sheet.write_number(index, 7, cells[7] / 100, money)
            for column, text in ((11, cells[11]), (12, cells[12]), (14, cells[14])):
                if text:
                    sheet.write_datetime(index, column, datetime.fromisoformat(text), when)
            if cells[13]:
                sheet.write_number(index, 13, cells[13] / 100, money)
            sheet.write_string(index, 15, cells[15])
        workbook.close()
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def export_filename(wanted: DonationFilter, suffix: str) -> str:
    parts = ["捐款明细", wanted.campaign or "全部", wanted.unit or ""]
    parts += [v for v in (wanted.date_from, wanted.date_to) if v]
    return "-".join(p for p in parts if p) + "." + suffix

