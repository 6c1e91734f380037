"""Console pages everyone signed in may use: dashboard (live), donations, the unit report."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, render_template, request

from app.services.accounts import campaign_admin
from app.services.catalog import campaigns
from app.services.formatting import yuan
from app.services.reports import dashboard, donation_list, reports
from app.services.reports.charts import bars
from app.services.reports.exports import STATUS_NAMES
from app.services.units import unit_admin, unit_import
from app.web.admin_api.args import (
    campaign_code,
    cursor,
    donation_filter,
    page_limit,
    period,
    sort_by,
    unit_code,
)
from app.web.auth import actor, signed_in
from app.web.console.blueprint import console_blueprint
from app.web.context import deps, get_session

bp = console_blueprint("console_pages", __name__)


@bp.app_template_filter("yuan")
def _yuan(fen: int | None) -> str:
    return yuan(fen or 0)


@bp.app_template_filter("percent")
def _percent(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:.1f}%"


def _link_args(*dropped: str) -> dict[str, str]:
    """The page's query, to carry into its links: without empty values, `dropped`, and names
    url_for() keeps for itself (`endpoint`, `_external`, ...), which would break the link."""
    return {name: value for name, value in request.args.items()
            if value and name != "endpoint" and not name.startswith("_") and name not in dropped}


def _dashboard_data() -> dict[str, Any]:
    data = dashboard.dashboard(get_session(), actor(), campaign_code(), unit_code(),
                               deps().clock(), sort_by())
    data["day_chart"] = bars(data["chart"]["days"], "total_fen")
    data["hour_chart"] = bars(data["chart"]["hours"], "total_fen")
    return data


@bp.get("/")
@signed_in
def dashboard_page() -> str:
    return render_template("admin/dashboard.html", d=_dashboard_data(),
                           campaigns=campaign_admin.list_campaigns_admin(get_session()),
                           query=_link_args())


@bp.get("/live")
@signed_in
def dashboard_live() -> str:
    """The live part of the dashboard, re-fetched every few seconds by console.js."""
    return render_template("admin/_live.html", d=_dashboard_data(), query=_link_args())


@bp.get("/donations")
@signed_in
def donations_page() -> str:
    wanted = donation_filter()
    page = donation_list.list_donations(
        get_session(), actor(), wanted, cursor(), page_limit())
    args = _link_args("cursor")
    listed = campaign_admin.list_campaigns_admin(get_session())
    return render_template("admin/donations.html", page=page, f=wanted, args=args,
                           statuses=STATUS_NAMES, campaigns=listed,
                           campaign_names={c["code"]: c["name"] for c in listed})


@bp.get("/reports")
@signed_in
def reports_page() -> str:
    campaign = campaign_code()
    report = reports.unit_report(get_session(), actor(), campaign, unit_code(), period())
    args = _link_args()
    return render_template("admin/reports.html", report=report, args=args,
                           campaign=campaign,
                           campaigns=campaign_admin.list_campaigns_admin(get_session()))


@bp.get("/units")
@signed_in
def units_page() -> str:
    """Every unit in reach with its landing page, QR codes, mini-program code and posters for
    one campaign, and the ZIP of a unit's whole subtree."""
    public = campaigns.list_campaigns(get_session())  # drafts have no pages or codes yet
    wanted = campaign_code()
    campaign = next((c for c in public if c["code"] == wanted), public[0] if public else None)
    return render_template("admin/units.html", campaign=campaign, campaigns=public,
                           units=unit_admin.units_in_tree_order(get_session(), actor()))


@bp.get("/units/template.csv")
@signed_in
def units_template() -> Response:
    """The unit import's template: the Chinese header and two example rows."""
    return Response(unit_import.template_csv(), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": _attachment("单位导入模板.csv")})


def _attachment(filename: str) -> str:
    return f"attachment; filename=\"units-template.csv\"; filename*=UTF-8''{quote(filename)}"
