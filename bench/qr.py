"""Time to issue a PNG, an SVG and a PDF poster for 1,000 units, beside the bare `qrcode` PNG of
the same links measured in the same run (shared machines are noisy: read the ratio).

    .venv/bin/python bench/qr.py [--units 1000]

Target: the whole batch under 20 s on a 2-core machine. Each unit's link is different, so the
per-link matrix cache only saves work within a unit (PNG, SVG and PDF share one encoding).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qrcode  # noqa: E402

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


def timed(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1000)
    count = parser.parse_args().units
    font = find_cjk_font(None)
    baseline = timed(lambda: [bare_png(link) for link in links(count)])
    qr_matrix.cache_clear()
    parts = {"png": 0.0, "svg": 0.0, "pdf poster": 0.0}
    poster_pdf(content(PUBLIC_URL, 0), font)  # registers the font once, as a server would

    def issue() -> None:
        for index, link in enumerate(links(count)):
            parts["png"] += timed(lambda: qr_png(link, 1024))  # noqa: B023
            parts["svg"] += timed(lambda: qr_svg(link, 1024))  # noqa: B023
            parts["pdf poster"] += timed(lambda: poster_pdf(content(link, index), font))  # noqa: B023

    total = timed(issue)
    print(f"units: {count}; font: {font or 'none (STSong-Light, not embedded)'}")
    print(f"bare qrcode PNG (EC M, box 10): {baseline:7.2f} s  ({baseline / count * 1000:.1f} ms/unit)")
    for name, seconds in parts.items():
        print(f"  {name:<11} {seconds:7.2f} s  ({seconds / count * 1000:.1f} ms/unit)")
    print(f"PNG + SVG + PDF poster:         {total:7.2f} s  ({total / count * 1000:.1f} ms/unit)")
    print(f"ratio to bare qrcode PNG: {total / baseline:.2f}x")
    budget = TARGET_SECONDS * count / 1000
    verdict = "OK" if total < budget else "OVER"
    print(f"target < {budget:.1f} s for {count} units: {verdict}")
    return 0 if total < budget else 1


if __name__ == "__main__":
    sys.exit(main())
