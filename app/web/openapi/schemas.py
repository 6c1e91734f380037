"""The shapes of every JSON body and reply, as JSON Schema 2020-12 (OpenAPI 3.1's dialect).

Enumerations come from the models (`models.tables`), so a new status or kind reaches the spec
without an edit here. Replies are closed (`additionalProperties: false`): a field added to a
reply without being described here fails the reply-conformance tests.
"""

from __future__ import annotations

from typing import Any

from models.tables import CampaignStatus, DonationStatus, Role, UnitKind

Schema = dict[str, Any]

UNIT_CODE = "^[A-Za-z0-9_-]{1,16}$"
CAMPAIGN_CODE = "^[a-z0-9-]{1,15}$"
DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None,
        closed: bool = True) -> Schema:
    """An object with these properties; `closed` refuses any other."""
    schema: Schema = {"type": "object", "required": sorted(required),
                      "properties": {**required, **(optional or {})}}
    if closed:
        schema["additionalProperties"] = False
    return schema


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def enum_of(values: Any) -> Schema:
    return {"type": "string", "enum": [v.value for v in values]}


TEXT: Schema = {"type": "string"}
NAME: Schema = {"type": "string", "minLength": 1}
COUNT: Schema = {"type": "integer", "minimum": 0}
FEN: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
DAY: Schema = {"type": "string", "pattern": DATE}
CURSOR: Schema = nullable({"type": "string"})
FIGURES = {"total_fen": FEN, "donation_count": COUNT, "donor_count": COUNT}
CAMPAIGN_FIELDS = {"code": TEXT, "name": TEXT, "amount_fen": FEN,
                   "status": enum_of(CampaignStatus), "goal_fen": FEN, **FIGURES}
DONATION_FIELDS = {"out_trade_no": NAME, "status": enum_of(DonationStatus), "amount_fen": FEN,
                   "quantity": {"type": "integer", "minimum": 1}, "campaign": TEXT,
                   "unit": TEXT, "anonymous": BOOL, "message": TEXT, "created_at": TIME,
                   "paid_at": nullable(TIME), "refunded_fen": COUNT}
NOTIFICATION_FIELDS = {"id": COUNT, "kind": TEXT, "received_at": TIME, "remote_addr": TEXT,
                       "verdict": TEXT, "out_trade_no": nullable(TEXT),
                       "transaction_id": nullable(TEXT), "detail": TEXT}
BILL_CHECK_FIELDS = {"id": COUNT, "date": DAY, "status": TEXT, "problem": nullable(TEXT),
                     "started_by": TEXT, "started_at": TIME, "checked_at": nullable(TIME),
                     "bill": nullable(ref("BillFigures")), "ledger": nullable(ref("BillFigures")),
                     "findings_count": COUNT}
CAMPAIGN_CHANGES = {"name": TEXT, "amount_fen": {"type": "integer"},
                    "goal_fen": {"type": "integer"}, "starts_on": TEXT, "ends_on": TEXT,
                    "description": TEXT, "status": enum_of(CampaignStatus)}

SCHEMAS: dict[str, Schema] = {
    "Error": obj({"error": obj({"code": {"type": "string", "pattern": "^[a-z_]+$"},
                                "message": NAME})}),
    "WeChatPayFail": obj({"code": {"const": "FAIL"}, "message": TEXT}),
    "Ok": obj({"ok": {"const": True}}),
    "Health": obj({"status": {"enum": ["ok", "unavailable"]}, "database": TEXT}),
    "Token": obj({"token": NAME, "expires_in": {"type": "integer", "minimum": 1}}),
    # The mini-program's shapes.
    "Campaign": obj(CAMPAIGN_FIELDS),
    "CampaignList": obj({"campaigns": array(ref("Campaign"))}),
    "PathStep": obj({"code": TEXT, "name": TEXT}),
    "UnitTotals": obj({"campaign": TEXT, **FIGURES}),
    "Unit": obj({"code": TEXT, "name": TEXT, "kind": enum_of(UnitKind), "active": BOOL,
                 "path": array(ref("PathStep")), "totals": array(ref("UnitTotals"))}),
    "Entry": obj({"unit": ref("Unit"), "campaign": ref("Campaign"),
                  "max_quantity": {"type": "integer", "minimum": 1}}),
    "Donation": obj(DONATION_FIELDS),
    "Payment": obj({"timeStamp": TEXT, "nonceStr": TEXT, "package": TEXT,
                    "signType": {"const": "RSA"}, "paySign": TEXT}),
    "Order": obj({**DONATION_FIELDS, "payment": ref("Payment")}),
    "DonationPage": obj({"donations": array(ref("Donation")), "next": CURSOR}),
    "LoginRequest": obj({"code": NAME}, closed=False),
    "OrderRequest": obj({"campaign": {"type": "string", "examples": ["one-yuan"]},
                         "unit": {"type": "string", "examples": ["DX-XF"]}},
                        {"quantity": {"type": "integer", "minimum": 1}, "anonymous": BOOL,
                         "message": {"type": "string", "maxLength": 50}}, closed=False),
    # The admin API's shapes.
    "TokenRequest": obj({"username": TEXT, "password": TEXT}, closed=False),
    "PasswordChange": obj({"old_password": TEXT, "new_password": TEXT}, closed=False),
    "Me": obj({"username": TEXT, "role": enum_of(Role), "unit": nullable(TEXT),
               "unit_name": nullable(TEXT)}),
    "AdminCampaign": obj({**CAMPAIGN_FIELDS, "starts_on": nullable(DAY),
                          "ends_on": nullable(DAY), "description": TEXT}),
    "AdminCampaignList": obj({"campaigns": array(ref("AdminCampaign"))}),
    "CampaignChanges": obj({}, CAMPAIGN_CHANGES, closed=False),
    "CampaignCreate": obj({"code": {"type": "string", "pattern": CAMPAIGN_CODE},
                           "name": TEXT, "amount_fen": {"type": "integer"}},
                          CAMPAIGN_CHANGES, closed=False),
    "TotalsRow": obj({"code": TEXT, "name": TEXT, "parent": nullable(TEXT), **FIGURES,
                      "subtree_total_fen": FEN, "subtree_donation_count": COUNT,
                      "subtree_donor_count": COUNT}),
    "Period": obj({"from": nullable(DAY), "to": nullable(DAY), **FIGURES}),
    "CampaignTotals": obj({"campaign": ref("Campaign"), "units": array(ref("TotalsRow"))},
                          {"period": ref("Period")}),
    # The dashboard is what the console draws; its parts are described, not closed.
    "Dashboard": obj({"campaign": ref("Campaign"), "unit": nullable({"type": "object"}),
                      "summary": obj(FIGURES, {"today": ref("Figures"), "year": ref("Figures"),
                                               "goal_fen": FEN,
                                               "progress": nullable({"type": "number"})},
                                     closed=False),
                      "children": {"type": "object"}, "levels": array({"type": "object"}),
                      "chart": obj({"days": array({"type": "object"}),
                                    "hours": array({"type": "object"})}, closed=False),
                      "recent": array({"type": "object"}), "sort": TEXT}),
    "Figures": obj(FIGURES),
    "AdminDonation": obj({"out_trade_no": NAME, "transaction_id": nullable(TEXT),
                          "status": enum_of(DonationStatus), "amount_fen": FEN,
                          "quantity": COUNT, "campaign": TEXT, "unit": TEXT,
                          "unit_name": TEXT, "openid": TEXT, "anonymous": BOOL,
                          "message": TEXT, "paid_after_close": BOOL, "created_at": TIME,
                          "paid_at": nullable(TIME), "refunded_fen": COUNT}),
    "AdminDonationPage": obj({"donations": array(ref("AdminDonation")), "next": CURSOR}),
    "Account": obj({"username": TEXT, "role": enum_of(Role), "unit": nullable(TEXT),
                    "active": BOOL}),
    "AccountList": obj({"accounts": array(ref("Account"))}),
    "AccountCreate": obj({"username": TEXT, "password": TEXT, "role": enum_of(Role)},
                         {"unit": nullable(TEXT)}, closed=False),
    "AccountChanges": obj({}, {"active": BOOL, "password": TEXT}, closed=False),
    "ImportedAccounts": obj({"accounts": array(obj({"username": TEXT, "role": enum_of(Role),
                                                    "unit": nullable(TEXT),
                                                    "password": nullable(TEXT)}))}),
    "AuditPage": obj({"actions": array(obj({"id": COUNT, "at": TIME, "actor": TEXT,
                                            "action": TEXT, "target": TEXT, "detail": TEXT,
                                            "remote_addr": TEXT})), "next": CURSOR}),
    "Notification": obj(NOTIFICATION_FIELDS),
    "NotificationPage": obj({"notifications": array(ref("Notification")), "next": CURSOR}),
    "NotificationDetail": obj({**NOTIFICATION_FIELDS, "body": TEXT,
                               "headers": {"type": "object", "additionalProperties": TEXT}}),
    "Anomaly": obj({"id": COUNT, "kind": TEXT, "kind_name": TEXT,
                    "out_trade_no": nullable(TEXT), "detail": TEXT, "created_at": TIME,
                    "resolved_at": nullable(TIME), "resolved_by": nullable(TEXT),
                    "resolution": nullable(TEXT)}),
    "AnomalyList": obj({"anomalies": array(ref("Anomaly"))}),
    "Resolution": obj({"resolution": TEXT}, closed=False),
    # Refunds and the trade bill check.
    "RefundRequest": obj({"reason": {"type": "string", "minLength": 1, "maxLength": 80}},
                         {"amount_fen": {"type": "integer", "minimum": 1}}, closed=False),
    "RefundStarted": obj({"out_refund_no": NAME, "status": {"const": "refunding"}}),
    "Refund": obj({"out_refund_no": NAME, "out_trade_no": NAME, "refund_id": nullable(TEXT),
                   "amount_fen": COUNT, "reason": nullable(TEXT), "status": TEXT,
                   "status_name": TEXT, "requested_by": nullable(TEXT), "outside": BOOL,
                   "detail": nullable(TEXT), "created_at": TIME,
                   "succeeded_at": nullable(TIME)}),
    "RefundList": obj({"refunds": array(ref("Refund"))}),
    "BillFigures": obj({"count": COUNT, "paid_fen": FEN, "refund_fen": FEN},
                       {"fee_fen": FEN}),
    "BillCheck": obj(BILL_CHECK_FIELDS),
    "BillCheckList": obj({"bills": array(ref("BillCheck"))}),
    "BillCheckDetail": obj({**BILL_CHECK_FIELDS, "unexplained": COUNT,
                            "findings": array(obj({"kind": TEXT, "out_trade_no": nullable(TEXT),
                                                   "detail": TEXT},
                                                  {"out_refund_no": TEXT}))}),
    "AdminUnit": obj({"code": TEXT, "name": TEXT, "parent": nullable(TEXT),
                      "kind": enum_of(UnitKind), "headcount": nullable(COUNT), "active": BOOL}),
    "AdminUnitList": obj({"units": array(ref("AdminUnit"))}),
    "UnitCreate": obj({"code": {"type": "string", "pattern": UNIT_CODE}, "name": NAME,
                       "kind": enum_of(UnitKind)},
                      {"parent": nullable(TEXT), "headcount": nullable(COUNT)}, closed=False),
    "UnitChanges": obj({}, {"name": NAME, "kind": enum_of(UnitKind),
                            "headcount": nullable(COUNT), "active": BOOL,
                            "parent": nullable(TEXT)}),
}
