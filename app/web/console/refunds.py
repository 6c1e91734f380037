"""Console pages for refunds (admins only): the refunds view, and 退款 in two steps — the form,
then a confirmation that repeats the amount and the reason before anything is sent."""

from __future__ import annotations

from flask import flash, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from app.services.errors import DomainError
from app.services.payments import refunds
from app.web.auth import actor, back, signed_in
from app.web.console.blueprint import console_blueprint
from app.web.context import deps, get_session
from app.web.parsing import form_fen, query_arg

bp = console_blueprint("console_refunds", __name__)


def _asked() -> refunds.RefundAsked:
    return refunds.RefundAsked(request.form.get("out_trade_no", "").strip(),
                               request.form.get("reason", ""), form_fen("amount_yuan"))


@bp.get("/refunds")
@signed_in
def refunds_page() -> str:
    listed = refunds.list_refunds(get_session(), actor(),
                                  out_trade_no=query_arg("out_trade_no", max_length=32),
                                  status=query_arg("status", max_length=10))
    return render_template("admin/refunds.html", refunds=listed,
                           out_trade_no=request.args.get("out_trade_no", ""),
                           statuses=refunds.STATUS_NAMES)


@bp.post("/refunds/confirm")
@signed_in
def refund_confirm() -> str | BaseResponse:
    try:
        preview = refunds.preview_refund(get_session(), actor(), _asked())
    except DomainError as exc:
        flash(exc.message, "error")
        return back("console_refunds.refunds_page",
                    out_trade_no=request.form.get("out_trade_no", "")[:32])
    return render_template("admin/refunds.html", confirm=preview, refunds=[],
                           statuses=refunds.STATUS_NAMES)


@bp.post("/refunds")
@signed_in
def refund_submit() -> BaseResponse:
    asked = _asked()
    try:
        started = refunds.request_refund(get_session(), deps(), actor(), asked)
        flash(f"退款 {started['out_refund_no']} 已提交微信支付，结果以微信支付通知为准", "info")
    except DomainError as exc:
        flash(exc.message, "error")
    return back("console_refunds.refunds_page", out_trade_no=asked.out_trade_no[:32])
