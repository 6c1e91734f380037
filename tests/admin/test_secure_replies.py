"""Passwords hashed at OWASP's minimum and rehashed at sign-in; replies that carry a password or
token never cached; security headers on the console and landing pages; /healthz."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from app import create_app
from app.infra.passwords import check_password, hash_password
from models import Account
from tests.admin.helpers import ADMIN, bearer, token_for
from tests.conftest import app_config
from tests.helpers import Api, demo_tree, make_admin


def _old_scrypt(password: str) -> str:
    """A hash as earlier releases made it (scrypt, N = 2^14)."""
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return "$".join(["scrypt", str(2**14), "8", "1", base64.b64encode(salt).decode(),
                     base64.b64encode(digest).decode()])


def test_passwords_are_argon2id_at_owasps_minimum() -> None:
    stored = hash_password("correct horse 1")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert check_password("correct horse 1", stored) and not check_password("other", stored)


def test_an_old_hash_is_replaced_at_the_next_sign_in(api: Api, session: Any) -> None:
    make_admin(session, *ADMIN)
    session.execute(update(Account).values(password_hash=_old_scrypt(ADMIN[1])))
    session.commit()

    def stored() -> str:
        session.rollback()  # a new snapshot (SQLite)
        return str(session.scalar(select(Account.password_hash)))

    refused = api.client.post("/admin/api/token", json={"username": ADMIN[0], "password": "no"})
    assert refused.status_code == 401
    assert stored().startswith("scrypt$")  # a wrong password changes nothing
    assert token_for(api, *ADMIN)
    assert stored().startswith("$argon2id$") and check_password(ADMIN[1], stored())
    assert token_for(api, *ADMIN)  # and the new hash signs in


def test_replies_with_a_password_or_token_are_never_cached(api: Api, session: Any) -> None:
    demo_tree(session)
    make_admin(session, *ADMIN)
    token = api.client.post("/admin/api/token", json=dict(zip(("username", "password"), ADMIN,
                                                              strict=True)))
    worker = api.client.post("/api/login", json={"code": "no-store-check#1"})
    imported = api.client.post("/admin/api/accounts/import", headers=bearer(token_for(api, *ADMIN)),
                               data=b"username,unit\nxf1,DX-XF\n", content_type="text/csv")
    assert imported.status_code == 201 and imported.get_json()["accounts"][0]["password"]
    for reply in (token, worker, imported):
        assert reply.headers["Cache-Control"] == "no-store"


def test_pages_carry_security_headers(api: Api, session: Any) -> None:
    demo_tree(session)
    for path in ("/admin/login", "/d/DX-XF/one-yuan"):
        reply = api.client.get(path)
        assert reply.status_code == 200, path
        csp = reply.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["Referrer-Policy"] == "same-origin"


def test_healthz_says_whether_the_database_answers_with_this_schema(
        client: Any, sessions: Any, tmp_path: Path, http_server: Any) -> None:
    ready = client.get("/healthz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ok"
    (tmp_path / "empty.db").touch()
    for url in (f"sqlite:///{tmp_path / 'empty.db'}",
                "postgresql+psycopg://nobody@127.0.0.1:9/none"):
        other = create_app(app_config(url, http_server[1], tmp_path))
        reply = other.test_client().get("/healthz")
        other.extensions["warmfund"].engine.dispose()
        assert reply.status_code == 503 and reply.get_json()["status"] == "unavailable", url
