"""The console's 二维码与海报 page: every unit in reach, in tree order, with its landing page,
codes, posters and subtree ZIP — and nothing of units out of reach."""

from __future__ import annotations

import re
from typing import Any

from tests.admin.helpers import ADMIN, ORGANIZER, console_as, form_csrf, seed
from tests.helpers import Api


def _rows(page: bytes) -> list[str]:
    return re.findall(r'<tr data-unit="([^"]+)"', page.decode())


def test_admins_see_every_unit_in_tree_order_with_working_links(api: Api,
                                                                session: Any) -> None:
    seed(api, session)
    client = console_as(api, *ADMIN)
    page = client.get("/admin/units?campaign=ten-yuan")
    assert page.status_code == 200
    # DX > (DX-XF, DX-HC > HC-A > HC-A1): each unit under its parent, in the order added.
    assert _rows(page.data) == ["DX", "DX-XF", "DX-HC", "HC-A", "HC-A1"]
    links = re.findall(r'href="([^"]+)"', page.data.decode().split('data-unit="HC-A"')[1]
                       .split("</tr>")[0])
    assert links == ["/d/HC-A/ten-yuan", "/qr/HC-A/ten-yuan.png", "/qr/HC-A/ten-yuan.svg",
                     "/qr/HC-A/ten-yuan.wxacode.png", "/posters/HC-A/ten-yuan.pdf",
                     "/posters/HC-A/ten-yuan.png",
                     "/admin/api/units/HC-A/qr-bundle.zip?campaign=ten-yuan"]
    for link in links:
        if "poster" in link and link.endswith(".png"):
            continue  # needs a CJK font; the PDF does not
        reply = client.get(link.replace("&amp;", "&"))
        assert reply.status_code == 200, link
    assert client.get(links[-1]).data.startswith(b"PK")  # the subtree's ZIP, signed in


def test_organizers_see_their_subtree_only(api: Api, session: Any) -> None:
    seed(api, session)
    page = console_as(api, *ORGANIZER).get("/admin/units")
    assert page.status_code == 200
    assert _rows(page.data) == ["DX-HC", "HC-A", "HC-A1"]
    assert b"DX-XF" not in page.data


def test_a_draft_campaign_is_not_offered(api: Api, session: Any) -> None:
    seed(api, session)
    client = console_as(api, *ADMIN)
    client.post("/admin/api/campaigns", json={"code": "spring", "name": "春季募捐",
                                              "amount_fen": 500},
                headers={"X-CSRF-Token": form_csrf(client.get("/admin/").data)})
    page = client.get("/admin/units?campaign=spring").data.decode()
    assert "春季募捐" not in page and "/d/DX/one-yuan" in page  # falls back to a public one


def test_the_audit_page_speaks_chinese(api: Api, session: Any) -> None:
    seed(api, session)  # sign-ins and three paid donations
    client = console_as(api, *ADMIN)
    page = client.get("/admin/audit").data.decode()
    assert ">已入账</span>" in page and 'title="recorded"' in page
    assert ">支付</td>" in page and ">登录</td>" in page
    notification = re.search(r'href="(/admin/notifications/\d+)"', page)
    assert notification is not None
    assert "· 已入账</h1>" in client.get(notification.group(1)).data.decode()


def test_the_daily_chart_labels_today(api: Api, session: Any) -> None:
    from datetime import datetime

    from app.services.formatting import SHANGHAI

    seed(api, session)
    page = console_as(api, *ADMIN).get("/admin/").data.decode()
    today = datetime.now(SHANGHAI).strftime("%m-%d")
    days = re.search(r'<div class="x-axis"[^>]*>(.*?)</div>', page, re.S)
    assert days is not None and days.group(1).endswith(f"<span>{today}</span>")
