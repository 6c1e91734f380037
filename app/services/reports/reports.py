"""Per-unit figures of a campaign: the totals table of the admin API and the printed report
whose units file upward (each parent's children, a 小计 per parent, a 合计 at the end)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.services.accounts.audit import record_action
from app.services.actor import Actor
from app.services.catalog.campaigns import campaign_view, find_campaign
from app.services.payments.totals import Figures
from app.services.reports.figures import ALL_TIME, Period, UnitFigures, scope_figures, unit_figures
from app.services.units.scope import UnitInfo, resolve_scope, unit_directory
from app.services.units.units import children_of, depth_first
from models.database import write_transaction

COLUMNS = ("单位编码", "单位名称", "上级单位", "捐款笔数", "捐款人数", "金额(元)")


def campaign_totals(session: Session, actor: Actor, campaign_code: str,
                    unit_code: str | None = None, period: Period = ALL_TIME) -> dict[str, Any]:
    """Every unit in scope with its own and its subtree's figures (all time, or in a period)."""
    campaign = find_campaign(session, campaign_code)
    scope = resolve_scope(session, actor, unit_code)
    units = unit_directory(session, scope)
    figures = unit_figures(session, campaign.id, scope.unit_ids, period)
    everyone = unit_directory(session) if scope.unit_ids is not None else units
    rows = [_totals_row(u, everyone, figures) for u in units.values()]
    reply: dict[str, Any] = {"campaign": campaign_view(session, campaign), "units": rows}
    if period.bounded:
        root_id = scope.root.id if scope.root else None
        reply["period"] = {**period.as_dates(),
                           **scope_figures(session, campaign.id, root_id, period).as_dict()}
    return reply


def _totals_row(unit: UnitInfo, units: dict[int, UnitInfo],
                figures: UnitFigures) -> dict[str, Any]:
    parent = units.get(unit.parent_id or 0)
    own, sub = figures.own_of(unit.id), figures.subtree_of(unit.id)
    return {"code": unit.code, "name": unit.name, "parent": parent.code if parent else None,
            **own.as_dict(), "subtree_total_fen": sub.total_fen,
            "subtree_donation_count": sub.donation_count,
            "subtree_donor_count": sub.donor_count}


@dataclass(frozen=True)
class ReportRow:
    kind: str                 # "unit", "self" (a parent's own donations), "subtotal", "total"
    code: str
    name: str
    parent: str
    figures: Figures

    def cells(self) -> tuple[str, str, str, int, int, int]:
        f = self.figures
        return (self.code, self.name, self.parent, f.donation_count, f.donor_count, f.total_fen)


@dataclass
class Report:
    title: str
    subtitle: str
    rows: list[ReportRow] = field(default_factory=list)


def unit_report(session: Session, actor: Actor, campaign_code: str,
                unit_code: str | None = None, period: Period = ALL_TIME) -> Report:
    """Groups in tree order: each parent's own row, its children's subtree rows, its 小计."""
    campaign = find_campaign(session, campaign_code)
    scope = resolve_scope(session, actor, unit_code)
    units = unit_directory(session, scope)
    figures = unit_figures(session, campaign.id, scope.unit_ids, period)
    report = Report(f"{campaign.name}捐款统计表", _subtitle(scope.root, period))
    # Children in the order they were added (an import keeps its file's order), as the
    # console's list of units shows them.
    parents = {uid: units[uid].parent_id for uid in sorted(units)}
    children = children_of(parents)
    for parent_id, _depth in depth_first(parents):
        if children.get(parent_id):
            report.rows.extend(_group(units[parent_id], children[parent_id], units, figures))
    if not report.rows:  # a leaf unit: no parent groups, just the unit itself
        report.rows.extend(ReportRow("unit", u.code, u.name, "", figures.subtree_of(u.id))
                           for u in units.values())
    root_id = scope.root.id if scope.root else None
    report.rows.append(ReportRow("total", "", "合计", "",
                                 scope_figures(session, campaign.id, root_id, period)))
    return report


def report_download(session: Session, actor: Actor, campaign_code: str, unit_code: str | None,
                    period: Period, kind: str, now: datetime) -> Report:
    """unit_report() for a file to take away, recorded in the audit trail."""
    report = unit_report(session, actor, campaign_code, unit_code, period)
    with write_transaction(session):
        record_action(session, actor, "export.report", f"units-report.{kind}",
                      {"campaign": campaign_code, "unit": unit_code, **period.as_dates()}, now)
    return report


def _subtitle(root: Any, period: Period) -> str:
    dates = period.as_dates()
    span = "全部时间" if not period.bounded else (
        f"{dates['from'] or '开始'} 至 {dates['to'] or '今'}（不含结束日）")
    return f"{root.name if root else '全区'} · {span}"


def _group(parent: UnitInfo, child_ids: list[int], units: dict[int, UnitInfo],
           figures: UnitFigures) -> list[ReportRow]:
    rows = []
    own = figures.own_of(parent.id)
    if own.donation_count:
        rows.append(ReportRow("self", parent.code, f"{parent.name}（本级）", parent.name, own))
    for child_id in sorted(child_ids):
        child = units[child_id]
        rows.append(ReportRow("unit", child.code, child.name, parent.name,
                              figures.subtree_of(child_id)))
    rows.append(ReportRow("subtotal", parent.code, f"{parent.name} 小计", "",
                          figures.subtree_of(parent.id)))
    return rows
