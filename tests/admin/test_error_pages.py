"""Errors answer in the shape their URL promises, whichever blueprint serves it: a console page
with a page (a stranger with the sign-in page), a download or the admin API with the JSON error,
even for a browser that holds the console's cookie."""

from __future__ import annotations

from typing import Any

from tests.admin.helpers import ADMIN, console_as, error_code, form_csrf, seed
from tests.helpers import Api

# One page of each console blueprint that refuses what it is asked.
REFUSING_PAGES = [
    ("GET", "/admin/donations?campaign=nope", 404),  # console_pages
    ("GET", "/admin/notifications/999", 404),  # console_manage
    ("GET", "/admin/bills/2026-13-45", 400),  # console_bills
    ("POST", "/admin/refunds", 400),  # console_refunds: a NUL in the form
    ("POST", "/admin/password", 400),  # console: a NUL in the form
]


def test_console_pages_answer_errors_with_a_page(api: Api, session: Any) -> None:
    seed(api, session)
    console = console_as(api, *ADMIN)
    csrf = form_csrf(console.get("/admin/").data)
    for method, path, status in REFUSING_PAGES:
        form = {"csrf_token": csrf, "old": "x\x00", "out_trade_no": "x\x00"}
        reply = console.open(path, method=method, data=form if method == "POST" else None)
        assert (reply.status_code, reply.mimetype) == (status, "text/html"), path
        assert "无法完成".encode() in reply.data, path


def test_strangers_at_console_pages_go_to_the_sign_in_page(api: Api, session: Any) -> None:
    for path in ("/admin/", "/admin/accounts", "/admin/bills", "/admin/refunds"):
        reply = api.app.test_client().get(path)
        assert reply.status_code == 302, path
        assert reply.headers["Location"].startswith("/admin/login"), path


def test_downloads_answer_errors_in_json(api: Api, session: Any) -> None:
    seed(api, session)
    stranger = api.app.test_client().get("/admin/export/donations.csv")
    assert (stranger.status_code, error_code(stranger)) == (401, "unauthorized")
    console = console_as(api, *ADMIN)
    for path in ("/admin/export/donations.csv?unit=NOPE", "/admin/export/units-report.pdf"
                 "?campaign=nope", "/admin/api/donations?unit=NOPE"):
        reply = console.get(path)
        assert (reply.status_code, error_code(reply)) == (404, "not_found"), path
