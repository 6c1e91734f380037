"""Admin API: campaigns (list, create, edit), totals, date-range figures, dashboard, donations."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from app.services.accounts import campaign_admin
from app.services.accounts.campaign_admin import CampaignChanges
from app.services.reports import dashboard, donation_list, reports
from app.web.admin_api.args import (
    campaign_code,
    cursor,
    donation_filter,
    page_limit,
    period,
    sort_by,
    unit_code,
)
from app.web.auth import current_actor
from app.web.context import deps, get_session
from app.web.parsing import field, json_body

bp = Blueprint("admin_data", __name__, url_prefix="/admin/api")


def campaign_changes(body: dict[str, Any]) -> CampaignChanges:
    return CampaignChanges(
        name=field(body, "name", str, default=None),
        amount_fen=field(body, "amount_fen", int, default=None),
        goal_fen=field(body, "goal_fen", int, default=None),
        starts_on=field(body, "starts_on", str, default=None),
        ends_on=field(body, "ends_on", str, default=None),
        description=field(body, "description", str, default=None),
        status=field(body, "status", str, default=None))


@bp.get("/campaigns")
def list_campaigns() -> Response:
    current_actor()
    return jsonify({"campaigns": campaign_admin.list_campaigns_admin(get_session())})


@bp.post("/campaigns")
def create_campaign() -> tuple[Response, int]:
    actor = current_actor()
    body = json_body()
    created = campaign_admin.create_campaign(get_session(), actor, field(body, "code", str),
                                             campaign_changes(body), deps().clock())
    return jsonify(created), 201


@bp.patch("/campaigns/<code>")
def update_campaign(code: str) -> Response:
    actor = current_actor()
    changes = campaign_changes(json_body())
    return jsonify(campaign_admin.update_campaign(get_session(), actor, code, changes,
                                                  deps().clock()))


@bp.get("/campaigns/<code>/totals")
def campaign_totals(code: str) -> Response:
    actor = current_actor()
    return jsonify(reports.campaign_totals(get_session(), actor, code,
                                           unit_code(), period()))


@bp.get("/dashboard")
def dashboard_data() -> Response:
    actor = current_actor()
    return jsonify(dashboard.dashboard(
        get_session(), actor, campaign_code(), unit_code(), deps().clock(), sort_by()))


@bp.get("/donations")
def list_donations() -> Response:
    actor = current_actor()
    return jsonify(donation_list.list_donations(
        get_session(), actor, donation_filter(), cursor(), page_limit()))
