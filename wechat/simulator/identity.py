"""Deterministic identities and images the stand-in hands out."""

from __future__ import annotations

import base64
import hashlib
import io

import qrcode


def derive_openid(appid: str, code: str) -> str:
    """The openid of a login code: codes "alice#1" and "alice#2" belong to the same worker."""
    user = code.split("#", 1)[0]
    digest = hashlib.sha256(f"{appid}:{user}".encode()).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode("ascii")[:27]


def wxacode_png(scene: str) -> bytes:
    """A real QR code PNG standing in for a mini-program code."""
    image = qrcode.make(f"wxacode:{scene}")
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
