from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from PIL import Image

from qr.posters import FontUnavailableError, poster_pdf, poster_png
from tests.qr.helpers import (
    A4_POINTS,
    CONTENT,
    LINK,
    decoded_texts,
    installed_cjk_font,
    render_pdf,
)


def test_pdf_with_an_embedded_font_has_text_and_a_readable_code() -> None:
    pdf = poster_pdf(CONTENT, installed_cjk_font())

    image, text, size, title = render_pdf(pdf)

    assert size == pytest.approx(A4_POINTS, abs=1)
    assert decoded_texts(image) == [LINK]
    for expected in (CONTENT.campaign_title, CONTENT.unit_name, CONTENT.share_price, LINK):
        assert expected in text
    assert title == f"{CONTENT.campaign_title} · {CONTENT.unit_name}"
    assert b"/FontFile2" in pdf


def test_pdf_without_a_font_file_uses_the_viewers_chinese_font() -> None:
    pdf = poster_pdf(CONTENT, None)

    image, text, size, _ = render_pdf(pdf)

    assert b"/STSong-Light" in pdf
    assert b"/FontFile" not in pdf
    assert size == pytest.approx(A4_POINTS, abs=1)
    assert decoded_texts(image) == [LINK]
    assert CONTENT.campaign_title in text
    assert CONTENT.unit_name in text


def test_pdf_falls_back_when_the_font_cannot_be_embedded(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"\x00\x01\x00\x00 not really a font")

    _, text, _, _ = render_pdf(poster_pdf(CONTENT, broken))

    assert CONTENT.unit_name in text


def test_pdf_wraps_long_names_and_omits_an_empty_path() -> None:
    content = dataclasses.replace(
        CONTENT,
        unit_name="北京市大兴区兴丰街道非公有制企业联合工会委员会第二基层分会" * 3,
        unit_path="",
    )

    image, text, _, _ = render_pdf(poster_pdf(content, installed_cjk_font()))

    assert decoded_texts(image) == [LINK]
    assert "›" not in text
    assert "…" in text


def test_pdf_is_the_same_for_the_same_content() -> None:
    font = installed_cjk_font()

    assert poster_pdf(CONTENT, font) == poster_pdf(CONTENT, font)


def test_png_poster_is_a4_shaped_and_decodes() -> None:
    image = Image.open(io.BytesIO(poster_png(CONTENT, installed_cjk_font())))

    assert image.format == "PNG"
    assert image.size == (1240, 1754)
    assert decoded_texts(image) == [LINK]


def test_png_poster_needs_a_chinese_font() -> None:
    with pytest.raises(FontUnavailableError, match="fonts-wqy-microhei"):
        poster_png(CONTENT, None)


@pytest.mark.parametrize("width", [100, 10_000])
def test_png_poster_width_is_bounded(width: int) -> None:
    with pytest.raises(ValueError):
        poster_png(CONTENT, installed_cjk_font(), width=width)
