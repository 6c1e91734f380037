"""QR codes as PNG and SVG bytes, both drawn from one module matrix."""

from __future__ import annotations

import hashlib
import json
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M, ERROR_CORRECT_Q
from qrcode.exceptions import DataOverflowError

MIN_SIZE = 128
MAX_SIZE = 2048
DEFAULT_SIZE = 512
QUIET_ZONE = 4
# Part of every ETag: bump it whenever the drawing changes, so that caches
# holding the old bytes under the same inputs stop matching.
RENDER_REVISION = "1"

# qrcode 8 reports data that fits no version as either of these, depending on length.
_TOO_LONG = (DataOverflowError, ValueError)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DARK_RUN = re.compile(rb"\x01+")
_MODULE_TO_GREY = bytes.maketrans(b"\x00\x01", b"\xff\x00")


@dataclass(frozen=True)
class QrMatrix:
    """A QR symbol without its quiet zone: `modules` holds width² bytes, 1 = dark."""

    width: int
    modules: bytes

    @property
    def width_with_quiet_zone(self) -> int:
        return self.width + 2 * QUIET_ZONE

    def dark_runs(self) -> Iterator[tuple[int, int, int]]:
        """Yield (row, first column, length) for each horizontal run of dark modules."""
        for row in range(self.width):
            line = self.modules[row * self.width : (row + 1) * self.width]
            for run in _DARK_RUN.finditer(line):
                yield row, run.start(), run.end() - run.start()


# Printed posters get creased, taped over and photographed under glare, so
# level Q (25% of codewords recoverable) is used whenever it fits the smallest
# symbol that level M (15%) needs; otherwise M, so that modules stay large.
# Choosing the best mask is ~90% of the encoding time (6-9 ms), and the app
# draws PNG, SVG and PDF of the same link in a row, hence the cache.
@lru_cache(maxsize=2048)
def qr_matrix(data: str) -> QrMatrix:
    """Encode `data` at level Q, or M if Q needs a larger symbol, with the best mask."""
    if not data:
        raise ValueError("QR data must not be empty")
    try:
        code = _smallest_strongest_code(data)
    except _TOO_LONG as error:
        raise ValueError("data too long for a QR code") from error
    code.make(fit=False)
    rows = code.get_matrix()
    return QrMatrix(width=len(rows), modules=bytes(cell for row in rows for cell in row))


def _smallest_strongest_code(data: str) -> qrcode.QRCode[Any]:
    medium = _unmade_code(data, ERROR_CORRECT_M)
    version = medium.best_fit()
    quartile = _unmade_code(data, ERROR_CORRECT_Q)
    try:
        fits = quartile.best_fit(start=version) == version
    except _TOO_LONG:
        fits = False
    return quartile if fits else medium


def _unmade_code(data: str, level: int) -> qrcode.QRCode[Any]:
    code: qrcode.QRCode[Any] = qrcode.QRCode(error_correction=level, border=0)
    code.add_data(data)
    return code


def render_qr_image(matrix: QrMatrix, size: int) -> Image.Image:
    """A bilevel `size`-pixel square: whole pixels per module, the leftover added to the margin."""
    scale = size // matrix.width_with_quiet_zone
    if scale < 1:
        raise ValueError(f"{size} px is too small for a {matrix.width}-module QR code")
    grey = matrix.modules.translate(_MODULE_TO_GREY)
    symbol = Image.frombytes("L", (matrix.width, matrix.width), grey)
    side = matrix.width * scale
    symbol = symbol.resize((side, side), Image.Resampling.NEAREST)
    canvas = Image.new("1", (size, size), 1)
    offset = (size - side) // 2
    canvas.paste(symbol.convert("1", dither=Image.Dither.NONE), (offset, offset))
    return canvas


def qr_png(data: str, size: int = DEFAULT_SIZE) -> bytes:
    """A square 1-bit PNG of exactly `size` pixels with a quiet zone of at least 4 modules."""
    _check_size(size)
    return _bilevel_png(qr_matrix(data), size)


def _bilevel_png(matrix: QrMatrix, size: int) -> bytes:
    """The same pixels as render_qr_image, written directly: Pillow spends ~10 ms packing and
    filtering a 1024-px bilevel image, and the batch export draws a thousand of them."""
    scale = size // matrix.width_with_quiet_zone
    if scale < 1:
        raise ValueError(f"{size} px is too small for a {matrix.width}-module QR code")
    offset = (size - matrix.width * scale) // 2
    blank = b"\x00" + _packed_row("1" * size)
    rows = [blank] * offset
    for row in range(matrix.width):
        line = matrix.modules[row * matrix.width : (row + 1) * matrix.width]
        bits = "".join("0" * scale if dark else "1" * scale for dark in line)
        rows += [b"\x00" + _packed_row("1" * offset + bits + "1" * (size - offset - len(bits)))]
        rows += [rows[-1]] * (scale - 1)
    rows += [blank] * (size - len(rows))
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)
    return (_PNG_SIGNATURE + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + _png_chunk(b"IEND", b""))


def _packed_row(bits: str) -> bytes:
    """'1' = white, as PNG's 1-bit greyscale reads it; padded to whole bytes."""
    padded = bits + "0" * (-len(bits) % 8)
    return int(padded, 2).to_bytes(len(padded) // 8, "big")


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload)))


def qr_svg(data: str, size: int = DEFAULT_SIZE) -> bytes:
    """A standalone SVG of `size` pixels; the dark modules form a single path."""
    _check_size(size)
    matrix = qr_matrix(data)
    extent = matrix.width_with_quiet_zone
    path = "".join(
        f"M{column + QUIET_ZONE} {row + QUIET_ZONE}h{length}v1h-{length}z"
        for row, column, length in matrix.dark_runs()
    )
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {extent} {extent}" shape-rendering="crispEdges">'
        f'<rect width="{extent}" height="{extent}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>\n'
    )
    return svg.encode("utf-8")


def etag_for(*parts: str) -> str:
    """A strong ETag (quoted) naming the content drawn from `parts`, e.g. kind, data, size."""
    # JSON keeps ("a", "bc") and ("ab", "c") apart.
    identity = json.dumps([RENDER_REVISION, *parts], ensure_ascii=False)
    return '"' + hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32] + '"'


def _check_size(size: int) -> None:
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE} px, not {size}")
