from __future__ import annotations

from pathlib import Path

import pytest

from qr.fonts import covers_cjk, find_cjk_font, locate_cjk_font
from tests.qr.helpers import installed_cjk_font

LATIN_ONLY_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _no_fontconfig() -> str | None:
    return None


def test_a_configured_cjk_font_is_used() -> None:
    font = installed_cjk_font()

    assert find_cjk_font(str(font)) == font
    assert locate_cjk_font(str(font), _no_fontconfig, candidates=()) == font


def test_nothing_found_gives_none() -> None:
    assert locate_cjk_font("/nonexistent/font.ttc", _no_fontconfig, candidates=()) is None
    assert locate_cjk_font(None, _no_fontconfig, candidates=()) is None


def test_a_missing_configured_font_falls_back_to_the_well_known_paths() -> None:
    font = installed_cjk_font()

    found = locate_cjk_font("/nonexistent/font.ttc", _no_fontconfig, candidates=(font,))

    assert found == font


def test_fontconfig_is_asked_before_the_well_known_paths() -> None:
    font = installed_cjk_font()

    assert locate_cjk_font(None, lambda: str(font), candidates=()) == font


def test_fonts_without_chinese_glyphs_are_passed_over(tmp_path: Path) -> None:
    if not LATIN_ONLY_FONT.is_file():
        pytest.skip("DejaVu Sans is not installed")
    not_a_font = tmp_path / "notes.ttf"
    not_a_font.write_text("not a font")

    assert not covers_cjk(LATIN_ONLY_FONT)
    assert not covers_cjk(not_a_font)
    assert locate_cjk_font(str(LATIN_ONLY_FONT), lambda: str(not_a_font), candidates=()) is None


def test_the_search_is_cached_per_configured_path() -> None:
    assert find_cjk_font("/nonexistent/font.ttc") is find_cjk_font("/nonexistent/font.ttc")
