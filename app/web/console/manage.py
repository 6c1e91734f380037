"""Console pages for admins: campaigns, accounts (one by one or from a CSV), audit trail."""

from __future__ import annotations

from flask import Response, flash, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from app.services.accounts import account_import, accounts, anomalies, audit, campaign_admin
from app.services.accounts.campaign_admin import CampaignChanges
from app.services.errors import DomainError
from app.web.admin_api.args import cursor
from app.web.auth import actor, back, signed_in
from app.web.console import audit_text
from app.web.console.blueprint import console_blueprint
from app.web.context import deps, get_session
from app.web.parsing import form_fen, query_arg

bp = console_blueprint("console_manage", __name__)

# What the audit page shows a clerk for the codes the API and the database keep.
VERDICT_NAMES = {
    "recorded": "已入账", "duplicate": "重复通知（已忽略）",
    "paid_after_close": "关单后支付（已入账）", "disputed": "金额不符（未入账）",
    "unknown_order": "未知订单", "conflict": "单号冲突",
    "ignored": "无需处理", "not_success": "未支付成功",
    "bad_signature": "签名错误（已拒绝）", "stale": "时间戳过期（已拒绝）",
    "unknown_serial": "未知证书（已拒绝）", "signtest": "签名探测（已拒绝）",
    "decrypt_failed": "解密失败", "malformed": "报文格式错误", "wrong_merchant": "非本商户",
    "refunded": "已退款（已扣减）", "refund_closed": "退款关闭", "refund_abnormal": "退款异常",
    "refund_processing": "退款处理中",
}
NOTIFICATION_KIND_NAMES = {"payment": "支付", "refund": "退款"}
ACTION_NAMES = {
    "account.login": "登录", "account.login_failed": "登录失败", "account.locked": "账号锁定",
    "account.logout": "退出登录", "account.create": "创建账号", "account.disable": "停用账号",
    "account.enable": "启用账号", "account.reset_password": "重置密码",
    "account.change_password": "修改密码", "anomaly.resolve": "处理异常", "bill.check": "对账",
    "campaign.create": "新建项目", "campaign.update": "修改项目",
    "export.donations": "导出捐款明细", "export.report": "导出单位报表",
    "notification.view": "查看通知原文", "unit.create": "新建单位", "unit.update": "修改单位",
    "unit.import": "导入单位", "unit.qr_bundle": "下载二维码包", "donation.refund": "发起退款",
}


@bp.app_template_filter("verdict_name")
def _verdict_name(code: str) -> str:
    return VERDICT_NAMES.get(code, code)


@bp.app_template_filter("kind_name")
def _kind_name(code: str) -> str:
    return NOTIFICATION_KIND_NAMES.get(code, code)


@bp.app_template_filter("action_name")
def _action_name(code: str) -> str:
    return ACTION_NAMES.get(code, code)


def _changes() -> CampaignChanges:
    form = request.form
    return CampaignChanges(name=form.get("name") or None, amount_fen=form_fen("amount_yuan"),
                           goal_fen=form_fen("goal_yuan"), starts_on=form.get("starts_on"),
                           ends_on=form.get("ends_on"), description=form.get("description"),
                           status=form.get("status") or None)


@bp.get("/campaigns")
@signed_in
def campaigns_page() -> str:
    actor().require_admin()
    return render_template("admin/campaigns.html",
                           campaigns=campaign_admin.list_campaigns_admin(get_session()))


@bp.post("/campaigns")
@signed_in
def campaigns_submit() -> BaseResponse:
    code = request.form.get("code", "")
    try:
        if request.form.get("existing"):
            campaign_admin.update_campaign(get_session(), actor(), code, _changes(),
                                           deps().clock())
            flash(f"项目 {code} 已保存", "info")
        else:
            campaign_admin.create_campaign(get_session(), actor(), code, _changes(),
                                           deps().clock())
            flash(f"项目 {code} 已创建（草稿，开放后才接受捐款）", "info")
    except DomainError as exc:
        flash(exc.message, "error")
    return back("console_manage.campaigns_page")


@bp.get("/accounts")
@signed_in
def accounts_page() -> str:
    return render_template("admin/accounts.html",
                           accounts=accounts.accounts_for(get_session(), actor()))


@bp.post("/accounts")
@signed_in
def accounts_submit() -> BaseResponse:
    form, session, now = request.form, get_session(), deps().clock()
    name = form.get("username", "")
    try:
        if form.get("op") == "disable":
            accounts.disable_account(session, actor(), name, now)
        elif form.get("op") == "enable":
            accounts.enable_account(session, actor(), name, now)
        elif form.get("op") == "reset":
            accounts.reset_password(session, actor(), name, form.get("password", ""), now)
        else:
            accounts.create_account(session, actor(), username=name,
                                    password=form.get("password", ""),
                                    role=form.get("role", "organizer"),
                                    unit_code=form.get("unit") or None, now=now)
        flash(f"账号 {name} 已更新", "info")
    except DomainError as exc:
        flash(exc.message, "error")
    return back("console_manage.accounts_page")


@bp.post("/accounts/import")
@signed_in
def accounts_import() -> Response | BaseResponse:
    upload = request.files.get("file")
    try:
        rows = account_import.read_accounts_csv(upload.read() if upload else b"")
        created = account_import.import_accounts(get_session(), actor(), rows, deps().clock())
    except DomainError as exc:
        flash(exc.message, "error")
        return back("console_manage.accounts_page")
    # The generated passwords are shown once, as a download, and never stored in clear.
    body = "\ufeff" + account_import.credentials_csv(created)
    return Response(body.encode("utf-8"), content_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="new-accounts.csv"',
        "Cache-Control": "no-store"})


@bp.get("/audit")
@signed_in
def audit_page() -> str:
    session, who = get_session(), actor()
    campaign_names = {c["code"]: c["name"] for c in campaign_admin.list_campaigns_admin(session)}
    return render_template(
        "admin/audit.html", describe=audit_text.describe, campaign_names=campaign_names,
        actions=audit.list_actions(session, who, cursor()),
        notifications=audit.list_notifications(session, who, None,
                                               query_arg("verdict", max_length=20)),
        anomalies=anomalies.list_anomalies(session, who,
                                           query_arg("all", max_length=3) != "1"))


@bp.get("/notifications/<int(max=9223372036854775807):notification_id>")
@signed_in
def notification_page(notification_id: int) -> str:
    found = audit.notification_detail(get_session(), actor(), notification_id, deps().clock())
    return render_template("admin/notification.html", n=found)


@bp.post("/anomalies/<int(max=2147483647):anomaly_id>")
@signed_in
def anomaly_submit(anomaly_id: int) -> BaseResponse:
    try:
        anomalies.resolve_anomaly(get_session(), actor(), anomaly_id,
                                  request.form.get("resolution", ""), deps().clock())
        flash("已标记为已处理", "info")
    except DomainError as exc:
        flash(exc.message, "error")
    return back("console_manage.audit_page")
