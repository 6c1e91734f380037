"""Printable A4 posters of a unit's donation QR code, as PDF or PNG bytes."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from qr.codes import QUIET_ZONE, QrMatrix, qr_matrix, render_qr_image
from qr.fonts import pdf_font
from qr.layout import (
    PAGE_HEIGHT,
    PAGE_WIDTH,
    UNION_RED,
    WHITE,
    Box,
    Colour,
    PosterContent,
    PosterLayout,
    TextLine,
    layout_poster,
)

__all__ = ["FontUnavailableError", "PosterContent", "poster_pdf", "poster_png"]

POSTER_MIN_WIDTH = 595
POSTER_MAX_WIDTH = 3508
FRAME_RADIUS = 12.0
FRAME_LINE = 2.0
_REFERENCE_PX = 100


class FontUnavailableError(Exception):
    """A PNG poster was asked for, but no font that can draw Chinese is installed."""


def poster_pdf(content: PosterContent, font_path: Path | None) -> bytes:
    """An A4 PDF with real text: `font_path` embedded, or the viewer's STSong-Light."""
    font = pdf_font(font_path)
    layout = layout_poster(content, lambda text, size: pdfmetrics.stringWidth(text, font, size))
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=True, pageCompression=1)
    pdf.setTitle(f"{content.campaign_title} · {content.unit_name}")
    pdf.setSubject(content.link)
    pdf.setCreator("warmfund")
    _draw_pdf_shapes(pdf, layout)
    _draw_pdf_qr(pdf, qr_matrix(content.link), layout.qr)
    for line in layout.lines:
        _draw_pdf_text(pdf, line, font)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def poster_png(content: PosterContent, font_path: Path | None, width: int = 1240) -> bytes:
    """The PDF poster's layout as a PNG `width` pixels wide (1240 = A4 at 150 dpi)."""
    if font_path is None:
        raise FontUnavailableError(
            "PNG 海报需要中文字体：install fonts-wqy-microhei or set [qr].font_path"
        )
    if not POSTER_MIN_WIDTH <= width <= POSTER_MAX_WIDTH:
        raise ValueError(f"poster width must be {POSTER_MIN_WIDTH}-{POSTER_MAX_WIDTH} px")
    scale = width / PAGE_WIDTH
    reference = _pil_font(font_path, _REFERENCE_PX)
    layout = layout_poster(
        content, lambda text, size: reference.getlength(text) * size / _REFERENCE_PX
    )
    image = Image.new("RGB", (width, round(PAGE_HEIGHT * scale)), WHITE)
    _draw_png_poster(image, layout, qr_matrix(content.link), font_path, scale)
    buffer = io.BytesIO()
    # Level 1 takes a third less time than the default for a file about a third larger.
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _draw_pdf_shapes(pdf: Canvas, layout: PosterLayout) -> None:
    pdf.setFillColorRGB(*_unit_rgb(UNION_RED))
    for band in (layout.header, layout.footer):
        pdf.rect(
            band.left, _pdf_y(band.top + band.height), band.width, band.height, stroke=0, fill=1
        )
    frame = layout.qr_frame
    pdf.setStrokeColorRGB(*_unit_rgb(UNION_RED))
    pdf.setLineWidth(FRAME_LINE)
    pdf.roundRect(
        frame.left,
        _pdf_y(frame.top + frame.height),
        frame.width,
        frame.height,
        FRAME_RADIUS,
        stroke=1,
        fill=0,
    )


def _draw_pdf_qr(pdf: Canvas, matrix: QrMatrix, box: Box) -> None:
    module = box.width / matrix.width_with_quiet_zone
    pdf.saveState()
    # In module units with y pointing down every coordinate is a small integer,
    # and writing the path ourselves skips ReportLab's slow per-number formatting
    # (~6 ms for 1,000 rectangles without its optional C accelerator).
    pdf.transform(
        module, 0, 0, -module, box.left + QUIET_ZONE * module, _pdf_y(box.top + QUIET_ZONE * module)
    )
    pdf.setFillColorRGB(0, 0, 0)
    runs = (f"{column} {row} {length} 1 re" for row, column, length in matrix.dark_runs())
    pdf.addLiteral("\n".join(runs) + "\nf")
    pdf.restoreState()


def _draw_pdf_text(pdf: Canvas, line: TextLine, font: str) -> None:
    pdf.setFont(font, line.size)
    pdf.setFillColorRGB(*_unit_rgb(line.colour))
    pdf.drawCentredString(PAGE_WIDTH / 2, _pdf_y(line.baseline), line.text)


def _draw_png_poster(
    image: Image.Image, layout: PosterLayout, matrix: QrMatrix, font_path: Path, scale: float
) -> None:
    draw = ImageDraw.Draw(image)
    for band in (layout.header, layout.footer):
        draw.rectangle(_pixels(band, scale), fill=UNION_RED)
    draw.rounded_rectangle(
        _pixels(layout.qr_frame, scale),
        radius=round(FRAME_RADIUS * scale),
        outline=UNION_RED,
        width=max(1, round(FRAME_LINE * scale)),
    )
    qr_box = _pixels(layout.qr, scale)
    image.paste(render_qr_image(matrix, qr_box[2] - qr_box[0]), qr_box[:2])
    for line in layout.lines:
        font = _pil_font(font_path, round(line.size * scale))
        draw.text(
            (image.width / 2, line.baseline * scale),
            line.text,
            font=font,
            fill=line.colour,
            anchor="ms",
        )


@lru_cache(maxsize=64)
def _pil_font(font_path: Path, pixels: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path), pixels, index=0)


def _pixels(box: Box, scale: float) -> tuple[int, int, int, int]:
    left, top = round(box.left * scale), round(box.top * scale)
    return left, top, left + round(box.width * scale), top + round(box.height * scale)


def _pdf_y(top_down: float) -> float:
    return PAGE_HEIGHT - top_down


def _unit_rgb(colour: Colour) -> tuple[float, float, float]:
    red, green, blue = colour
    return red / 255, green / 255, blue / 255
