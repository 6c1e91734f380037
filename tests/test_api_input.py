"""Bad input anywhere in the mini-program API gets a 4xx in the contract's shape, never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import Api, demo_tree


@pytest.fixture
def token(api: Api, session: Any) -> str:
    demo_tree(session)
    return api.login("bob")


def _error(reply: Any, status: int, code: str) -> None:
    assert reply.status_code == status, reply.get_data(as_text=True)
    body = reply.get_json()
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.mark.parametrize("body", [
    {"unit": "DX-XF"}, {"campaign": "one-yuan"}, {"campaign": 1, "unit": "DX-XF"},
    {"campaign": "one-yuan", "unit": ["DX-XF"]},
    {"campaign": "one-yuan", "unit": "DX-XF", "quantity": 0},
    {"campaign": "one-yuan", "unit": "DX-XF", "quantity": -1},
    {"campaign": "one-yuan", "unit": "DX-XF", "quantity": 101},
    {"campaign": "one-yuan", "unit": "DX-XF", "quantity": 10**30},
    {"campaign": "one-yuan", "unit": "DX-XF", "quantity": 1.5},
    {"campaign": "one-yuan", "unit": "DX-XF", "quantity": "2"},
    {"campaign": "one-yuan", "unit": "DX-XF", "quantity": True},
    {"campaign": "one-yuan", "unit": "DX-XF", "anonymous": "yes"},
    {"campaign": "one-yuan", "unit": "DX-XF", "message": "好" * 51},
    {"campaign": "one-yuan", "unit": "DX-XF", "message": 5},
])
def test_bad_orders_are_400(api: Api, token: str, body: dict[str, Any]) -> None:
    reply = api.client.post("/api/donations", json=body,
                            headers={"Authorization": f"Bearer {token}"})
    _error(reply, 400, "invalid_request")
    _shown_to_a_worker(reply.get_json()["error"]["message"])


def _shown_to_a_worker(message: str) -> None:
    """Chinese, naming fields as the worker knows them: no JSON names (quantity, unit …)."""
    assert not re.search("[A-Za-z]", message), message


@pytest.mark.parametrize(("data", "content_type"), [
    (b"{", "application/json"), (b"[1, 2]", "application/json"), (b"\xff\xfe", "application/json"),
    (b"campaign=one-yuan", "application/x-www-form-urlencoded"), (b"null", "application/json"),
])
def test_malformed_bodies_are_400(api: Api, token: str, data: bytes, content_type: str) -> None:
    _error(api.client.post("/api/donations", data=data, content_type=content_type,
                           headers={"Authorization": f"Bearer {token}"}), 400, "invalid_request")


def test_oversized_body_is_413(api: Api, token: str) -> None:
    body = b'{"message": "' + b"x" * 70000 + b'"}'
    _error(api.client.post("/api/donations", data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"}), 413, "payload_too_large")


def test_unknown_campaign_and_unit_are_404(api: Api, token: str) -> None:
    _error(api.order(token, campaign="no-such"), 404, "not_found")
    _error(api.order(token, unit="NOPE"), 404, "not_found")
    _error(api.get("/api/campaigns/no-such"), 404, "not_found")
    _error(api.get("/api/units/NOPE"), 404, "not_found")
    _error(api.get("/api/nothing-here"), 404, "not_found")


def test_closed_campaign_and_inactive_unit_are_409(api: Api, token: str, session: Any) -> None:
    from models import Campaign, Unit

    session.query(Campaign).filter_by(code="ten-yuan").update({"status": "closed"})
    session.query(Unit).filter_by(code="DX-HC").update({"active": False})
    session.commit()
    _error(api.order(token, campaign="ten-yuan"), 409, "campaign_closed")
    _error(api.order(token, unit="DX-HC"), 409, "unit_inactive")


@pytest.mark.parametrize("header", [
    None, "Bearer", "Bearer not-a-token", "Basic abc", "Bearer eyJvIjoiYSJ9.bad.sig",
])
def test_missing_or_forged_tokens_are_401(api: Api, token: str, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    reply = api.client.post("/api/donations", json={"campaign": "one-yuan", "unit": "DX-XF"},
                            headers=headers)
    _error(reply, 401, "unauthorized")
    _error(api.client.get("/api/me/donations", headers=headers), 401, "unauthorized")


def test_expired_token_is_401(api: Api, token: str) -> None:
    from itsdangerous import URLSafeTimedSerializer

    from tests.conftest import TEST_SECRET

    signer = URLSafeTimedSerializer(TEST_SECRET, salt="worker")
    old = signer.dumps({"o": "o-someone"})
    ttl = api.runtime.deps.token_ttl_seconds
    import time

    real = time.time
    try:
        time.time = lambda: real() - ttl - 10  # type: ignore[assignment]
        old = signer.dumps({"o": "o-someone"})
    finally:
        time.time = real  # type: ignore[assignment]
    _error(api.get("/api/me/donations", old), 401, "unauthorized")


def test_token_signed_with_another_key_is_401(api: Api, token: str) -> None:
    from itsdangerous import URLSafeTimedSerializer

    other = URLSafeTimedSerializer("another-secret-key-entirely", salt="worker").dumps({"o": "x"})
    _error(api.get("/api/me/donations", other), 401, "unauthorized")


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 5}, {"code": "x" * 200}])
def test_bad_login_is_4xx(api: Api, body: dict[str, Any]) -> None:
    reply = api.client.post("/api/login", json=body)
    assert reply.status_code == 400
    assert reply.get_json()["error"]["code"] == "invalid_request"
    _shown_to_a_worker(reply.get_json()["error"]["message"])


def test_reused_login_code_is_401(api: Api) -> None:
    assert api.client.post("/api/login", json={"code": "carol#1"}).status_code == 200
    _error(api.client.post("/api/login", json={"code": "carol#1"}), 401, "unauthorized")


def test_bad_cursor_is_400(api: Api, token: str) -> None:
    _error(api.get("/api/me/donations?cursor=abc", token), 400, "invalid_request")


def test_wrong_method_is_4xx_in_shape(api: Api) -> None:
    reply = api.client.delete("/api/campaigns")
    assert reply.status_code in (400, 405)
    assert "error" in reply.get_json()


@pytest.mark.parametrize("path", [
    "/api/me/donations?cursor=%C2%B2", "/api/me/donations?cursor=" + "9" * 40,
])
def test_odd_cursors_are_400(api: Api, token: str, path: str) -> None:
    _error(api.get(path, token), 400, "invalid_request")


@pytest.mark.parametrize("escaped", ["\\ud800", "a\\u0000b"])
def test_unstorable_strings_are_400(api: Api, token: str, escaped: str) -> None:
    order = ('{"campaign": "one-yuan", "unit": "DX-XF", "message": "' + escaped + '"}').encode()
    _error(api.client.post("/api/donations", data=order, content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"}), 400, "invalid_request")
    login = ('{"code": "' + escaped + '"}').encode()
    _error(api.client.post("/api/login", data=login, content_type="application/json"), 400,
           "invalid_request")


@pytest.mark.parametrize("path", ["/api/units/a%00b", "/api/campaigns/x%00",
                                  "/api/units/" + "A" * 40])
def test_impossible_codes_are_404(api: Api, path: str) -> None:
    _error(api.get(path), 404, "not_found")


@pytest.mark.parametrize("query", ["q=http://[x", "q=" + "%" * 5, "scene=%ZZ"])
def test_malformed_entry_links_are_4xx(api: Api, token: str, query: str) -> None:
    reply = api.get(f"/api/entry?{query}")
    assert 400 <= reply.status_code < 500
    assert reply.get_json()["error"]["code"] in ("invalid_request", "not_found")


@pytest.mark.parametrize("depth", [33, 600, 5000])
@pytest.mark.parametrize("path", ["/api/login", "/admin/api/token", "/api/donations"])
def test_deeply_nested_json_is_400(api: Api, token: str, path: str, depth: int) -> None:
    body = b'{"code": "x", "extra": ' + b"[" * depth + b"]" * depth + b"}"
    _error(api.client.post(path, data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"}), 400, "invalid_request")


def test_json_nested_a_little_is_read(api: Api) -> None:
    body = b'{"code": "carol", "extra": ' + b"[" * 31 + b"]" * 31 + b"}"
    reply = api.client.post("/api/login", data=body, content_type="application/json")
    assert reply.status_code == 200, reply.get_data(as_text=True)


def test_draft_campaigns_are_not_public(api: Api, token: str, session: Any) -> None:
    from models import Campaign

    session.query(Campaign).filter_by(code="ten-yuan").update({"status": "draft"})
    session.commit()
    _error(api.get("/api/campaigns/ten-yuan"), 404, "not_found")
    _error(api.get("/api/entry?scene=DX-XF/ten-yuan"), 404, "not_found")
    _error(api.get("/qr/DX-XF/ten-yuan.png"), 404, "not_found")
    assert [c["code"] for c in api.get("/api/campaigns").get_json()["campaigns"]] == ["one-yuan"]
    # Ordering answers as for a code that does not exist: a draft's existence stays private.
    draft, unknown = api.order(token, campaign="ten-yuan"), api.order(token, campaign="no-such")
    _error(draft, 404, "not_found")
    assert draft.get_json() == unknown.get_json()


@pytest.mark.parametrize("errcode, expected", [
    (40029, "unauthorized"), (40163, "unauthorized"), (40226, "unauthorized"),
    (45011, "rate_limited"),  # the worker's own minute quota
    (40125, "wechat_unavailable"), (40164, "wechat_unavailable"), (-1, "wechat_unavailable"),
])
def test_code2session_errors_are_told_apart(session: Any, fake_deps: Any, errcode: int,
                                            expected: str) -> None:
    # A bad code is the worker's to retry; our secret, IP allowlist or quota is ours.
    from app.services.catalog.donor_login import login
    from app.services.errors import DomainError
    from wechat.errors import MiniProgramError

    fake_deps.miniprogram.fail_next = MiniProgramError(errcode, "refused")
    with pytest.raises(DomainError) as caught:
        login(session, fake_deps, "alice#1")
    assert caught.value.code == expected
