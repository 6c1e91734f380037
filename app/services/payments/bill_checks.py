"""Reading bill checks back: the admin API's shapes, and what the CLI's exit code says."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.actor import Actor
from app.services.errors import InvalidRequestError, NotFoundError
from app.services.formatting import rfc3339, yuan
from app.services.payments.bill_staging import EXPLAINED
from models import BillCheck, BillCheckStatus, BillFinding
from wechat.timeutil import CHINA_TZ

MAX_CHECKS = 100
STATUS_NAMES = {"running": "进行中", "done": "已完成", "no_bill": "暂无账单",
                "refused": "账单校验失败", "failed": "失败"}
FINDING_NAMES = {"recovered": "已补记支付", "unknown_order": "未知订单",
                 "missing_at_wechat": "账单中没有", "amount_mismatch": "金额不符",
                 "refund_recovered": "已补记退款", "refund_unknown": "未知退款",
                 "refund_missing_at_wechat": "退款不在账单中"}


def parse_bill_date(text: str) -> date:
    """A YYYY-MM-DD bill date (Asia/Shanghai), or InvalidRequestError."""
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidRequestError("日期格式应为 YYYY-MM-DD") from exc


def yesterday(now: datetime) -> date:
    """The default bill date: yesterday in Asia/Shanghai."""
    return now.astimezone(CHINA_TZ).date() - timedelta(days=1)


def _figures(check: BillCheck) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    bill = None if check.bill_count is None else {
        "count": check.bill_count, "paid_fen": check.bill_paid_fen,
        "refund_fen": check.bill_refund_fen, "fee_fen": check.bill_fee_fen}
    ledger = None if check.ledger_count is None else {
        "count": check.ledger_count, "paid_fen": check.ledger_paid_fen,
        "refund_fen": check.ledger_refund_fen}
    return bill, ledger


def _view(check: BillCheck) -> dict[str, Any]:
    bill, ledger = _figures(check)
    return {"id": check.id, "date": check.bill_date.isoformat(), "status": check.status,
            "problem": check.problem, "started_by": check.started_by,
            "started_at": rfc3339(check.started_at), "checked_at": rfc3339(check.finished_at),
            "bill": bill, "ledger": ledger, "findings_count": check.findings_count}


def _finding_view(finding: BillFinding) -> dict[str, Any]:
    view: dict[str, Any] = {"kind": finding.kind, "out_trade_no": finding.out_trade_no,
                            "detail": finding.detail}
    if finding.out_refund_no:
        view["out_refund_no"] = finding.out_refund_no
    return view


def get_check(session: Session, actor: Actor, check_id: int) -> dict[str, Any]:
    """One check with its findings (admins only)."""
    actor.require_admin()
    check = session.get(BillCheck, check_id)
    if check is None:
        raise NotFoundError("没有这次对账")
    findings = session.scalars(select(BillFinding).where(BillFinding.check_id == check_id)
                               .order_by(BillFinding.id))
    view = _view(check)
    view["findings"] = [_finding_view(f) for f in findings]
    view["unexplained"] = sum(f["kind"] not in EXPLAINED for f in view["findings"])
    return view


def latest_check(session: Session, actor: Actor, bill_date: date) -> dict[str, Any]:
    """The day's latest check, with its findings (admins only)."""
    actor.require_admin()
    check_id = session.scalar(select(BillCheck.id).where(BillCheck.bill_date == bill_date)
                              .order_by(BillCheck.id.desc()).limit(1))
    if check_id is None:
        raise NotFoundError("这一天还没有对过账")
    return get_check(session, actor, check_id)


def list_checks(session: Session, actor: Actor,
                limit: int = MAX_CHECKS) -> list[dict[str, Any]]:
    """The latest checks, newest first, without their findings (admins only)."""
    actor.require_admin()
    checks = session.scalars(select(BillCheck).order_by(BillCheck.id.desc()).limit(limit))
    return [_view(check) for check in checks]


def exit_code(check: dict[str, Any]) -> int:
    """0: bill and ledger agree (or the check put them right); 1: findings remain; 2: the bill
    could not be fetched or verified."""
    if check["status"] != BillCheckStatus.DONE:
        return 2
    return 1 if check["unexplained"] else 0


def report_lines(check: dict[str, Any]) -> list[str]:
    """What `warmfund bill check` prints: both sides' figures in yuan, one line per finding."""
    day, bill, ledger = check["date"], check["bill"], check["ledger"]
    if check["status"] == BillCheckStatus.NO_BILL:
        return [f"{day}: WeChat Pay has no bill for this day (yet): {check['problem']}"]
    if check["status"] != BillCheckStatus.DONE:
        return [f"{day}: the bill could not be checked ({check['status']}): {check['problem']}"]
    lines = [f"{day} WeChat Pay bill: {bill['count']} trades, paid {yuan(bill['paid_fen'])} yuan, "
             f"refunded {yuan(bill['refund_fen'])}, fees {yuan(bill['fee_fen'])}",
             f"{day} ledger:          {ledger['count']} trades, paid "
             f"{yuan(ledger['paid_fen'])} yuan, refunded {yuan(ledger['refund_fen'])}"]
    lines += [f"{f['kind']} {f['out_trade_no']}"
              + (f" {f['out_refund_no']}" if f.get("out_refund_no") else "") + f": {f['detail']}"
              for f in check["findings"]]
    lines.append(f"{check['unexplained']} finding(s) left unexplained" if check["unexplained"]
                 else "the bill and the ledger agree")
    return lines
