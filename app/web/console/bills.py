"""Console page 对账 (admins only): bill checks, their findings and both sides' figures, and a
form that checks a day's bill now."""

from __future__ import annotations

from flask import render_template, request
from werkzeug.wrappers import Response as BaseResponse

from app.services.payments import bill, bill_checks
from app.web.auth import actor, back, signed_in
from app.web.console.blueprint import console_blueprint
from app.web.context import deps, get_session

bp = console_blueprint("console_bills", __name__)


@bp.app_template_filter("bill_status_name")
def _status_name(code: str) -> str:
    return bill_checks.STATUS_NAMES.get(code, code)


@bp.app_template_filter("finding_name")
def _finding_name(code: str) -> str:
    return bill_checks.FINDING_NAMES.get(code, code)


@bp.get("/bills")
@signed_in
def bills_page() -> str:
    checks = bill_checks.list_checks(get_session(), actor())
    default = bill_checks.yesterday(deps().clock()).isoformat()
    return render_template("admin/bills.html", checks=checks, default_date=default)


@bp.get("/bills/<day>")
@signed_in
def bill_page(day: str) -> str:
    check = bill_checks.latest_check(get_session(), actor(), bill_checks.parse_bill_date(day))
    return render_template("admin/bill.html", c=check)


@bp.post("/bills")
@signed_in
def bill_submit() -> BaseResponse:
    """Check the day's bill now; WeChat Pay's own answer (no bill yet) shows on the day's page."""
    day = bill_checks.parse_bill_date(request.form.get("date", ""))
    bill.check_bill(get_session(), deps(), actor(), day)
    return back("console_bills.bill_page", day=day.isoformat())
