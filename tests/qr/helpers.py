"""Shared values and checks for the tests of QR codes and posters (qr/ and the HTTP routes)."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image, ImageDraw

from qr.fonts import WELL_KNOWN_CJK_FONTS, covers_cjk
from qr.posters import PosterContent

LINK = "https://donate.example.org/d/DX-XF/one-yuan"

CONTENT = PosterContent(
    campaign_name="一元捐",
    campaign_title="职工应急救助专项温暖基金 · 一元捐",
    unit_name="兴丰街道总工会",
    unit_path="大兴区总工会 › 兴丰街道总工会",
    share_price="每份 1 元",
    call_to_action="微信扫一扫，奉献一份爱心",
    link=LINK,
)


def decoded_texts(image: Image.Image) -> list[str]:
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def installed_cjk_font() -> Path:
    """A CJK font file from the system, or skip: the Debian package may be missing."""
    font = next((path for path in WELL_KNOWN_CJK_FONTS if covers_cjk(path)), None)
    if font is None:
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei)")
    return font


A4_POINTS = (595.28, 841.89)
# One run of dark modules in our SVG path: "M<x> <y>h<width>v1h-<width>z".
SVG_RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-\3z")
_VIEWBOX = re.compile(r'viewBox="0 0 (\d+) (\d+)"')


def svg_to_image(svg: bytes, scale: int = 8) -> Image.Image:
    """Draw the SVG's module runs (the only shapes our SVGs hold) as pixels."""
    text = svg.decode("utf-8")
    match = _VIEWBOX.search(text)
    assert match is not None, "SVG without a viewBox"
    width, height = int(match.group(1)), int(match.group(2))
    image = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, length in ((int(a), int(b), int(c)) for a, b, c in SVG_RUN.findall(text)):
        draw.rectangle((x * scale, y * scale, (x + length) * scale - 1, (y + 1) * scale - 1),
                       fill=0)
    return image


def render_pdf(pdf: bytes) -> tuple[Image.Image, str, tuple[float, float], str]:
    """Page 1 at 150 dpi, its extracted text, its size in points, and the document title."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        image = page.render(scale=150 / 72).to_pil()
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        textpage.close()
        size = page.get_size()
        page.close()
        title = document.get_metadata_dict().get("Title", "")
    finally:
        document.close()
    return image, text, size, title
