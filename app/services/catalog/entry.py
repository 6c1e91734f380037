"""What a scan opened: an ordinary-URL QR link (`options.q`) or a mini-program code's scene."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session

from app.services.catalog.campaigns import campaign_view, find_public_campaign, unit_view
from app.services.errors import InvalidRequestError
from app.services.units.units import find_unit

MAX_SCENE = 32
LINK_PREFIX = "/d/"


def build_scene(unit_code: str, campaign_code: str) -> str:
    """`<unit_code>/<campaign_code>`, which WeChat limits to 32 characters."""
    scene = f"{unit_code}/{campaign_code}"
    if len(scene) > MAX_SCENE:
        raise InvalidRequestError(
            f"小程序码的 scene「{scene}」共 {len(scene)} 个字符，超过微信限制的 {MAX_SCENE} 个；"
            "请缩短单位编码或项目编码，或使用普通二维码")
    return scene


def codes_from_link(public_url: str, link: str) -> tuple[str, str]:
    """(unit, campaign) from `{public_url}/d/<unit>/<campaign>`; a link elsewhere is refused."""
    if not link.lower().startswith(("http://", "https://")) and "%" in link:
        link = unquote(link)  # options.q passed on still encoded
    try:
        parts, base = urlsplit(link), urlsplit(public_url)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise InvalidRequestError("链接格式不正确") from exc
    if (parts.scheme.lower(), parts.netloc.lower()) != (base.scheme.lower(), base.netloc.lower()):
        raise InvalidRequestError("这不是本平台的捐款链接")
    prefix = base.path.rstrip("/") + LINK_PREFIX
    if not parts.path.startswith(prefix):
        raise InvalidRequestError("链接格式不正确")
    return _two_codes(parts.path[len(prefix):].rstrip("/"))


def codes_from_scene(scene: str) -> tuple[str, str]:
    if "%" in scene:
        scene = unquote(scene)  # options.scene arrives encoded
    return _two_codes(scene)


def _two_codes(text: str) -> tuple[str, str]:
    pieces = text.split("/")
    if len(pieces) != 2 or not all(pieces):
        raise InvalidRequestError("链接应为 /d/<单位编码>/<项目编码>")
    return pieces[0], pieces[1]


def resolve_entry(session: Session, public_url: str, q: str | None,
                  scene: str | None) -> dict[str, Any]:
    """{"unit": Unit, "campaign": Campaign} — inactive units and closed campaigns included."""
    if q:
        unit_code, campaign_code = codes_from_link(public_url, q)
    elif scene:
        unit_code, campaign_code = codes_from_scene(scene)
    else:
        raise InvalidRequestError("缺少扫码得到的链接或小程序码内容")
    unit = find_unit(session, unit_code)
    campaign = find_public_campaign(session, campaign_code)
    return {"unit": unit_view(session, unit), "campaign": campaign_view(session, campaign)}
