"""The audit trail's 详情 column is a Chinese sentence, never the JSON kept behind it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from app.services.accounts.anomalies import ANOMALY_NAMES, AnomalyKind, anomaly_name
from app.web.console.audit_text import describe
from tests.admin.helpers import ADMIN, console_as, pay, seed
from tests.helpers import Api

CAMPAIGNS = {"one-yuan": "一元捐", "ten-yuan": "十元捐"}


@pytest.mark.parametrize(("action", "detail", "sentence"), [
    ("export.donations", {"campaign": "one-yuan", "unit": "DX-HC", "date_from": "2026-12-01"},
     "一元捐，单位 DX-HC 及其下级，下单日期 2026-12-01 起"),
    ("export.report", {"campaign": "ten-yuan", "unit": None, "from": "2026-01-01",
                       "to": "2026-02-01"},
     "十元捐，全区，支付日期 2026-01-01 至 2026-02-01（不含）"),
    ("account.create", {"role": "organizer", "unit": "DX-HC"},
     "角色为单位管理员，管理单位 DX-HC 及其下级"),
    ("campaign.update", {"goal_fen": 1000000, "status": "open"},
     "目标改为 10000.00 元，状态改为募捐中"),
    ("unit.update", {"active": False, "parent": "DX-XF"}, "停止募捐，移到 DX-XF 之下"),
    ("unit.create", {"name": "某公司工会", "parent": "DX-HC", "kind": "enterprise"},
     "企业“某公司工会”，上级单位 DX-HC"),
    ("unit.qr_bundle", {"campaign": "one-yuan"}, "下载一元捐的二维码与海报（ZIP）"),
    ("anomaly.resolve", {"kind": "amount_mismatch", "resolution": "已退款"},
     "“金额不符”异常已处理：已退款"),
    ("unit.import", {"created": 1, "updated": 0, "moved": False}, "新增 1 个单位，修改 0 个"),
    ("account.disable", {}, ""),
])
def test_each_action_reads_as_a_sentence(action: str, detail: dict[str, Any],
                                         sentence: str) -> None:
    assert describe(action, json.dumps(detail, ensure_ascii=False), CAMPAIGNS) == sentence


def test_the_audit_page_shows_no_json(api: Api, session: Any) -> None:
    tokens = seed(api, session)
    pay(api, "dave", "DX-XF")
    client = console_as(api, *ADMIN)
    assert client.get("/admin/export/donations.csv?campaign=one-yuan&unit=DX-HC"
                      ).status_code == 200
    assert tokens["admin"]
    page = client.get("/admin/audit").get_data(as_text=True)
    details = re.findall(r'<td class="detail" data-label="详情">(.*?)</td>', page, re.S)
    assert "一元捐，单位 DX-HC 及其下级" in details
    assert not [d for d in details if "{" in d or "&#34;" in d or "campaign" in d]



def test_every_anomaly_kind_reads_in_chinese() -> None:
    assert {str(kind) for kind in ANOMALY_NAMES} == {str(kind) for kind in AnomalyKind}
    assert anomaly_name(AnomalyKind.REFUNDED_OUTSIDE) == "商户平台退款"
