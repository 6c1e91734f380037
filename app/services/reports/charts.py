"""Donations per day and per hour (Asia/Shanghai), counted from paid ledger rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.services.formatting import SHANGHAI
from app.services.reports.figures import (
    COUNTED,
    NET_FEN,
    Period,
    day_start,
    in_period,
    shanghai_text,
)
from models import Donation

DAYS = 30


def activity(session: Session, campaign_id: int, unit_ids: list[int] | None,
             now: datetime) -> dict[str, Any]:
    """{"days": the last 30 days, "hours": today's 24 hours}, each with total_fen and count."""
    local_today = now.astimezone(SHANGHAI).date()
    first_day = local_today - timedelta(days=DAYS - 1)
    buckets = _hourly(session, campaign_id, unit_ids,
                      Period(day_start(first_day), day_start(local_today + timedelta(days=1))))
    days = []
    for offset in range(DAYS):
        day = (first_day + timedelta(days=offset)).isoformat()
        hits = [v for k, v in buckets.items() if k.startswith(day)]
        days.append({"label": day[5:], "date": day, "total_fen": sum(h[0] for h in hits),
                     "count": sum(h[1] for h in hits)})
    today = local_today.isoformat()
    hours = [{"label": f"{h:02d}", "total_fen": buckets.get(f"{today} {h:02d}", (0, 0))[0],
              "count": buckets.get(f"{today} {h:02d}", (0, 0))[1]} for h in range(24)]
    return {"days": days, "hours": hours}


def _hourly(session: Session, campaign_id: int, unit_ids: list[int] | None,
            period: Period) -> dict[str, tuple[int, int]]:
    dialect = session.get_bind().dialect.name
    bucket = shanghai_text(Donation.paid_at, dialect, "hour").label("bucket")
    query = (select(bucket, func.sum(NET_FEN), func.count(Donation.id))
             .where(Donation.campaign_id == campaign_id, COUNTED)
             .group_by(bucket))
    if unit_ids is not None:
        query = query.where(Donation.unit_id.in_(unit_ids))
    rows = session.execute(in_period(query, period))
    return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}


def nice_top(largest: int) -> int:
    """The y-axis' top: the smallest of 1, 2, 5 × 10ⁿ fen (at least one yuan) ≥ `largest`."""
    top = 100
    while top < largest:
        for step in (2, 5 / 2, 2):
            top = round(top * step)
            if top >= largest:
                break
    return top


def bars(series: list[dict[str, Any]], key: str, width: int = 600,
         height: int = 160) -> dict[str, Any]:
    """An inline SVG chart: bar geometry (x, y, w, h per point) scaled to a round top, and the
    y-axis' ticks (fen, from the top down to 0) for labels drawn beside it."""
    top = nice_top(max((p[key] for p in series), default=0))
    step = width / max(len(series), 1)
    shapes = []
    for i, point in enumerate(series):
        h = round(point[key] / top * height, 1)
        shapes.append({**point, "x": round(i * step + step * 0.15, 1), "w": round(step * 0.7, 1),
                       "y": round(height - h, 1), "h": h, "value": point[key]})
    ticks = [{"fen": f, "label": axis_label(f)} for f in (top, top // 2, 0)]
    return {"bars": shapes, "ticks": ticks, "width": width, "height": height}


def axis_label(fen: int) -> str:
    """Yuan as an axis writes them: 0.5, 20, 1,500, 2万, 1.5万."""
    yuan = fen / 100
    if yuan >= 10000:
        return f"{yuan / 10000:g}万"
    return f"{yuan:,.2f}".rstrip("0").rstrip(".")
