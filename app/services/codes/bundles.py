"""ZIP bundles of QR codes and posters: each active unit's PNG, SVG and poster PDF, in folders
that follow the unit tree (`大兴区总工会 DX/兴丰街道总工会 DX-XF/DX-XF-one-yuan.png`)."""

from __future__ import annotations

import io
import multiprocessing
import re
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.accounts.audit import record_action
from app.services.actor import Actor
from app.services.catalog.campaigns import find_campaign
from app.services.codes.qr_codes import QrTarget, poster_content, unit_link
from app.services.errors import InvalidRequestError
from app.services.units.unit_admin import require_in_scope
from app.services.units.units import ancestors, find_unit, subtree_ids
from models import Campaign, Unit
from models.database import write_transaction
from qr.codes import qr_png, qr_svg
from qr.posters import PosterContent, poster_pdf

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
    root = find_unit(session, root_code) if root_code else None
    chosen = set(subtree_ids(session, root.id)) if root else set(units)
    stop = root.parent_id if root else None
    entries = [BundleEntry(u, *_folder(units, u, stop)) for u in units.values()
               if u.id in chosen and u.active]
    return campaign, entries


def _folder(units: dict[int, Unit], unit: Unit,
            stop: int | None) -> tuple[str, list[dict[str, str]]]:
    parents = {unit_id: u.parent_id for unit_id, u in units.items()}
    chain = [units[unit_id] for unit_id in ancestors(parents, unit.id)]
    path = [{"code": u.code, "name": u.name} for u in reversed(chain)]
    cut = list(reversed(chain))
    if stop is not None:
        cut = cut[next(i for i, u in enumerate(cut) if u.parent_id == stop):]
    return "/".join(_safe(f"{u.name} {u.code}") for u in cut), path


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name).strip(". ") or "_"


@dataclass(frozen=True)
class DrawJob:
    """Everything needed to draw one unit's files, as plain values (sent to worker processes)."""

    stem: str
    link: str
    poster: PosterContent
    font: str | None


def write_bundle(out: IO[bytes], public_url: str, campaign: Campaign,
                 entries: list[BundleEntry], font: Path | None,
                 progress: Progress | None = None, workers: int = 1) -> int:
    """Write the ZIP to `out`; returns the number of units drawn. With `workers` > 1 the
    drawing (~20 ms a unit) runs in that many processes; the ZIP is written here."""
    jobs = [_job(public_url, campaign, entry, font) for entry in entries]
    with zipfile.ZipFile(out, "w") as archive:
        for files in draw_all(jobs, workers):
            for name, body, compress in files:
                archive.writestr(name, body, compress_type=compress)
            if progress is not None:
                progress(1)
    return len(jobs)


def _job(public_url: str, campaign: Campaign, entry: BundleEntry, font: Path | None) -> DrawJob:
    link = unit_link(public_url, entry.unit.code, campaign.code)
    target = QrTarget(entry.unit, campaign, entry.path, link)
    return DrawJob(f"{entry.folder}/{entry.unit.code}-{campaign.code}", link,
                   poster_content(target), str(font) if font else None)


def draw_all(jobs: list[DrawJob], workers: int) -> Iterator[list[tuple[str, bytes, int]]]:
    """Each job's files, in order."""
    if workers <= 1 or len(jobs) < 2 * workers:
        yield from map(draw_unit, jobs)
        return
    # spawn, not fork: the app may be running threads (the stand-in of WeChat, a pool).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(draw_unit, jobs, chunksize=max(1, len(jobs) // (workers * 8)))


def draw_unit(job: DrawJob) -> list[tuple[str, bytes, int]]:
    """(name, bytes, ZIP compression) of a unit's PNG, SVG and poster PDF."""
    font = Path(job.font) if job.font else None
    # PNG and PDF are compressed already; deflating them again only costs time.
    return [(job.stem + ".png", qr_png(job.link, PNG_SIZE), zipfile.ZIP_STORED),
            (job.stem + ".svg", qr_svg(job.link, PNG_SIZE), zipfile.ZIP_DEFLATED),
            (job.stem + "-poster.pdf", poster_pdf(job.poster, font), zipfile.ZIP_STORED)]


def subtree_bundle(session: Session, actor: Actor, unit_code: str, campaign_code: str,
                   public_url: str, font: Path | None, now: datetime) -> tuple[str, bytes]:
    """(file name, ZIP bytes) of one subtree's codes and posters — within the actor's scope,
    and recorded in the audit trail.

    A subtree's bundle is a few MB and built in memory; the whole district's is the CLI's job.
    """
    if not campaign_code:
        raise InvalidRequestError("缺少参数 campaign")
    require_in_scope(session, actor, find_unit(session, unit_code))
    campaign, entries = plan_bundle(session, campaign_code, unit_code)
    out = io.BytesIO()
    write_bundle(out, public_url, campaign, entries, font)
    name = f"{unit_code}-{campaign.code}-qr.zip"
    with write_transaction(session):  # last: it ends the read, expiring what that loaded
        record_action(session, actor, "unit.qr_bundle", unit_code, {"campaign": campaign_code},
                      now)
    return name, out.getvalue()
