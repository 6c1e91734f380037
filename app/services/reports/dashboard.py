"""The console's front page: a campaign's figures, charts, leaderboards and recent donations,
for the whole federation (admins) or one subtree (organizers, or an admin drilling down)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.services.actor import Actor
from app.services.catalog.campaigns import campaign_view, find_campaign
from app.services.errors import InvalidRequestError
from app.services.payments.totals import Figures
from app.services.reports.charts import activity
from app.services.reports.donation_list import latest_paid
from app.services.reports.figures import UnitFigures, scope_figures, this_year, today, unit_figures
from app.services.units.scope import UnitInfo, ViewScope, resolve_scope, unit_directory
from app.services.units.units import UNIT_KIND_NAMES

SORTS = {"amount": "total_fen", "donations": "donation_count", "donors": "donor_count",
         "rate": "rate"}
TOP = 10


@dataclass(frozen=True)
class Ranked:
    unit: UnitInfo
    figures: Figures

    @property
    def rate(self) -> float | None:
        if not self.unit.headcount:
            return None
        return self.figures.donor_count / self.unit.headcount

    def as_dict(self, parent: str | None) -> dict[str, Any]:
        return {"code": self.unit.code, "name": self.unit.name, "kind": self.unit.kind,
                "parent": parent, "active": self.unit.active,
                "headcount": self.unit.headcount, **self.figures.as_dict(),
                "rate": None if self.rate is None else round(self.rate, 4)}


def dashboard(session: Session, actor: Actor, campaign_code: str, unit_code: str | None,
              now: datetime, sort: str = "amount") -> dict[str, Any]:
    """Everything the dashboard shows, as plain values (the JSON API returns the same)."""
    if sort not in SORTS:
        raise InvalidRequestError("排序方式只能是 " + "、".join(SORTS))
    campaign = find_campaign(session, campaign_code)
    scope = resolve_scope(session, actor, unit_code)
    root_id = scope.root.id if scope.root else None
    units = unit_directory(session, scope)
    figures = unit_figures(session, campaign.id, scope.unit_ids)
    return {
        "campaign": campaign_view(session, campaign),
        "unit": _focus_dict(session, scope),
        "summary": _summary(session, campaign.id, root_id, now, campaign.goal_fen),
        "children": _children(units, figures, scope, sort),
        "levels": _levels(units, figures, scope, sort),
        "chart": activity(session, campaign.id, scope.unit_ids, now),
        "recent": latest_paid(session, campaign.id, scope.unit_ids),
        "sort": sort,
    }


def _focus_dict(session: Session, scope: ViewScope) -> dict[str, Any] | None:
    if scope.root is None:
        return None
    parent = unit_directory(session).get(scope.root.parent_id or 0)
    return {"code": scope.root.code, "name": scope.root.name, "kind": scope.root.kind,
            "parent": parent.code if parent else None}


def _summary(session: Session, campaign_id: int, root_id: int | None, now: datetime,
             goal_fen: int) -> dict[str, Any]:
    total = scope_figures(session, campaign_id, root_id)
    goal = goal_fen if root_id is None else 0
    return {**total.as_dict(), "goal_fen": goal,
            "progress": round(total.total_fen / goal, 4) if goal else None,
            "today": scope_figures(session, campaign_id, root_id, today(now)).as_dict(),
            "year": scope_figures(session, campaign_id, root_id, this_year(now)).as_dict()}


def _sorted(items: list[Ranked], sort: str) -> list[Ranked]:
    key = SORTS[sort]
    if key == "rate":
        return sorted(items, key=lambda r: (r.rate is not None, r.rate or 0), reverse=True)
    return sorted(items, key=lambda r: getattr(r.figures, key), reverse=True)


def _focus_id(units: dict[int, UnitInfo], scope: ViewScope) -> int | None:
    """The unit whose children are listed: the scope's root, or the tree's single top unit."""
    if scope.root is not None:
        return scope.root.id
    tops = [u.id for u in units.values() if u.parent_id is None]
    return tops[0] if len(tops) == 1 else None


def _children(units: dict[int, UnitInfo], figures: UnitFigures, scope: ViewScope,
              sort: str) -> dict[str, Any]:
    """Every direct child of the focus unit, ranked, and those that have not started."""
    focus = _focus_id(units, scope)
    ranked = _sorted([Ranked(u, figures.subtree_of(u.id)) for u in units.values()
                      if u.parent_id == focus and u.id != focus], sort)
    parent = units[focus].code if focus in units else None
    rows = [r.as_dict(parent) for r in ranked]
    return {"of": parent, "units": rows,
            "not_started": [r for r in rows if r["donation_count"] == 0 and r["active"]]}


def _levels(units: dict[int, UnitInfo], figures: UnitFigures, scope: ViewScope,
            sort: str) -> list[dict[str, Any]]:
    """A top-ten leaderboard per kind of unit below the top (街道总工会, 基层工会 …): a kind
    found at two depths of the tree is still one board, so no two boards name the same kind."""
    tops = {u.id for u in units.values() if u.parent_id not in units}
    by_kind: dict[str, list[Ranked]] = {}
    for unit in units.values():
        if unit.id not in tops:
            by_kind.setdefault(unit.kind, []).append(Ranked(unit, figures.subtree_of(unit.id)))
    order = list(UNIT_KIND_NAMES)
    levels = []
    for kind in sorted(by_kind, key=lambda k: (order.index(k) if k in order else len(order), k)):
        ranked = _sorted(by_kind[kind], sort)[:TOP]
        levels.append({"kind": kind, "label": UNIT_KIND_NAMES.get(kind, kind),
                       "count": len(by_kind[kind]),
                       "units": [r.as_dict(_code(units, r.unit.parent_id)) for r in ranked]})
    return levels


def _code(units: dict[int, UnitInfo], unit_id: int | None) -> str | None:
    unit = units.get(unit_id or 0)
    return unit.code if unit else None
