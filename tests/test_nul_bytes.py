"""A NUL byte ("%00") anywhere a request names something — a path, a query parameter, a form
field, an uploaded file — is an impossible value: PostgreSQL cannot even compare text with one.
It gets a 4xx, never a 500.

SQLite compares such text and finds nothing, so the path cases guard the fix only in the
PostgreSQL run of the suite; the query, form and file cases are refused on both."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admin.helpers import error_code, seed
from tests.helpers import Api

MINI_PROGRAM = [
    "/api/donations/WF%00x",
    "/api/units/DX%00",
    "/api/campaigns/one-yuan%00",
    "/api/entry?scene=DX%00/one-yuan",
    "/api/me/donations?cursor=%00",
]

CONSOLE = [
    "/admin/api/donations?openid=o%00x",
    "/admin/api/donations?unit=DX%00",
    "/admin/api/donations?campaign=one-yuan%00",
    "/admin/api/donations?status=paid%00",
    "/admin/api/donations?cursor=%00",
    "/admin/api/dashboard?campaign=one-yuan%00",
    "/admin/api/donations?from=2026-01-01%00",
    "/admin/api/campaigns/one-yuan%00/totals",
    "/admin/api/dashboard?unit=DX%00",
    "/admin/api/audit?action=x%00",
    "/admin/api/notifications?verdict=x%00",
    "/admin/api/units/DX%00/qr-bundle.zip",
    "/admin/export/donations.csv?openid=o%00",
    "/admin/export/units-report.csv?unit=DX%00",
    "/qr/DX%00/one-yuan.png",
    "/posters/DX/one-yuan%00.pdf",
    "/d/DX%00/one-yuan",
]


@pytest.fixture
def seeded(api: Api, session: Any) -> dict[str, str]:
    return seed(api, session)


@pytest.mark.parametrize("path", MINI_PROGRAM)
def test_mini_program_paths_with_nul_are_4xx(api: Api, seeded: dict[str, str],
                                             path: str) -> None:
    reply = api.get(path, api.login("alice"))
    assert 400 <= reply.status_code < 500, (path, reply.status_code, reply.data[:200])
    assert reply.get_json()["error"]["code"] in ("invalid_request", "not_found")


@pytest.mark.parametrize("path", CONSOLE)
def test_console_paths_with_nul_are_4xx(api: Api, seeded: dict[str, str], path: str) -> None:
    reply = api.get(path, seeded["admin"])
    assert 400 <= reply.status_code < 500, (path, reply.status_code, reply.data[:200])
    if "?" in path and not path.startswith("/admin/export/"):
        assert error_code(reply) == "invalid_request"


def test_a_query_parameter_with_nul_is_named(api: Api, seeded: dict[str, str]) -> None:
    reply = api.get("/admin/api/donations?openid=o%00x", seeded["admin"])
    assert reply.get_json()["error"]["message"] == "捐款人标识含有无效的字符"


def test_a_console_form_with_nul_is_400(api: Api, seeded: dict[str, str]) -> None:
    import re

    client = api.app.test_client()
    page = client.get("/admin/login").data
    found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    reply = client.post("/admin/login", data={"username": "boss\x00", "password": "x",
                                              "csrf_token": found.group(1).decode()})
    assert reply.status_code == 400
    assert "表单含有无效的字符" in reply.get_data(as_text=True)
    # Signed in, the console's other forms (its nested blueprints) are refused alike.
    from tests.admin.helpers import ADMIN

    signed_in = client.post("/admin/login", data={"username": ADMIN[0], "password": ADMIN[1],
                                                  "csrf_token": found.group(1).decode()})
    assert signed_in.status_code == 302
    page = client.get("/admin/accounts").data
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    reply = client.post("/admin/accounts", data={"csrf_token": token.group(1).decode(),
                                                 "action": "disable", "username": "x\x00"})
    assert reply.status_code == 400


@pytest.mark.parametrize("upload", [b"username,unit\nhc1,DX\x00\n",
                                    "username,unit\nhc1,DX\n".encode("utf-16-le")])
def test_an_uploaded_file_with_nul_is_400(api: Api, seeded: dict[str, str],
                                          upload: bytes) -> None:
    from tests.admin.helpers import bearer

    reply = api.client.post("/admin/api/accounts/import", headers=bearer(seeded["admin"]),
                            data=upload, content_type="text/csv")
    assert reply.status_code == 400
    assert "NUL" in reply.get_json()["error"]["message"]
    assert api.get("/admin/api/accounts", seeded["admin"]).get_json()["accounts"][-1][
        "username"] != "hc1"


def test_a_unit_file_with_nul_is_refused_before_reading_rows() -> None:
    from app.services.units.unit_import import ImportFileError, read_rows

    with pytest.raises(ImportFileError, match="NUL"):
        read_rows("units.csv", b"code,name,parent_code,kind\nDX,\x00,,district\n")
