from __future__ import annotations

import dataclasses

from qr.layout import MARGIN, PAGE_HEIGHT, PAGE_WIDTH, layout_poster
from tests.qr.helpers import CONTENT


def _square_glyphs(text: str, size: float) -> float:
    return len(text) * size


def test_every_line_fits_the_page_and_keeps_clear_of_the_code() -> None:
    layout = layout_poster(CONTENT, _square_glyphs)
    frame = layout.qr_frame

    for line in layout.lines:
        assert _square_glyphs(line.text, line.size) <= PAGE_WIDTH - 2 * MARGIN
        above = line.baseline < frame.top
        below = line.baseline - line.size > frame.top + frame.height
        assert above or below
        assert line.baseline < layout.footer.top
    assert layout.lines[0].baseline < layout.header.height


def test_a_long_title_shrinks_then_wraps_onto_two_lines() -> None:
    title = "职工应急救助专项温暖基金" * 4
    layout = layout_poster(dataclasses.replace(CONTENT, campaign_title=title), _square_glyphs)

    lines = [line for line in layout.lines if line.baseline < layout.header.height]

    assert len(lines) == 2
    assert abs(len(lines[0].text) - len(lines[1].text)) <= 1
    assert lines[0].size < layout_poster(CONTENT, _square_glyphs).lines[0].size
    assert "".join(line.text for line in lines).rstrip("…") in title


def test_an_empty_unit_path_leaves_no_line() -> None:
    layout = layout_poster(dataclasses.replace(CONTENT, unit_path=""), _square_glyphs)

    texts = [line.text for line in layout.lines]

    assert "" not in texts
    assert CONTENT.unit_path not in texts
    assert CONTENT.unit_name in texts


def test_the_page_is_a4() -> None:
    assert round(PAGE_WIDTH, 2) == 595.28
    assert round(PAGE_HEIGHT, 2) == 841.89
