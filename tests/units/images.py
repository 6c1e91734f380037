"""Decoding what the routes draw: PNG through zxing-cpp, SVG drawn back into pixels first."""

from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image, ImageDraw

_VIEWBOX = re.compile(r'viewBox="0 0 (\d+) (\d+)"')
_RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-\d+z")


def decode_png(data: bytes) -> list[str]:
    return decode_image(Image.open(io.BytesIO(data)))


def decode_image(image: Image.Image) -> list[str]:
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def svg_to_image(svg: bytes, scale: int = 8) -> Image.Image:
    """Draw the SVG's module runs (the only shapes our SVGs hold) as pixels."""
    text = svg.decode("utf-8")
    match = _VIEWBOX.search(text)
    assert match is not None, "SVG without a viewBox"
    width, height = int(match.group(1)), int(match.group(2))
    image = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, length in ((int(a), int(b), int(c)) for a, b, c in _RUN.findall(text)):
        draw.rectangle((x * scale, y * scale, (x + length) * scale - 1, (y + 1) * scale - 1),
                       fill=0)
    return image
