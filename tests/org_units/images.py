"""Decoding what the routes draw (the shared pieces live in tests/qr/helpers.py)."""

from __future__ import annotations

import io

from PIL import Image

from tests.qr.helpers import decoded_texts, svg_to_image

__all__ = ["decode_png", "decoded_texts", "svg_to_image"]


def decode_png(data: bytes) -> list[str]:
    return decoded_texts(Image.open(io.BytesIO(data)))
