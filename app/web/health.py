"""GET /healthz for load balancers: 200 when the database answers and its schema is this
code's, 503 otherwise."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.web.context import runtime
from models.migrate import schema_state

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    state = schema_state(runtime().bounded_engine)
    return jsonify({"status": "ok" if state.current else "unavailable",
                    "database": state.describe()}), 200 if state.current else 503
