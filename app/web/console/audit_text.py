"""The audit trail's details as a clerk reads them: one Chinese sentence per entry, written
from the JSON the entry keeps (which the API still returns as it is)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from app.services.accounts.anomalies import anomaly_name
from app.services.formatting import yuan
from app.services.units.units import UNIT_KIND_NAMES

ROLES = {"admin": "管理员", "organizer": "单位管理员"}
CAMPAIGN_STATUSES = {"draft": "草稿", "open": "募捐中", "closed": "已关闭"}
DONATION_STATUSES = {"pending": "待支付", "paid": "已支付", "closed": "已关闭",
                     "disputed": "金额不符", "refunding": "退款中", "refunded": "已退款"}


def describe(action: str, detail: str, campaigns: Mapping[str, str] | None = None) -> str:
    """The entry's details in Chinese; an entry with none, or a detail not JSON, as kept."""
    try:
        data = json.loads(detail) if detail else {}
    except ValueError:
        return detail
    if not isinstance(data, dict) or not data:
        return ""
    names = dict(campaigns or {})
    writer = _WRITERS.get(action)
    if writer is None:
        return "；".join(f"{key}：{_plain(value)}" for key, value in data.items())
    return writer(data, names)


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "无"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _campaign(names: Mapping[str, str], code: Any) -> str:
    return names.get(str(code), str(code)) if code else "全部项目"


def _account(data: dict[str, Any], _names: Mapping[str, str]) -> str:
    role = ROLES.get(str(data.get("role")), str(data.get("role")))
    unit = data.get("unit")
    return f"角色为{role}" + (f"，管理单位 {unit} 及其下级" if unit else "")


def _failed(data: dict[str, Any], _names: Mapping[str, str]) -> str:
    return "修改密码时原密码不正确" if data.get("via") == "change_password" else ""


def _anomaly(data: dict[str, Any], _names: Mapping[str, str]) -> str:
    kind = anomaly_name(str(data.get("kind")))
    return f"“{kind}”异常已处理：{_plain(data.get('resolution'))}"


def _bundle(data: dict[str, Any], names: Mapping[str, str]) -> str:
    return f"下载{_campaign(names, data.get('campaign'))}的二维码与海报（ZIP）"


_CAMPAIGN_FIELDS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "name": ("名称", lambda v: f"“{v}”"),
    "amount_fen": ("每份金额", lambda v: f" {yuan(int(v))} 元"),
    "goal_fen": ("目标", lambda v: f" {yuan(int(v))} 元" if v else "不设"),
    "starts_on": ("开始日期", lambda v: f" {v}" if v else "不设"),
    "ends_on": ("结束日期", lambda v: f" {v}" if v else "不设"),
    "status": ("状态", lambda v: CAMPAIGN_STATUSES.get(str(v), str(v))),
    "description": ("说明", lambda v: f"“{v}”" if v else "空"),
}


def _campaign_change(verb: str) -> Callable[[dict[str, Any], Mapping[str, str]], str]:
    def write(data: dict[str, Any], _names: Mapping[str, str]) -> str:
        parts = []
        for key, value in data.items():
            label, show = _CAMPAIGN_FIELDS.get(key, (key, _plain))
            parts.append(f"{label}{verb}{show(value)}")
        return "，".join(parts)
    return write


def _donations_export(data: dict[str, Any], names: Mapping[str, str]) -> str:
    parts = [_campaign(names, data.get("campaign"))]
    if data.get("unit"):
        parts.append(f"单位 {data['unit']} 及其下级")
    if data.get("status"):
        parts.append(f"状态为{DONATION_STATUSES.get(data['status'], data['status'])}")
    parts.append(_dates(data.get("date_from"), data.get("date_to"), "下单"))
    if data.get("openid"):
        parts.append(f"捐款人 {data['openid']}")
    return "，".join(p for p in parts if p)


def _dates(start: Any, end: Any, what: str) -> str:
    if start and end:
        return f"{what}日期 {start} 至 {end}（不含）"
    if start:
        return f"{what}日期 {start} 起"
    if end:
        return f"{what}日期 {end} 之前"
    return ""


def _report_export(data: dict[str, Any], names: Mapping[str, str]) -> str:
    unit = f"单位 {data['unit']} 及其下级" if data.get("unit") else "全区"
    dates = _dates(data.get("from"), data.get("to"), "支付") or "全部日期"
    return f"{_campaign(names, data.get('campaign'))}，{unit}，{dates}"


def _unit_create(data: dict[str, Any], _names: Mapping[str, str]) -> str:
    kind = UNIT_KIND_NAMES.get(str(data.get("kind")), str(data.get("kind")))
    parent = f"，上级单位 {data['parent']}" if data.get("parent") else "，为最上级单位"
    return f"{kind}“{data.get('name')}”{parent}"


def _unit_update(data: dict[str, Any], _names: Mapping[str, str]) -> str:
    parts = []
    for key, value in data.items():
        if key == "name":
            parts.append(f"名称改为“{value}”")
        elif key == "kind":
            parts.append(f"类型改为{UNIT_KIND_NAMES.get(str(value), value)}")
        elif key == "headcount":
            parts.append(f"职工人数改为 {value}")
        elif key == "active":
            parts.append("恢复募捐" if value else "停止募捐")
        elif key == "parent":
            parts.append(f"移到 {value} 之下" if value else "改为最上级单位")
        else:
            parts.append(f"{key}：{_plain(value)}")
    return "，".join(parts)


def _unit_import(data: dict[str, Any], _names: Mapping[str, str]) -> str:
    moved = "，有单位调整了上级（合计已重算）" if data.get("moved") else ""
    return f"新增 {data.get('created', 0)} 个单位，修改 {data.get('updated', 0)} 个{moved}"


_WRITERS: dict[str, Callable[[dict[str, Any], Mapping[str, str]], str]] = {
    "account.create": _account,
    "account.login_failed": _failed,
    "account.locked": _failed,
    "anomaly.resolve": _anomaly,
    "unit.qr_bundle": _bundle,
    "campaign.create": _campaign_change("为"),
    "campaign.update": _campaign_change("改为"),
    "export.donations": _donations_export,
    "export.report": _report_export,
    "unit.create": _unit_create,
    "unit.update": _unit_update,
    "unit.import": _unit_import,
}
