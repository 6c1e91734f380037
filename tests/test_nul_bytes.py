"""A NUL byte ("%00") anywhere a request names something — a path or a query parameter — is an
impossible value: PostgreSQL cannot even compare text with one. It gets a 4xx, never a 500."""

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
    assert reply.get_json()["error"]["message"] == "参数 openid 含有无效的字符"
