"""Units in the admin API: list within scope, create, edit; QR bundles."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.services import unit_admin
from app.services.units import UnitInput
from app.web.admin_api import current_actor
from app.web.context import deps, get_session
from app.web.parsing import field, json_body

bp = Blueprint("admin_units", __name__, url_prefix="/admin/api")


@bp.get("/units")
def list_units() -> Response:
    return jsonify({"units": unit_admin.list_units(get_session(), current_actor())})


@bp.post("/units")
def create_unit() -> tuple[Response, int]:
    actor = current_actor()
    body = json_body()
    data = UnitInput(code=field(body, "code", str), name=field(body, "name", str),
                     parent=field(body, "parent", str, default=None),
                     kind=field(body, "kind", str),
                     headcount=field(body, "headcount", int, default=None))
    return jsonify(unit_admin.create_unit_as(get_session(), actor, data, deps().clock())), 201
