"""What a unit's QR code, SVG and poster say for a campaign, drawn through `qr/`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from app.infra.render_cache import DrawingCache
from app.services.catalog.campaigns import find_public_campaign
from app.services.errors import InvalidRequestError
from app.services.formatting import yuan
from app.services.numbers import whole_number
from app.services.units.units import ancestor_path, find_unit
from models import Campaign, Unit
from qr.codes import DEFAULT_SIZE, MAX_SIZE, MIN_SIZE, etag_for, qr_png, qr_svg
from qr.posters import FontUnavailableError, PosterContent, poster_pdf, poster_png

__all__ = ["Drawing", "FontUnavailableError", "QrTarget", "find_target", "poster_drawing",
           "qr_drawing", "unit_link"]

FUND_NAME = "职工应急救助专项温暖基金"
CALL_TO_ACTION = "微信扫一扫，奉献一份爱心"
PATH_SEPARATOR = " › "


@dataclass(frozen=True)
class QrTarget:
    """A unit and a campaign, and the link that opens the mini-program on them."""

    unit: Unit
    campaign: Campaign
    path: list[dict[str, str]]
    link: str


@dataclass(frozen=True)
class Drawing:
    """Bytes ready to serve: content type and a strong ETag naming what was drawn."""

    body: bytes
    content_type: str
    etag: str


def unit_link(public_url: str, unit_code: str, campaign_code: str) -> str:
    return f"{public_url.rstrip('/')}/d/{unit_code}/{campaign_code}"


def find_target(session: Session, public_url: str, unit_code: str,
                campaign_code: str) -> QrTarget:
    """The unit and campaign behind a QR code; NotFoundError for an unknown code."""
    unit = find_unit(session, unit_code)
    campaign = find_public_campaign(session, campaign_code)
    link = unit_link(public_url, unit.code, campaign.code)
    return QrTarget(unit, campaign, ancestor_path(session, unit.id), link)


def parse_size(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_SIZE
    value = whole_number(raw, low=MIN_SIZE, high=MAX_SIZE)
    if value is None:
        raise InvalidRequestError(f"size 须为 {MIN_SIZE}–{MAX_SIZE} 之间的整数（像素）")
    return value


def qr_etag(link: str, kind: str, size: int) -> str:
    return etag_for(kind, link, str(size))


def qr_drawing(link: str, kind: str, size: int, drawings: DrawingCache) -> Drawing:
    """The QR code of `link` as "png" or "svg", `size` pixels square, drawn once per content
    (RendersBusyError when too many drawings are under way)."""
    etag = qr_etag(link, kind, size)
    if kind == "svg":
        return Drawing(drawings.fetch(etag, lambda: qr_svg(link, size)), "image/svg+xml", etag)
    return Drawing(drawings.fetch(etag, lambda: qr_png(link, size)), "image/png", etag)


def share_price(campaign: Campaign) -> str:
    whole, cents = divmod(campaign.amount_fen, 100)
    return f"每份 {whole} 元" if cents == 0 else f"每份 {yuan(campaign.amount_fen)} 元"


def poster_content(target: QrTarget) -> PosterContent:
    return PosterContent(
        campaign_name=target.campaign.name,
        campaign_title=f"{FUND_NAME} · {target.campaign.name}",
        unit_name=target.unit.name,
        unit_path=PATH_SEPARATOR.join(step["name"] for step in target.path),
        share_price=share_price(target.campaign),
        call_to_action=CALL_TO_ACTION,
        link=target.link,
    )


def poster_etag(target: QrTarget, kind: str, font: Path | None) -> str:
    return etag_for("poster", kind, *_content_parts(poster_content(target)), str(font or ""))


def poster_drawing(target: QrTarget, kind: str, font: Path | None,
                   drawings: DrawingCache) -> Drawing:
    """An A4 poster as "pdf" or "png", drawn once per content; FontUnavailableError for a PNG
    without a CJK font, RendersBusyError when too many drawings are under way."""
    content = poster_content(target)
    etag = poster_etag(target, kind, font)
    if kind == "png":
        return Drawing(drawings.fetch(etag, lambda: poster_png(content, font)), "image/png", etag)
    return Drawing(drawings.fetch(etag, lambda: poster_pdf(content, font)), "application/pdf",
                   etag)


def _content_parts(content: PosterContent) -> tuple[str, ...]:
    return (content.campaign_title, content.unit_name, content.unit_path, content.share_price,
            content.call_to_action, content.link)
