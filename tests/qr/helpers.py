"""Shared values and checks for the qr tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

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
