"""The admin and organizer web console under /admin/."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/admin")
