"""Where things go on an A4 poster, in points from the top-left corner.

Both the PDF and the PNG renderer draw the same PosterLayout, so the two
posters look alike; only the way text is measured differs between them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

PAGE_WIDTH = 210 * 72 / 25.4
PAGE_HEIGHT = 297 * 72 / 25.4
MARGIN = 56.0
HEADER_HEIGHT = 150.0
FOOTER_HEIGHT = 28.0
QR_SIDE = 320.0
FRAME_PADDING = 10.0
LINE_SPACING = 1.3

Colour = tuple[int, int, int]
UNION_RED: Colour = (200, 16, 46)
WHITE: Colour = (255, 255, 255)
INK: Colour = (34, 34, 34)
MUTED: Colour = (112, 112, 112)

# Width in points of `text` set at `size` points in the renderer's font.
Measure = Callable[[str, float], float]


@dataclass(frozen=True)
class PosterContent:
    """What a poster says, as plain strings; `link` is also what its QR code holds."""

    campaign_name: str
    campaign_title: str
    unit_name: str
    unit_path: str
    share_price: str
    call_to_action: str
    link: str


@dataclass(frozen=True)
class TextLine:
    """One line of text centred on the page; `baseline` is measured from the top."""

    text: str
    size: float
    baseline: float
    colour: Colour


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class PosterLayout:
    header: Box
    footer: Box
    qr: Box
    qr_frame: Box
    lines: tuple[TextLine, ...]


@dataclass(frozen=True)
class _TextStyle:
    largest: float
    smallest: float
    max_lines: int
    colour: Colour


_TITLE = _TextStyle(30, 18, 2, WHITE)
_UNIT_NAME = _TextStyle(26, 15, 2, INK)
_UNIT_PATH = _TextStyle(12, 8, 2, MUTED)
_SHARE_PRICE = _TextStyle(28, 16, 1, UNION_RED)
_CALL_TO_ACTION = _TextStyle(18, 11, 2, INK)
_LINK = _TextStyle(9, 6, 2, MUTED)


def layout_poster(content: PosterContent, measure: Measure) -> PosterLayout:
    """Lay out `content` on A4, fitting each text into the page's width."""
    header = Box(0, 0, PAGE_WIDTH, HEADER_HEIGHT)
    footer = Box(0, PAGE_HEIGHT - FOOTER_HEIGHT, PAGE_WIDTH, FOOTER_HEIGHT)
    title = _fit(content.campaign_title, _TITLE, measure)
    lines = _centre_in(title, header)
    lines += _flow(content.unit_name, _UNIT_NAME, measure, HEADER_HEIGHT + 60)
    lines += _flow(content.unit_path, _UNIT_PATH, measure, lines[-1].baseline + 24)
    qr = Box((PAGE_WIDTH - QR_SIDE) / 2, lines[-1].baseline + 28, QR_SIDE, QR_SIDE)
    frame = _grow(qr, FRAME_PADDING)
    price = _price_text(content)
    lines += _flow(price, _SHARE_PRICE, measure, qr.top + QR_SIDE + FRAME_PADDING + 54)
    lines += _flow(content.call_to_action, _CALL_TO_ACTION, measure, lines[-1].baseline + 40)
    link = _fit(content.link, _LINK, measure)
    lines += _stack(link, footer.top - 16 - _leading(link, len(link) - 1))
    return PosterLayout(header, footer, qr, frame, lines)


def _fit(text: str, style: _TextStyle, measure: Measure) -> tuple[TextLine, ...]:
    """Lines of `text` at the largest half-point size that fits the width, wrapped if need be."""
    width = PAGE_WIDTH - 2 * MARGIN
    natural = measure(text, style.largest)
    size = style.largest if natural <= width else style.largest * width / natural
    size = max(style.smallest, int(size * 2) / 2)
    if measure(text, size) <= width:
        texts: tuple[str, ...] = (text,)
    else:
        texts = _wrap(text, size, width, style.max_lines, measure)
    return tuple(TextLine(line, size, 0.0, style.colour) for line in texts)


def _flow(text: str, style: _TextStyle, measure: Measure, first: float) -> tuple[TextLine, ...]:
    return _stack(_fit(text, style, measure), first) if text else ()


def _stack(lines: tuple[TextLine, ...], first_baseline: float) -> tuple[TextLine, ...]:
    step = _leading(lines, 1)
    return tuple(
        TextLine(line.text, line.size, first_baseline + index * step, line.colour)
        for index, line in enumerate(lines)
    )


def _centre_in(lines: tuple[TextLine, ...], box: Box) -> tuple[TextLine, ...]:
    # Cap height of CJK glyphs is about 0.8 em; centre that, not the full leading.
    block = _leading(lines, len(lines) - 1) + 0.8 * lines[0].size
    first = box.top + (box.height - block) / 2 + 0.8 * lines[0].size
    return _stack(lines, first)


def _leading(lines: tuple[TextLine, ...], count: int) -> float:
    return lines[0].size * LINE_SPACING * count if lines else 0.0


def _price_text(content: PosterContent) -> str:
    parts = (content.campaign_name, content.share_price)
    return " · ".join(part for part in parts if part)


def _grow(box: Box, by: float) -> Box:
    return Box(box.left - by, box.top - by, box.width + 2 * by, box.height + 2 * by)


def _wrap(
    text: str, size: float, width: float, max_lines: int, measure: Measure
) -> tuple[str, ...]:
    lines = _greedy_lines(text, size, width, measure)
    if len(lines) > max_lines:
        last = _ellipsize(lines[max_lines - 1], size, width, measure)
        return (*lines[: max_lines - 1], last)
    # Narrow the measure until one more step would add a line, so that lines come
    # out even instead of leaving a lone character on the last one.
    balanced = lines
    narrower = width - size
    while narrower > 0:
        attempt = _greedy_lines(text, size, narrower, measure)
        if len(attempt) > len(lines):
            break
        balanced, narrower = attempt, narrower - size
    return balanced


def _greedy_lines(text: str, size: float, width: float, measure: Measure) -> tuple[str, ...]:
    # Chinese breaks between any two characters; long URLs have no spaces anyway.
    lines: list[str] = []
    current = ""
    for char in text:
        if current and measure(current + char, size) > width:
            lines.append(current)
            current = char.lstrip()
        else:
            current += char
    lines.append(current)
    return tuple(lines)


def _ellipsize(line: str, size: float, width: float, measure: Measure) -> str:
    while line and measure(line + "…", size) > width:
        line = line[:-1]
    return line + "…"
