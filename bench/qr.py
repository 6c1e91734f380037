"""Time to issue a PNG, an SVG and a PDF poster for 1,000 units, beside the bare `qrcode` PNG of
the same links measured in the same run (shared machines are noisy: read the ratio).

    .venv/bin/python bench/qr.py [--units 1000]

Target: the whole batch under 20 s on a 2-core machine. The batch is what `warmfund qr export`
runs (app.services.codes.bundles.draw_all: one process per core); each unit's link is different, so
the per-link matrix cache only saves work within a unit (PNG, SVG and PDF share one encoding).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qrcode  # noqa: E402

from app.services.codes.bundles import PNG_SIZE, DrawJob, draw_all
from qr.codes import qr_matrix, qr_png, qr_svg  # noqa: E402
from qr.fonts import find_cjk_font  # noqa: E402
from qr.posters import PosterContent, poster_pdf  # noqa: E402

TARGET_SECONDS = 20.0
PUBLIC_URL = "https://donate.example.org"


def links(count: int) -> list[str]:
    return [f"{PUBLIC_URL}/d/DX-U{index:05d}/one-yuan" for index in range(count)]


def content(link: str, index: int) -> PosterContent:
    return PosterContent(
        campaign_name="一元捐", campaign_title="职工应急救助专项温暖基金 · 一元捐",
        unit_name=f"大兴区第{index}基层工会联合会", unit_path="大兴区总工会 › 兴丰街道总工会",
        share_price="每份 1 元", call_to_action="微信扫一扫，奉献一份爱心", link=link)


def bare_png(link: str) -> bytes:
    buffer = io.BytesIO()
    qrcode.make(link).save(buffer)
    return buffer.getvalue()


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def jobs(count: int, font: Path | None) -> list[DrawJob]:
    return [DrawJob(f"U{index:05d}/U{index:05d}-one-yuan", link, content(link, index),
                    str(font) if font else None) for index, link in enumerate(links(count))]


def breakdown(sample: list[DrawJob]) -> dict[str, float]:
    """Seconds per unit of each file kind, one process, on fresh links."""
    qr_matrix.cache_clear()
    font = Path(sample[0].font) if sample[0].font else None
    parts = {"png": 0.0, "svg": 0.0, "pdf poster": 0.0}
    for job in sample:
        parts["png"] += timed(lambda: qr_png(job.link, PNG_SIZE))  # noqa: B023
        parts["svg"] += timed(lambda: qr_svg(job.link, PNG_SIZE))  # noqa: B023
        parts["pdf poster"] += timed(lambda: poster_pdf(job.poster, font))  # noqa: B023
    return {name: seconds / len(sample) for name, seconds in parts.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    options = parser.parse_args()
    count, font = options.units, find_cjk_font(None)
    baseline = timed(lambda: [bare_png(link) for link in links(count)])
    work = jobs(count, font)
    per_unit = breakdown(work[: max(1, count // 5)])
    qr_matrix.cache_clear()
    total = timed(lambda: [None for _ in draw_all(work, options.workers)])
    print(f"units: {count}; workers: {options.workers}; cores: {os.cpu_count()}; "
          f"font: {font or 'none (STSong-Light, not embedded)'}")
    print(f"bare qrcode PNG, 1 process:   {baseline:6.2f} s  "
          f"({baseline / count * 1e3:.1f} ms/unit)")
    for name, seconds in per_unit.items():
        print(f"  {name:<11} 1 process     {seconds * 1e3:6.1f} ms/unit")
    print(f"PNG + SVG + PDF poster batch: {total:6.2f} s  ({total / count * 1e3:.1f} ms/unit)")
    print(f"ratio batch / bare qrcode PNG: {total / baseline:.2f}")
    budget = TARGET_SECONDS * count / 1000
    print(f"target < {budget:.1f} s: {'OK' if total < budget else 'OVER'}")
    return 0 if total < budget else 1


if __name__ == "__main__":
    sys.exit(main())
