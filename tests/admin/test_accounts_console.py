"""Accounts: tokens, lockout, logout, password change, organizers from the API and from a CSV;
the console's session cookie and CSRF protection."""

from __future__ import annotations

import csv
import io
from typing import Any

import flask

from tests.admin.helpers import ADMIN, bearer, error_code, form_csrf, token_for
from tests.helpers import Api, demo_tree, make_admin


def _setup(api: Api, session: Any) -> str:
    demo_tree(session)
    make_admin(session, *ADMIN)
    return token_for(api, *ADMIN)


def test_lockout_after_five_failures(api: Api, session: Any) -> None:
    _setup(api, session)
    for _ in range(5):
        reply = api.client.post("/admin/api/token", json={"username": "boss", "password": "no"})
        assert reply.status_code == 401
    locked = api.client.post("/admin/api/token", json={"username": "boss",
                                                        "password": ADMIN[1]})
    assert locked.status_code == 429 and error_code(locked) == "rate_limited"


def test_logout_and_password_change_revoke_tokens(api: Api, session: Any) -> None:
    token = _setup(api, session)
    assert api.get("/admin/api/me", token).get_json()["role"] == "admin"
    assert api.client.post("/admin/api/logout", headers=bearer(token)).status_code == 200
    assert api.get("/admin/api/me", token).status_code == 401
    token = token_for(api, *ADMIN)
    wrong = api.client.post("/admin/api/password", headers=bearer(token),
                            json={"old_password": "nope", "new_password": "another pass 2"})
    assert wrong.status_code == 400
    changed = api.client.post("/admin/api/password", headers=bearer(token),
                              json={"old_password": ADMIN[1], "new_password": "another pass 2"})
    assert changed.status_code == 200
    assert api.get("/admin/api/me", token).status_code == 401
    assert token_for(api, "boss", "another pass 2")


def test_admin_creates_disables_and_imports_organizers(api: Api, session: Any) -> None:
    token = _setup(api, session)
    made = api.client.post("/admin/api/accounts", headers=bearer(token), json={
        "username": "xf", "password": "xf password 1", "role": "organizer", "unit": "DX-XF"})
    assert made.status_code == 201
    assert api.get("/admin/api/me", token_for(api, "xf", "xf password 1")).get_json()["unit"] \
        == "DX-XF"
    bad = api.client.post("/admin/api/accounts", headers=bearer(token), json={
        "username": "x", "password": "short", "role": "organizer", "unit": "DX-XF"})
    assert bad.status_code == 400 and error_code(bad) == "invalid_request"
    off = api.client.patch("/admin/api/accounts/xf", headers=bearer(token), json={"active": False})
    assert off.get_json()["active"] is False
    refused = api.client.post("/admin/api/token", json={"username": "xf",
                                                         "password": "xf password 1"})
    assert refused.status_code == 401
    upload = b"username,unit\nhc1,DX-HC\nhca,HC-A\n"
    imported = api.client.post("/admin/api/accounts/import", headers=bearer(token), data=upload,
                               content_type="text/csv")
    assert imported.status_code == 201
    rows = imported.get_json()["accounts"]
    assert [r["username"] for r in rows] == ["hc1", "hca"]
    assert token_for(api, "hca", rows[1]["password"])
    again = api.client.post("/admin/api/accounts/import", headers=bearer(token), data=upload,
                            content_type="text/csv")
    assert again.status_code == 400 and "hc1" in again.get_json()["error"]["message"]
    actions = [a["action"] for a in api.get("/admin/api/audit", token).get_json()["actions"]]
    assert actions.count("account.create") == 4 and "account.disable" in actions


def test_console_login_uses_a_safe_session_cookie(api: Api, session: Any) -> None:
    _setup(api, session)
    client = api.app.test_client()
    assert client.get("/").headers["Location"] == "/admin/"  # the bare address: the console
    assert client.get("/admin/").status_code == 302
    page = client.get("/admin/login")
    no_csrf = client.post("/admin/login", data={"username": "boss", "password": ADMIN[1]})
    assert no_csrf.status_code == 403
    wrong = client.post("/admin/login", data={"username": "boss", "password": "not it",
                                              "csrf_token": form_csrf(page.data)})
    assert wrong.status_code == 401 and b'value="boss"' in wrong.data  # typed once is enough
    reply = client.post("/admin/login", data={"username": "boss", "password": ADMIN[1],
                                              "csrf_token": form_csrf(page.data),
                                              "next": "//evil.example/"})
    assert reply.status_code == 302 and reply.headers["Location"] == "/admin/"
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/admin" in cookie
    dashboard = client.get("/admin/")
    assert dashboard.status_code == 200 and "累计金额".encode() in dashboard.data
    token = form_csrf(dashboard.data)
    assert client.get("/admin/api/me").get_json()["username"] == "boss"
    forged = client.post("/admin/accounts", data={"username": "evil", "password": "evil pass 1",
                                                  "role": "admin"})
    assert forged.status_code == 403
    api_forged = client.post("/admin/api/campaigns", json={"code": "x", "name": "x",
                                                           "amount_fen": 1})
    assert api_forged.status_code == 403
    made = client.post("/admin/accounts", data={"username": "hc", "password": "hc password 1",
                                                "role": "organizer", "unit": "DX-HC",
                                                "csrf_token": token})
    assert made.status_code == 302
    assert "hc" in [a["username"] for a in
                    client.get("/admin/api/accounts").get_json()["accounts"]]
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_console_import_hands_back_generated_passwords(api: Api, session: Any) -> None:
    _setup(api, session)
    client = api.app.test_client()
    page = client.get("/admin/login")
    client.post("/admin/login", data={"username": "boss", "password": ADMIN[1],
                                      "csrf_token": form_csrf(page.data)})
    token = form_csrf(client.get("/admin/accounts").data)
    reply = client.post("/admin/accounts/import", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(b"username,unit\nxf1,DX-XF\n"), "a.csv")})
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(reply.data.decode("utf-8-sig"))))
    assert rows[1][:3] == ["xf1", "DX-XF", "organizer"]
    assert token_for(api, "xf1", rows[1][3])


def test_cli_imports_accounts(app: Any, session: Any, tmp_path: Any) -> None:
    demo_tree(session)
    source = tmp_path / "accounts.csv"
    source.write_text("username,unit,role,password\nhc9,DX-HC,organizer,hc9 password\n"
                      "xf9,DX-XF\n", encoding="utf-8")
    from app.cli.accounts import admin_import

    result = app.test_cli_runner().invoke(admin_import, [str(source)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[1] == "hc9,DX-HC,organizer,（已自定）"
    assert lines[2].startswith("xf9,DX-XF,organizer,") and len(lines[2].split(",")[3]) >= 8
    bad = tmp_path / "bad.csv"
    bad.write_text("zz,NOPE\n", encoding="utf-8")
    failed = app.test_cli_runner().invoke(admin_import, [str(bad)])
    assert failed.exit_code != 0 and "NOPE" in failed.output


def test_only_the_console_opens_the_session_cookie(api: Api) -> None:
    interface = api.app.session_interface
    for path, console in (("/admin/login", True), ("/admin", True), ("/api/campaigns", False),
                          ("/wechat/pay/notify", False), ("/administrator", False)):
        with api.app.test_request_context(path):
            assert interface.is_null_session(flask.session) is not console, path
