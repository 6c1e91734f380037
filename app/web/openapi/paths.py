"""Every operation of the mini-program API, the admin API, the downloads, the public codes and
WeChat Pay's notifications: what it takes and what it answers, as data for the builder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.web.openapi.schemas import CAMPAIGN_CODE, DATE, UNIT_CODE, Schema

WORKER = "workerToken"
ADMIN = "adminToken"
CONSOLE = "consoleSession"
WECHATPAY = "wechatpaySignature"

PNG, SVG, PDF = "image/png", "image/svg+xml", "application/pdf"
CSV, ZIP = "text/csv", "application/zip"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_BODY = "text/csv"


@dataclass(frozen=True)
class Param:
    name: str
    where: str = "query"
    schema: Schema = field(default_factory=lambda: {"type": "string"})
    about: str = ""
    example: Any = None


@dataclass(frozen=True)
class Op:
    summary: str
    replies: dict[int, str]  # status -> schema name, or a media type for a file, or "" (none)
    errors: tuple[int, ...] = ()
    security: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    body: str | None = None  # schema name (JSON) or a media type
    tag: str = "mini-program"
    extra: dict[str, Any] = field(default_factory=dict)


def path_code(name: str, pattern: str, example: str) -> Param:
    return Param(name, "path", {"type": "string", "pattern": pattern}, example=example)


def day(name: str, about: str) -> Param:
    return Param(name, schema={"type": "string", "pattern": DATE}, about=about)


UNIT = path_code("unit_code", UNIT_CODE, "DX-XF")
CAMPAIGN = path_code("campaign_code", CAMPAIGN_CODE, "one-yuan")
UNIT_PATH = Param("code", "path", example="HC-A")
CAMPAIGN_PATH = Param("code", "path", example="one-yuan")
CURSOR = Param("cursor", about="`next` of the previous page")
PERIOD = (day("from", "Asia/Shanghai date, inclusive"), day("to", "Asia/Shanghai date, exclusive"))
DONATION_FILTER = (Param("campaign"), Param("unit", about="the unit and its subtree"),
                   Param("status"), *PERIOD, Param("openid"))
REPORT_QUERY = (Param("campaign", about="default one-yuan"), Param("unit"), *PERIOD)
SIZE = Param("size", schema={"type": "integer", "minimum": 128, "maximum": 2048},
             about="pixels, default 512")
ADMINS = (ADMIN, CONSOLE)
ADMIN_ERRORS = (400, 401, 403, 404, 429)


def admin(summary: str, replies: dict[int, str], *, errors: tuple[int, ...] = ADMIN_ERRORS,
          tag: str = "admin", **rest: Any) -> Op:
    return Op(summary, replies, errors, ADMINS, tag=tag, **rest)


def code_image(kind: str, media: str, summary: str, *extra_errors: int) -> Op:
    params = (SIZE,) if kind in ("png", "svg") else ()
    return Op(summary, {200: media, 304: ""}, (400, 404, 503, *extra_errors),
              params=(UNIT, CAMPAIGN, *params), tag="codes")


OPERATIONS: dict[tuple[str, str], Op] = {
    ("/api/openapi.json", "get"): Op("This description", {200: "object"}, tag="meta"),
    ("/healthz", "get"): Op("For load balancers: 200 when the database answers and its schema "
                            "is current, else 503", {200: "Health", 503: "Health"}, tag="meta"),
    ("/api/login", "post"): Op("Sign a worker in with the code from wx.login",
                               {200: "Token"}, (400, 401, 413, 429, 502), body="LoginRequest"),
    ("/api/campaigns", "get"): Op("Public campaigns (open and closed)", {200: "CampaignList"}),
    ("/api/campaigns/{code}", "get"): Op(
        "One public campaign and its totals", {200: "Campaign"}, (404,),
        params=(path_code("code", CAMPAIGN_CODE, "one-yuan"),)),
    ("/api/units/{code}", "get"): Op(
        "A unit, its path from the root and its subtree's totals", {200: "Unit"}, (404,),
        params=(path_code("code", UNIT_CODE, "HC-A"),)),
    ("/api/entry", "get"): Op(
        "What a scanned code opened", {200: "Entry"}, (400, 404),
        params=(Param("q", about="options.q: the ordinary-URL QR code's link"),
                Param("scene", about="options.scene: <unit>/<campaign>"))),
    ("/api/donations", "post"): Op(
        "Order a donation (an identical pending one of the same worker is handed back, 200)",
        {201: "Order", 200: "Order"}, (400, 401, 404, 409, 413, 429, 502), (WORKER,),
        body="OrderRequest"),
    ("/api/donations/{out_trade_no}", "get"): Op(
        "One of the worker's own donations", {200: "Donation"}, (401, 404, 502), (WORKER,),
        params=(Param("out_trade_no", "path"),)),
    ("/api/me/donations", "get"): Op(
        "The worker's donations, newest first, 20 a page", {200: "DonationPage"},
        (400, 401), (WORKER,), params=(CURSOR,)),
    # The admin API.
    ("/admin/api/token", "post"): Op(
        "A bearer token for an admin or organizer", {200: "Token"}, (400, 401, 413, 429),
        body="TokenRequest", tag="admin"),
    ("/admin/api/logout", "post"): admin("Revoke every token and session of the caller",
                                         {200: "Ok"}),
    ("/admin/api/me", "get"): admin("Who the token belongs to", {200: "Me"}),
    ("/admin/api/password", "post"): admin("Change one's own password", {200: "Ok"},
                                           body="PasswordChange"),
    ("/admin/api/campaigns", "get"): admin("Every campaign, drafts included",
                                           {200: "AdminCampaignList"}),
    ("/admin/api/campaigns", "post"): admin("Create a campaign (admins)",
                                            {201: "AdminCampaign"}, body="CampaignCreate"),
    ("/admin/api/campaigns/{code}", "patch"): admin(
        "Edit, open or close a campaign (admins)", {200: "AdminCampaign"},
        params=(CAMPAIGN_PATH,), body="CampaignChanges"),
    ("/admin/api/campaigns/{code}/totals", "get"): admin(
        "A campaign's figures per unit in scope", {200: "CampaignTotals"},
        params=(CAMPAIGN_PATH, Param("unit"), *PERIOD)),
    ("/admin/api/dashboard", "get"): admin(
        "Everything the dashboard shows", {200: "Dashboard"},
        params=(Param("campaign"), Param("unit"),
                Param("sort", about="amount, donations, donors or rate"))),
    ("/admin/api/donations", "get"): admin(
        "Donations in scope, newest first", {200: "AdminDonationPage"},
        params=(*DONATION_FILTER, CURSOR,
                Param("limit", schema={"type": "integer", "minimum": 1, "maximum": 500}))),
    ("/admin/api/donations/{out_trade_no}/refund", "post"): admin(
        "Refund a paid donation, whole or in part (admins)", {202: "RefundStarted"},
        errors=(*ADMIN_ERRORS, 409, 502), params=(Param("out_trade_no", "path"),),
        body="RefundRequest"),
    ("/admin/api/refunds", "get"): admin(
        "Refunds, newest first (admins)", {200: "RefundList"},
        params=(Param("out_trade_no"), Param("status"))),
    ("/admin/api/bills", "get"): admin("The latest trade bill checks, newest first (admins)",
                                       {200: "BillCheckList"}),
    ("/admin/api/bills/{day}", "get"): admin(
        "The day's latest trade bill check with its findings (admins)", {200: "BillCheckDetail"},
        params=(Param("day", "path", {"type": "string"}, example="2026-12-01"),)),
    ("/admin/api/accounts", "get"): admin("Accounts (admins)", {200: "AccountList"}),
    ("/admin/api/accounts", "post"): admin("Create an account (admins)", {201: "Account"},
                                           body="AccountCreate"),
    ("/admin/api/accounts/import", "post"): admin(
        "Create organizers from a CSV: username,unit[,role][,password] (admins)",
        {201: "ImportedAccounts"}, body=CSV_BODY, errors=(*ADMIN_ERRORS, 413),
        extra={"x-multipart-field": "file"}),
    ("/admin/api/accounts/{username}", "patch"): admin(
        "Enable, disable or reset the password of an account (admins)", {200: "Account"},
        params=(Param("username", "path"),), body="AccountChanges"),
    ("/admin/api/audit", "get"): admin("Admin actions, newest first (admins)",
                                       {200: "AuditPage"},
                                       params=(Param("action"), CURSOR)),
    ("/admin/api/notifications", "get"): admin(
        "Notifications received, newest first (admins)", {200: "NotificationPage"},
        params=(Param("verdict"), CURSOR)),
    ("/admin/api/notifications/{notification_id}", "get"): admin(
        "One notification with its headers and raw body; the read is audited (admins)",
        {200: "NotificationDetail"},
        params=(Param("notification_id", "path", {"type": "integer", "minimum": 0}),)),
    ("/admin/api/anomalies", "get"): admin(
        "Open anomalies, or all with all=1 (admins)", {200: "AnomalyList"},
        params=(Param("all"),)),
    ("/admin/api/anomalies/{anomaly_id}/resolve", "post"): admin(
        "Resolve an anomaly with a note (admins)", {200: "Anomaly"},
        params=(Param("anomaly_id", "path", {"type": "integer", "minimum": 0}),),
        body="Resolution"),
    ("/admin/api/units", "get"): admin("Units in scope, in tree order", {200: "AdminUnitList"}),
    ("/admin/api/units", "post"): admin("Create a unit (admins)", {201: "AdminUnit"},
                                        body="UnitCreate"),
    ("/admin/api/units/{code}", "patch"): admin(
        "Rename, move, re-kind or deactivate a unit (admins)", {200: "AdminUnit"},
        params=(UNIT_PATH,), body="UnitChanges"),
    ("/admin/api/units/{code}/qr-bundle.zip", "get"): admin(
        "QR codes and posters of a unit's whole subtree", {200: ZIP},
        params=(UNIT_PATH, Param("campaign", example="one-yuan")), tag="codes"),
    # Downloads.
    ("/admin/export/donations.csv", "get"): admin(
        "Donations as CSV (UTF-8 with a BOM)", {200: CSV}, params=DONATION_FILTER,
        tag="downloads"),
    ("/admin/export/donations.xlsx", "get"): admin(
        "Donations as a workbook", {200: XLSX}, params=DONATION_FILTER, tag="downloads"),
    ("/admin/export/units-report.csv", "get"): admin(
        "The per-unit report as CSV", {200: CSV}, params=REPORT_QUERY, tag="downloads"),
    ("/admin/export/units-report.xlsx", "get"): admin(
        "The per-unit report as a workbook", {200: XLSX}, params=REPORT_QUERY,
        tag="downloads"),
    ("/admin/export/units-report.pdf", "get"): admin(
        "The per-unit report as an A4 PDF", {200: PDF}, params=REPORT_QUERY, tag="downloads"),
    # Public codes and posters: cached by content (ETag, 304); 503 while too many are drawn.
    ("/qr/{unit_code}/{campaign_code}.png", "get"): code_image(
        "png", PNG, "The unit's QR code (its link) as PNG"),
    ("/qr/{unit_code}/{campaign_code}.svg", "get"): code_image(
        "svg", SVG, "The unit's QR code as SVG"),
    ("/qr/{unit_code}/{campaign_code}.wxacode.png", "get"): code_image(
        "wxacode", PNG, "The unit's mini-program code (from WeChat, kept on disk)", 502),
    ("/posters/{unit_code}/{campaign_code}.pdf", "get"): code_image(
        "pdf", PDF, "A printable A4 poster"),
    ("/posters/{unit_code}/{campaign_code}.png", "get"): code_image(
        "poster", PNG, "The A4 poster as PNG (503 font_unavailable without a CJK font)"),
    # WeChat Pay's side.
    ("/wechat/pay/notify", "post"): Op(
        "WeChat Pay's payment notification (APIv3: signed, resource encrypted)",
        {204: ""}, (400, 401, 413), (WECHATPAY,), body="object", tag="wechat-pay"),
    ("/wechat/pay/refund-notify", "post"): Op(
        "WeChat Pay's refund notification (APIv3: signed, resource encrypted)",
        {204: ""}, (400, 401, 413), (WECHATPAY,), body="object", tag="wechat-pay"),
}

