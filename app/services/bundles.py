"""ZIP bundles of QR codes and posters: each active unit's PNG, SVG and poster PDF, in folders
that follow the unit tree (`大兴区总工会 DX/兴丰街道总工会 DX-XF/DX-XF-one-yuan.png`)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.campaigns import find_campaign
from app.services.qr_codes import QrTarget, poster_drawing, qr_drawing, unit_link
from app.services.units import subtree_ids
from models import Campaign, Unit

Progress = Callable[[int], None]
PNG_SIZE = 1024
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


@dataclass(frozen=True)
class BundleEntry:
    unit: Unit
    folder: str
    path: list[dict[str, str]]


def plan_bundle(session: Session, campaign_code: str,
                root_code: str | None = None) -> tuple[Campaign, list[BundleEntry]]:
    """The campaign and every active unit to draw, under `root_code` (None: the whole tree)."""
    campaign = find_campaign(session, campaign_code)
    units = {u.id: u for u in session.scalars(select(Unit).order_by(Unit.id))}
    root = next((u for u in units.values() if u.code == root_code), None) if root_code else None
    chosen = set(subtree_ids(session, root.id)) if root else set(units)
    stop = root.parent_id if root else None
    entries = [BundleEntry(u, *_folder(units, u, stop)) for u in units.values()
               if u.id in chosen and u.active]
    return campaign, entries


def _folder(units: dict[int, Unit], unit: Unit,
            stop: int | None) -> tuple[str, list[dict[str, str]]]:
    chain: list[Unit] = []
    current: Unit | None = unit
    while current is not None:
        chain.append(current)
        parent_id = current.parent_id
        current = units.get(parent_id) if parent_id is not None else None
    path = [{"code": u.code, "name": u.name} for u in reversed(chain)]
    cut = list(reversed(chain))
    if stop is not None:
        cut = cut[next(i for i, u in enumerate(cut) if u.parent_id == stop):]
    return "/".join(_safe(f"{u.name} {u.code}") for u in cut), path


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name).strip(". ") or "_"


def write_bundle(out: IO[bytes], public_url: str, campaign: Campaign,
                 entries: list[BundleEntry], font: Path | None,
                 progress: Progress | None = None) -> int:
    """Write the ZIP to `out`; returns the number of units drawn."""
    with zipfile.ZipFile(out, "w") as archive:
        for entry in entries:
            _add_unit(archive, public_url, campaign, entry, font)
            if progress is not None:
                progress(1)
    return len(entries)


def _add_unit(archive: zipfile.ZipFile, public_url: str, campaign: Campaign,
              entry: BundleEntry, font: Path | None) -> None:
    link = unit_link(public_url, entry.unit.code, campaign.code)
    stem = f"{entry.folder}/{entry.unit.code}-{campaign.code}"
    target = QrTarget(entry.unit, campaign, entry.path, link)
    # PNG and PDF are compressed already; deflating them again only costs time.
    archive.writestr(stem + ".png", qr_drawing(link, "png", PNG_SIZE).body)
    archive.writestr(stem + ".svg", qr_drawing(link, "svg", PNG_SIZE).body,
                     compress_type=zipfile.ZIP_DEFLATED)
    archive.writestr(stem + "-poster.pdf", poster_drawing(target, "pdf", font).body)
