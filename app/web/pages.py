"""Public pages: landing pages, QR codes, mini-program codes, posters, WeChat's verification
file, and (with the local stand-in of WeChat only) a same-origin route to its payment button.

A PNG poster needs a font that draws Chinese; without one the route answers 503
`{"error": {"code": "font_unavailable", ...}}` and points to the PDF, which never needs one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import requests
from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.infra.render_cache import RendersBusyError
from app.services.catalog import campaigns, entry
from app.services.codes import qr_codes, wxacode
from app.services.codes.qr_codes import Drawing, QrTarget
from app.services.errors import NotFoundError
from app.services.formatting import yuan
from app.web.context import deps, get_session, runtime

bp = Blueprint("pages", __name__)

QR_CACHE = "public, max-age=86400"
POSTER_CACHE = "public, max-age=300"
LANDING_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
_OUT_TRADE_NO = re.compile(r"[A-Za-z0-9_-]{1,32}")


def _target(unit_code: str, campaign_code: str) -> QrTarget:
    return qr_codes.find_target(get_session(), deps().public_url, unit_code, campaign_code)


def _split(filename: str, kinds: tuple[str, ...]) -> tuple[str, str]:
    campaign_code, _, kind = filename.partition(".")
    if kind not in kinds:
        raise NotFoundError()
    return campaign_code, kind


def _serve(drawing: Drawing, cache: str) -> Response:
    reply = Response(drawing.body, content_type=drawing.content_type)
    return _with_validators(reply, drawing.etag, cache)


def _with_validators(reply: Response, etag: str, cache: str) -> Response:
    reply.headers["ETag"] = etag
    reply.headers["Cache-Control"] = cache
    return reply


def _not_modified(etag: str, cache: str) -> Response | None:
    if not request.if_none_match.contains(etag.strip('"')):
        return None
    return _with_validators(Response(status=304), etag, cache)


@bp.errorhandler(RendersBusyError)
def _renders_busy(_exc: RendersBusyError) -> tuple[Response, int]:
    message = "正在生成的二维码和海报较多，请稍后再试"
    reply = jsonify({"error": {"code": "busy", "message": message}})
    reply.headers["Retry-After"] = "1"
    return reply, 503


@bp.get("/qr/<unit_code>/<filename>")
def qr_image(unit_code: str, filename: str) -> Response:
    campaign_code, kind = _split(filename, ("png", "svg", "wxacode.png"))
    target = _target(unit_code, campaign_code)
    if kind == "wxacode.png":
        return _wxacode(target)
    size = qr_codes.parse_size(request.args.get("size"))
    cached = _not_modified(qr_codes.qr_etag(target.link, kind, size), QR_CACHE)
    return cached or _serve(qr_codes.qr_drawing(target.link, kind, size, runtime().drawings),
                            QR_CACHE)


def _wxacode(target: QrTarget) -> Response:
    settings = runtime().settings
    wanted = wxacode.WxacodeRequest(
        scene=entry.build_scene(target.unit.code, target.campaign.code),
        page=settings.get("wechat.miniprogram", "page"),
        env_version=settings.get("wechat.miniprogram", "env_version"))
    image = wxacode.cached_wxacode(runtime().wxacodes, deps().miniprogram, wanted)
    etag = '"wxa-' + wanted.key()[:32] + '"'
    drawing = Drawing(image, wxacode.image_type(image), etag)
    return _not_modified(etag, QR_CACHE) or _serve(drawing, QR_CACHE)


def poster_font() -> Path | None:
    return runtime().poster_fonts.find()


@bp.get("/posters/<unit_code>/<filename>")
def poster(unit_code: str, filename: str) -> Response | tuple[Response, int]:
    campaign_code, kind = _split(filename, ("pdf", "png"))
    target, font = _target(unit_code, campaign_code), poster_font()
    cached = _not_modified(qr_codes.poster_etag(target, kind, font), POSTER_CACHE)
    if cached:
        return cached
    try:
        drawing = qr_codes.poster_drawing(target, kind, font, runtime().drawings)
    except qr_codes.FontUnavailableError:
        return _font_unavailable(target)
    return _serve(drawing, POSTER_CACHE)


def _font_unavailable(target: QrTarget) -> tuple[Response, int]:
    pdf = f"/posters/{target.unit.code}/{target.campaign.code}.pdf"
    message = ("服务器没有安装中文字体，暂时无法生成 PNG 海报；请下载 PDF 海报：" + pdf
               + "（管理员可安装 fonts-wqy-microhei 或设置 [qr].font_path）")
    return jsonify({"error": {"code": "font_unavailable", "message": message}}), 503


@bp.get("/")
def home() -> BaseResponse:
    """Workers arrive at a unit's landing page (/d/…) from its code; whoever opens the bare
    address is staff looking for the console."""
    return redirect(url_for("console_pages.dashboard_page"))


@bp.get("/d/<unit_code>/<campaign_code>")
def landing(unit_code: str, campaign_code: str) -> Response | tuple[str, int]:
    session = get_session()
    try:
        target = _target(unit_code, campaign_code)
    except NotFoundError as exc:
        return render_template("pages/not_found.html", message=exc.message), 404
    html = render_template("pages/landing.html", **_landing_context(session, target))
    reply = Response(html, content_type="text/html; charset=utf-8")
    reply.headers["Content-Security-Policy"] = LANDING_CSP
    reply.headers["Cache-Control"] = "no-cache"
    return reply


def _landing_context(session: Any, target: QrTarget) -> dict[str, Any]:
    unit = campaigns.unit_view(session, target.unit)
    campaign = campaigns.campaign_view(session, target.campaign)
    totals = next((t for t in unit["totals"] if t["campaign"] == campaign["code"]),
                  {"total_fen": 0, "donation_count": 0, "donor_count": 0})
    return {"unit": unit, "campaign": campaign, "unit_totals": totals, "link": target.link,
            "share_price": qr_codes.share_price(target.campaign),
            "simulate": runtime().simulator is not None, "yuan": format_yuan}


def format_yuan(fen: int) -> str:
    """1234567 -> "12,345.67"; the landing page's script formats the same way."""
    return yuan(fen, grouped=True)


def _verification_file() -> Response:
    content = runtime().settings.get("wechat.miniprogram", "verify_file_content")
    return Response(content, content_type="text/plain; charset=utf-8")


@bp.record_once
def _route_verification_file(state: Any) -> None:
    # Only the configured name gets a route (no catch-all at the root): at the host root and
    # in /d/, the last directory of the link rule, where WeChat looks for it.
    name = state.app.extensions["warmfund"].settings.get("wechat.miniprogram",
                                                         "verify_file_name")
    if not name:
        return
    for rule in (f"/{name}", f"/d/{name}"):
        state.app.add_url_rule(rule, endpoint=f"pages.verify_file:{rule}",
                               view_func=_verification_file)


@bp.post("/dev/simulate-payment/<out_trade_no>")
def simulate_payment(out_trade_no: str) -> tuple[Response, int]:
    """Development only: pay an order at the stand-in, as a worker's phone would."""
    simulator = runtime().simulator
    if simulator is None or not _OUT_TRADE_NO.fullmatch(out_trade_no):
        abort(404)
    reply = requests.post(f"{simulator.url}/_sim/orders/{out_trade_no}/pay", json={},
                          timeout=15)
    return jsonify(reply.json()), reply.status_code
