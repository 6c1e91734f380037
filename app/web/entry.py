"""What a scan opened: `GET /api/entry?q=<link>` or `?scene=<unit>/<campaign>`."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.services.catalog.entry import resolve_entry
from app.web.context import deps, get_session
from app.web.parsing import query_arg

bp = Blueprint("entry", __name__, url_prefix="/api")


@bp.get("/entry")
def resolve() -> Response:
    found = resolve_entry(get_session(), deps().public_url, query_arg("q", max_length=500),
                          query_arg("scene", max_length=100))
    # The page that opens from a code offers 1..max_quantity shares: it learns the bound here.
    return jsonify({**found, "max_quantity": deps().max_quantity})
