"""QR bundles: `warmfund qr export` for the whole tree and the admin API for a subtree."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from app.cli.units import qr_export
from tests.helpers import Api
from tests.org_units.images import decode_png, decoded_texts, svg_to_image

DX = "DX 工会 DX"
HC = f"{DX}/DX-HC 工会 DX-HC"


def _names(data: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return set(archive.namelist())


def _read(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


def test_export_writes_every_active_unit_in_tree_folders(app: Any, api: Api, tmp_path: Path,
                                                         tree: None,
                                                         boss: dict[str, str]) -> None:
    api.client.patch("/admin/api/units/DX-XF", json={"active": False}, headers=boss)
    out = tmp_path / "one-yuan.zip"
    result = app.test_cli_runner().invoke(qr_export, ["--campaign", "one-yuan", "--out", str(out)])
    assert result.exit_code == 0, result.output
    names = _names(out.read_bytes())
    stems = {f"{DX}/DX-one-yuan", f"{HC}/DX-HC-one-yuan", f"{HC}/HC-A 工会 HC-A/HC-A-one-yuan",
             f"{HC}/HC-A 工会 HC-A/HC-A1 工会 HC-A1/HC-A1-one-yuan"}
    assert names == {s + ext for s in stems for ext in (".png", ".svg", "-poster.pdf")}
    link = f"{api.runtime.deps.public_url}/d/HC-A1/one-yuan"
    stem = f"{HC}/HC-A 工会 HC-A/HC-A1 工会 HC-A1/HC-A1-one-yuan"
    assert decode_png(_read(out.read_bytes(), stem + ".png")) == [link]
    assert decoded_texts(svg_to_image(_read(out.read_bytes(), stem + ".svg"))) == [link]
    assert _read(out.read_bytes(), stem + "-poster.pdf").startswith(b"%PDF")
    assert "wrote 4 units" in result.output


def test_export_of_an_unknown_campaign_fails(app: Any, tmp_path: Path, tree: None) -> None:
    out = tmp_path / "x.zip"
    result = app.test_cli_runner().invoke(qr_export, ["--campaign", "nope", "--out", str(out)])
    assert result.exit_code != 0
    assert not out.exists()


def test_admin_downloads_a_subtree_bundle(api: Api, boss: dict[str, str]) -> None:
    reply = api.client.get("/admin/api/units/DX-HC/qr-bundle.zip?campaign=ten-yuan",
                           headers=boss)
    assert reply.status_code == 200
    assert reply.content_type == "application/zip"
    root = "DX-HC 工会 DX-HC"
    assert _names(reply.data) == {
        f"{root}/{stem}{ext}"
        for stem in ("DX-HC-ten-yuan", "HC-A 工会 HC-A/HC-A-ten-yuan",
                     "HC-A 工会 HC-A/HC-A1 工会 HC-A1/HC-A1-ten-yuan")
        for ext in (".png", ".svg", "-poster.pdf")}


def test_organizer_gets_only_its_own_subtree(api: Api, organizer: dict[str, str]) -> None:
    mine = api.client.get("/admin/api/units/HC-A/qr-bundle.zip?campaign=one-yuan",
                          headers=organizer)
    assert mine.status_code == 200
    assert len(_names(mine.data)) == 6
    for code in ("DX-XF", "DX"):
        other = api.client.get(f"/admin/api/units/{code}/qr-bundle.zip?campaign=one-yuan",
                               headers=organizer)
        assert other.status_code == 403
        assert other.get_json()["error"]["code"] == "forbidden"


def test_bundle_needs_a_known_campaign_and_a_token(api: Api, boss: dict[str, str]) -> None:
    missing = api.client.get("/admin/api/units/DX/qr-bundle.zip", headers=boss)
    assert missing.status_code == 400
    unknown = api.client.get("/admin/api/units/DX/qr-bundle.zip?campaign=nope", headers=boss)
    assert unknown.status_code == 404
    assert api.client.get("/admin/api/units/DX/qr-bundle.zip?campaign=one-yuan").status_code == 401
