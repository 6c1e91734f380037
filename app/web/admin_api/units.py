"""Units in the admin API: list within scope, create, edit; QR bundles."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, jsonify

from app.services.codes import bundles
from app.services.errors import InvalidRequestError
from app.services.units import unit_admin
from app.services.units.unit_admin import UnitChanges
from app.services.units.units import UnitInput
from app.web.auth import current_actor
from app.web.context import deps, get_session
from app.web.pages import poster_font
from app.web.parsing import field, json_body, query_arg

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


def _changes(body: dict[str, Any]) -> UnitChanges:
    known = {"name", "kind", "headcount", "active", "parent"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise InvalidRequestError("不能修改的字段：" + "、".join(unknown))
    return UnitChanges(name=field(body, "name", str, default=None),
                       kind=field(body, "kind", str, default=None),
                       headcount=field(body, "headcount", int, default=None),
                       active=field(body, "active", bool, default=None),
                       move="parent" in body, parent=field(body, "parent", str, default=None))


@bp.patch("/units/<code>")
def update_unit(code: str) -> Response:
    actor = current_actor()  # a stranger learns nothing, not even which fields are wrong
    changes = _changes(json_body())
    return jsonify(unit_admin.update_unit_as(get_session(), actor, code, changes,
                                             deps().clock()))


@bp.get("/units/<code>/qr-bundle.zip")
def qr_bundle(code: str) -> Response:
    name, content = bundles.subtree_bundle(get_session(), current_actor(), code,
                                           query_arg("campaign") or "", deps().public_url,
                                           poster_font(), deps().clock())
    reply = Response(content, mimetype="application/zip")
    filename = quote(name)
    reply.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return reply
