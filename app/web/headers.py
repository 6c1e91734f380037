"""Headers every reply carries: no sniffing, no referrer leaving the site, no framing, a CSP on
every HTML page that has none of its own, and no caching of what the APIs answer (tokens,
passwords, anyone's own data)."""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response as BaseResponse

# The console's pages: scripts only from here; style attributes stay (widths of bars, depths).
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
API_PREFIXES = ("/api/", "/admin/api/")


def secure_headers(reply: BaseResponse) -> BaseResponse:
    headers = reply.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if reply.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", PAGE_CSP)
        headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith(API_PREFIXES) or request.path == "/healthz":
        headers.setdefault("Cache-Control", "no-store")
    return reply
