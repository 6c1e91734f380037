"""What a security review of the console found: spreadsheets that keep people's text as text,
downloads and sign-ins in the audit trail, a lockout that concurrent guesses cannot outrun,
and odd input answered with a 4xx rather than a 500."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import pytest
from openpyxl import load_workbook

from app.services.accounts import accounts
from app.services.deps import utc_now
from app.services.errors import DomainError
from app.services.units.unit_import import ImportFileError, read_rows
from tests.admin.helpers import ADMIN, bearer, error_code, form_csrf, pay, seed, token_for
from tests.conftest import TEST_SECRET
from tests.helpers import Api, at_once, demo_tree, make_admin


@pytest.fixture
def seeded(api: Api, session: Any) -> dict[str, str]:
    return seed(api, session)


def _actions(api: Api, token: str) -> list[dict[str, Any]]:
    return list(api.get("/admin/api/audit", token).get_json()["actions"])


def test_xlsx_exports_keep_links_as_plain_text(api: Api, seeded: dict[str, str]) -> None:
    link = "external:\\\\10.0.0.1\\s\\a.exe"
    paid = pay(api, "dave", "DX-XF", message=link)
    reply = api.get("/admin/export/donations.xlsx", seeded["admin"])
    assert reply.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(reply.data)).namelist()
    assert not [n for n in names if n.startswith("xl/worksheets/_rels/")]  # no hyperlinks
    rows = list(load_workbook(io.BytesIO(reply.data), read_only=True).active
                .iter_rows(values_only=True))
    assert next(r for r in rows if r[0] == paid)[9] == link
    renamed = api.client.patch("/admin/api/units/DX", headers=bearer(seeded["admin"]),
                               json={"name": "http://example.com/"})
    assert renamed.status_code == 200
    report = api.get("/admin/export/units-report.xlsx?unit=DX", seeded["admin"])
    assert not [n for n in zipfile.ZipFile(io.BytesIO(report.data)).namelist()
                if n.startswith("xl/worksheets/_rels/")]


def test_report_csv_title_cannot_be_a_formula(api: Api, seeded: dict[str, str]) -> None:
    renamed = api.client.patch("/admin/api/units/DX", headers=bearer(seeded["admin"]),
                               json={"name": '=HYPERLINK("http://e")&"'})
    assert renamed.status_code == 200
    text = api.get("/admin/export/units-report.csv?unit=DX",
                   seeded["admin"]).data.decode("utf-8-sig")
    title = next(csv.reader(io.StringIO(text)))
    assert title[1].startswith("'=HYPERLINK")
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in csv.reader(io.StringIO(text))
                   for cell in row)


def test_downloads_are_in_the_audit_trail(api: Api, seeded: dict[str, str]) -> None:
    organizer = seeded["organizer"]
    assert api.get("/admin/export/donations.csv?unit=HC-A&status=paid", organizer).status_code \
        == 200
    assert api.get("/admin/export/donations.xlsx", organizer).status_code == 200
    assert api.get("/admin/export/units-report.pdf?unit=DX-HC", organizer).status_code == 200
    bundle = api.client.get("/admin/api/units/HC-A/qr-bundle.zip?campaign=one-yuan",
                            headers=bearer(organizer))
    assert bundle.status_code == 200
    refused = api.get("/admin/export/donations.csv?unit=DX-XF", organizer)
    assert refused.status_code == 403  # out of scope: nothing exported, nothing recorded
    done = [(a["actor"], a["action"], a["target"], a["detail"])
            for a in _actions(api, seeded["admin"])
            if a["action"].startswith(("export.", "unit.qr"))]
    assert [d[:3] for d in reversed(done)] == [
        ("hc-org", "export.donations", "donations.csv"),
        ("hc-org", "export.donations", "donations.xlsx"),
        ("hc-org", "export.report", "units-report.pdf"),
        ("hc-org", "unit.qr_bundle", "HC-A")]
    assert '"unit": "HC-A"' in done[-1][3] and '"status": "paid"' in done[-1][3]


def test_sign_ins_failures_and_lockouts_are_in_the_audit_trail(api: Api,
                                                               seeded: dict[str, str]) -> None:
    for _ in range(5):
        api.client.post("/admin/api/token", json={"username": "hc-org", "password": "wrong"})
    api.client.post("/admin/api/token", json={"username": "nobody", "password": "wrong"})
    mine = [a["action"] for a in _actions(api, seeded["admin"])
            if a["target"] == "hc-org" and a["action"].startswith("account.lo")]
    assert mine == ["account.locked"] + ["account.login_failed"] * 4 + ["account.login"]
    assert not [a for a in _actions(api, seeded["admin"]) if a["target"] == "nobody"]


@pytest.mark.parametrize("name", ["boss", "no-such-account"])
def test_concurrent_guesses_cannot_outrun_the_lockout(sessions: Any, session: Any,
                                                      name: str) -> None:
    # On SQLite, BEGIN IMMEDIATE already puts the guesses in a line; on PostgreSQL only the
    # account's row lock does (without it, all eight read "no failures yet"). A name that is
    # no account locks its own row of login_failures, made first if it is new.
    demo_tree(session)
    make_admin(session, *ADMIN)

    def guess(_n: int) -> str:
        with sessions() as own:
            try:
                accounts.authenticate(own, TEST_SECRET, name, "not it", utc_now())
            except DomainError as exc:
                return exc.code
        return "signed in"

    assert sorted(at_once(8, guess)) == ["rate_limited"] * 3 + ["unauthorized"] * 5


def test_a_name_that_is_no_account_locks_out_like_one(session: Any) -> None:
    """Whatever the name, the same answers at the same moments: a lockout tells nothing."""
    from datetime import timedelta

    from models import AuditEntry, LoginFailure

    demo_tree(session)
    make_admin(session, *ADMIN)
    start = utc_now()

    def answers(name: str, minutes: list[int]) -> list[str]:
        replies = []
        for minute in minutes:
            try:
                accounts.authenticate(session, TEST_SECRET, name, "not it",
                                      start + timedelta(minutes=minute))
            except DomainError as exc:
                replies.append(f"{exc.code}: {exc.message}")
        return replies

    # Five failures lock for 15 minutes from the fifth; then the count starts again.
    minutes = [0, 1, 2, 3, 4, 5, 18, 19, 20, 21, 22, 23, 24]
    real = answers("boss", minutes)
    assert real == answers("nobody-here", minutes)
    assert [reply.split(":")[0] for reply in real] == (
        ["unauthorized"] * 5 + ["rate_limited"] * 2 + ["unauthorized"] * 5 + ["rate_limited"])
    assert not session.query(AuditEntry).filter_by(target="nobody-here").count()
    # A name no account can have leaves nothing behind (and has nothing to hide).
    assert answers("no such name!", minutes) == ["unauthorized: 用户名或密码错误"] * 13
    assert session.query(LoginFailure).filter_by(username="no such name!").count() == 0
    # Strangers' counts are forgotten a day after their last failure...
    answers("someone-else", [24 * 60 + 30])
    assert [row.username for row in session.query(LoginFailure)] == ["someone-else"]
    # ... and so are an account's: waiting a day between guesses tells nothing either.
    make_admin(session, "clerk", "clerk password 1")
    apart = [3000, 3001, 3002, 3003, 3000 + 25 * 60, 3001 + 25 * 60]
    assert answers("clerk", apart) == answers("nobody-else", apart) == [
        "unauthorized: 用户名或密码错误"] * 6


def test_wrong_old_passwords_count_towards_the_lockout(api: Api, seeded: dict[str, str]) -> None:
    token = seeded["organizer"]
    for _ in range(5):
        wrong = api.client.post("/admin/api/password", headers=bearer(token),
                                json={"old_password": "guess", "new_password": "another pass 2"})
        assert wrong.status_code == 400
    locked = api.client.post("/admin/api/password", headers=bearer(token),
                             json={"old_password": "organizer pass 1",
                                   "new_password": "another pass 2"})
    assert locked.status_code == 429 and error_code(locked) == "rate_limited"
    sign_in = api.client.post("/admin/api/token", json={"username": "hc-org",
                                                         "password": "organizer pass 1"})
    assert sign_in.status_code == 429


def _console(api: Api) -> tuple[Any, str]:
    client = api.app.test_client()
    return client, form_csrf(client.get("/admin/login").data)


def test_odd_console_input_is_a_4xx(api: Api, seeded: dict[str, str]) -> None:
    client, csrf = _console(api)
    assert client.post("/admin/login", data={"username": "boss", "password": ADMIN[1],
                                             "csrf_token": "é"}).status_code == 403
    assert client.post("/admin/login", headers={"X-CSRF-Token": "密"},
                       data={"username": "boss", "password": ADMIN[1]}).status_code == 403
    signed_in = client.post("/admin/login", data={"username": "boss", "password": ADMIN[1],
                                                  "csrf_token": csrf,
                                                  "next": "/admin/\r\nX-Evil: 1"})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/admin/"
    assert "X-Evil" not in signed_in.headers
    for path in ("/admin/?endpoint=1", "/admin/reports?_method=POST",
                 "/admin/donations?_external=1&_anchor=x", "/admin/live?endpoint=x"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert b"_external" not in page.data and b"endpoint=" not in page.data


def test_console_pages_refuse_to_be_framed(api: Api, session: Any) -> None:
    reply = api.app.test_client().get("/admin/login")
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]


def test_an_empty_unit_kind_is_a_400(api: Api, seeded: dict[str, str]) -> None:
    reply = api.client.patch("/admin/api/units/DX-XF", headers=bearer(seeded["admin"]),
                             json={"kind": ""})
    assert reply.status_code == 400 and error_code(reply) == "invalid_request"


def test_csv_with_bare_carriage_returns_imports(api: Api, seeded: dict[str, str]) -> None:
    reply = api.client.post("/admin/api/accounts/import", headers=bearer(seeded["admin"]),
                            data=b"zed,DX\ryy,DX-HC\r", content_type="text/csv")
    assert reply.status_code == 201, reply.get_json()
    assert [r["username"] for r in reply.get_json()["accounts"]] == ["zed", "yy"]
    assert token_for(api, "yy", reply.get_json()["accounts"][1]["password"])
    # What the csv module refuses (a field past its limit; the CLI's units import has no body
    # limit) is the file's problem, said as such.
    with pytest.raises(ImportFileError, match="CSV"):
        read_rows("units.csv", b'"' + b"x" * 200_000 + b'"\n')


def test_an_account_import_is_all_or_nothing(session: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services.accounts import account_import
    from app.services.actor import SYSTEM
    from models import Account

    demo_tree(session)
    rows = account_import.read_accounts_csv(b"hc1,DX-HC\nhc2,DX-HC\nhc3,DX-HC\n")
    added: list[str] = []
    real_add = account_import.add_account

    def add_then_fail(*args: Any) -> Any:
        if added:  # the second account meets a failure (a lost connection, a full disk)
            raise RuntimeError("the database went away")
        added.append(args[2])
        return real_add(*args)

    monkeypatch.setattr(account_import, "add_account", add_then_fail)
    with pytest.raises(RuntimeError):
        account_import.import_accounts(session, SYSTEM, rows, utc_now())
    assert added == ["hc1"]
    assert session.query(Account).count() == 0  # the first one went back too
    monkeypatch.undo()
    assert [r.username for r in account_import.import_accounts(session, SYSTEM, rows,
                                                                utc_now())] == ["hc1", "hc2",
                                                                                "hc3"]
    assert session.query(Account).count() == 3


def test_passwords_hashed_together_keep_their_order() -> None:
    from app.infra.passwords import check_password, hash_passwords

    passwords = [f"pass-{n}-{'x' * n}" for n in range(6)]
    hashes = hash_passwords(passwords)
    assert len(set(hashes)) == len(passwords)  # each with a salt of its own
    for i, password in enumerate(passwords):
        assert [check_password(password, stored) for stored in hashes] == [
            j == i for j in range(len(hashes))]
    assert hash_passwords([]) == []


def test_only_a_taken_name_becomes_a_400() -> None:
    import sqlite3

    from sqlalchemy.exc import IntegrityError

    from app.services.errors import InvalidRequestError, taken_as

    def failing(orig: Exception) -> None:
        with taken_as("用户名 x 已存在"):
            raise IntegrityError("INSERT …", {}, orig)

    with pytest.raises(InvalidRequestError):
        failing(sqlite3.IntegrityError("UNIQUE constraint failed: accounts.username"))
    with pytest.raises(IntegrityError):  # any other constraint is a fault of ours: a 500
        failing(sqlite3.IntegrityError("FOREIGN KEY constraint failed"))
