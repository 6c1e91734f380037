"""Admin API for admins only: checks of WeChat Pay's daily trade bill against the ledger."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.services.payments import bill_checks
from app.web.auth import current_actor
from app.web.context import get_session

bp = Blueprint("admin_bills", __name__, url_prefix="/admin/api")


@bp.get("/bills")
def list_bills() -> Response:
    """The latest checks, newest first."""
    return jsonify({"bills": bill_checks.list_checks(get_session(), current_actor())})


@bp.get("/bills/<day>")
def bill_of_day(day: str) -> Response:
    """The day's latest check, with its figures and findings."""
    actor = current_actor()
    return jsonify(bill_checks.latest_check(get_session(), actor,
                                            bill_checks.parse_bill_date(day)))
