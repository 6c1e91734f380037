"""Posters over HTTP: an A4 PDF whose QR code decodes and whose Chinese text extracts, a PNG,
and a clear answer when no Chinese font is installed."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image

from qr.fonts import CjkFontFinder
from tests.helpers import Api
from tests.qr.helpers import A4_POINTS, decoded_texts, installed_cjk_font, render_pdf

TITLE = "职工应急救助专项温暖基金 · 一元捐"


def _render(pdf: bytes) -> tuple[Image.Image, str, tuple[float, float]]:
    image, text, size, _title = render_pdf(pdf)
    return image, text, size


def test_pdf_poster_is_a4_with_title_unit_price_and_a_readable_code(api: Api,
                                                                    tree: None) -> None:
    reply = api.get("/posters/HC-A/one-yuan.pdf")
    assert reply.status_code == 200
    assert reply.content_type == "application/pdf"
    image, text, size = _render(reply.data)
    assert size == pytest.approx(A4_POINTS, abs=1)
    assert decoded_texts(image) == [f"{api.runtime.deps.public_url}/d/HC-A/one-yuan"]
    for expected in (TITLE, "HC-A 工会", "每份 1 元", "微信扫一扫"):
        assert expected in text


def test_ten_yuan_poster_says_ten_yuan(api: Api, tree: None) -> None:
    _, text, _ = _render(api.get("/posters/DX-XF/ten-yuan.pdf").data)
    assert "十元捐" in text and "每份 10 元" in text


def test_png_poster_decodes(api: Api, tree: None) -> None:
    reply = api.get("/posters/DX-XF/one-yuan.png")
    assert reply.status_code == 200, reply.get_json()
    image = Image.open(io.BytesIO(reply.data))
    assert image.width == 1240
    assert decoded_texts(image) == [f"{api.runtime.deps.public_url}/d/DX-XF/one-yuan"]


def test_poster_etag_changes_when_the_unit_is_renamed(api: Api, tree: None, boss: dict[str, str]
                                                      ) -> None:
    before = api.get("/posters/DX-XF/one-yuan.pdf").headers["ETag"]
    assert api.client.get("/posters/DX-XF/one-yuan.pdf",
                          headers={"If-None-Match": before}).status_code == 304
    api.client.patch("/admin/api/units/DX-XF", json={"name": "兴丰街道工会联合会"}, headers=boss)
    renamed = api.get("/posters/DX-XF/one-yuan.pdf")
    assert renamed.headers["ETag"] != before
    assert "兴丰街道工会联合会" in _render(renamed.data)[1]


def _no_fontconfig() -> str | None:
    return None


def test_png_poster_without_a_chinese_font_says_so_until_one_is_installed(
        api: Api, tree: None, tmp_path: Path) -> None:
    later = tmp_path / "fonts" / "wqy-microhei.ttc"  # where the package will put it
    # As on a server without any CJK font:
    api.runtime.poster_fonts = CjkFontFinder(None, _no_fontconfig, candidates=(later,))
    reply = api.get("/posters/DX-XF/one-yuan.png")
    assert reply.status_code == 503
    error = reply.get_json()["error"]
    assert error["code"] == "font_unavailable"
    assert "/posters/DX-XF/one-yuan.pdf" in error["message"]
    assert api.get("/posters/DX-XF/one-yuan.pdf").status_code == 200

    later.parent.mkdir()
    shutil.copyfile(installed_cjk_font(), later)  # the font is installed; no restart
    reply = api.get("/posters/DX-XF/one-yuan.png")
    assert reply.status_code == 200, reply.get_json()
    assert reply.content_type == "image/png"


@pytest.mark.parametrize("path", ["/posters/NOPE/one-yuan.pdf", "/posters/DX-XF/nope.png",
                                  "/posters/DX-XF/one-yuan.docx"])
def test_unknown_poster_is_404(api: Api, tree: None, path: str) -> None:
    reply = api.get(path)
    assert reply.status_code == 404
    assert reply.get_json()["error"]["code"] == "not_found"
