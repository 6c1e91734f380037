"""Finding a font file that can draw Chinese text, and naming it to ReportLab for PDFs."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

log = logging.getLogger(__name__)

# fonts-wqy-microhei is TrueType, so ReportLab can embed it; fonts-noto-cjk is
# CFF-based, good for PNG posters but not embeddable by ReportLab.
WELL_KNOWN_CJK_FONTS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
PROBE_TEXT = "捐款"
# Every PDF viewer supplies this Adobe-GB1 font itself, so a PDF needs no font file.
STANDARD_CJK_FONT = "STSong-Light"
# A noncharacter, so no font maps it: it always draws the missing-glyph shape.
_UNMAPPED = "\uffff"

FontconfigQuery = Callable[[], str | None]


class CjkFontFinder:
    """Finds a CJK font once found; until then searches again at every call, so a font
    installed while the server runs is used without a restart."""

    def __init__(self, configured_path: str | None = None,
                 fontconfig: FontconfigQuery | None = None,
                 candidates: Iterable[Path] = WELL_KNOWN_CJK_FONTS) -> None:
        self._configured, self._fontconfig = configured_path, fontconfig
        self._candidates = tuple(candidates)
        self._found: Path | None = None
        self._lock = threading.Lock()

    def find(self) -> Path | None:
        if self._found is None:
            with self._lock:
                if self._found is None:
                    self._found = locate_cjk_font(self._configured, self._fontconfig,
                                                  self._candidates)
        return self._found


_finders: dict[str | None, CjkFontFinder] = {}


def find_cjk_font(configured_path: str | None = None) -> Path | None:
    """The configured font if it draws Chinese, else fontconfig's choice, else a Debian path;
    a hit is remembered, a miss is searched again next time."""
    return _finders.setdefault(configured_path, CjkFontFinder(configured_path)).find()


def locate_cjk_font(
    configured_path: str | None,
    fontconfig: FontconfigQuery | None = None,
    candidates: Iterable[Path] = WELL_KNOWN_CJK_FONTS,
) -> Path | None:
    """Uncached search; `fontconfig` and `candidates` may be replaced in tests."""
    if configured_path:
        configured = Path(configured_path)
        if covers_cjk(configured):
            return configured
        log.warning("configured font %s is missing or cannot draw Chinese", configured)
    found = (fontconfig or ask_fontconfig)()
    if found and covers_cjk(Path(found)):
        return Path(found)
    return next((path for path in candidates if covers_cjk(path)), None)


def ask_fontconfig() -> str | None:
    """The file fontconfig picks for simplified Chinese, or None without fontconfig."""
    try:
        result = subprocess.run(
            ["fc-match", "-f", "%{file}", ":lang=zh-cn"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None


def covers_cjk(path: Path) -> bool:
    """Whether the font at `path` has real glyphs for every character of PROBE_TEXT."""
    if not path.is_file():
        return False
    try:
        font = ImageFont.truetype(str(path), 32, index=0)
    except OSError:
        return False
    missing = _glyph_pixels(font, _UNMAPPED)
    return all(_glyph_pixels(font, char) not in (None, missing) for char in PROBE_TEXT)


def _glyph_pixels(font: ImageFont.FreeTypeFont, char: str) -> bytes | None:
    image = Image.new("L", (48, 48), 0)
    ImageDraw.Draw(image).text((4, 4), char, font=font, fill=255)
    return image.tobytes() if image.getbbox() else None


@lru_cache(maxsize=8)
def pdf_font(font_path: Path | None) -> str:
    """The ReportLab name of `font_path` (embedded in PDFs), or of STSong-Light when there is
    none or ReportLab cannot embed it; registered once per process, as parsing a CJK font takes
    ~0.1 s."""
    if font_path is not None:
        name = "WarmfundCJK-" + hashlib.sha256(str(font_path).encode()).hexdigest()[:12]
        try:
            pdfmetrics.registerFont(TTFont(name, str(font_path), subfontIndex=0))
            return name
        except (TTFError, OSError) as error:
            # e.g. fonts-noto-cjk: CFF outlines, which ReportLab cannot embed.
            log.warning(
                "cannot embed %s in PDFs (%s); using %s", font_path, error, STANDARD_CJK_FONT
            )
    pdfmetrics.registerFont(UnicodeCIDFont(STANDARD_CJK_FONT))
    return STANDARD_CJK_FONT
