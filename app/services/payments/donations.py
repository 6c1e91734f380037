"""A worker orders shares, gets the wx.requestPayment parameters, and reads their donations."""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, insert, select, true, update
from sqlalchemy.orm import Session

from app.services.catalog.campaigns import CAMPAIGN_CODE, find_public_campaign
from app.services.deps import Deps
from app.services.errors import (
    CampaignClosedError,
    InvalidRequestError,
    NotFoundError,
    UnitInactiveError,
    WeChatUnavailableDomainError,
)
from app.services.formatting import SHANGHAI, donation_view
from app.services.paging import newest_first
from app.services.payments.payments import NOT_SUCCESS, ask_wechat_pay
from app.services.units.units import UNIT_CODE, find_unit
from models import Campaign, CampaignStatus, Donation, DonationStatus, Unit, Worker
from models.base import UTCDateTime
from models.database import standalone_writes, statements_apart, write_transaction
from models.direct import DirectStatement
from models.tables import donations_table
from wechat import JsapiOrder
from wechat.errors import WeChatError

MESSAGE_MAX = 50
_COLUMN = donations_table.c
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class OrderRequest:
    openid: str
    campaign: str
    unit: str
    quantity: int = 1
    anonymous: bool = False
    message: str = ""


@dataclass(frozen=True)
class PlacedOrder:
    donation: dict[str, Any]
    payment: dict[str, str]
    created: bool


def place_order(session: Session, deps: Deps, request: OrderRequest) -> PlacedOrder:
    """Create (or hand back an identical pending) donation and its WeChat Pay order."""
    _check_request(deps, request)
    target, donation, created = _pending_donation(session, deps, request)
    prepay_id = donation.prepay_id or _create_at_wechat(session, deps, donation, target)
    try:
        params = deps.pay.payment_params(prepay_id)
    except WeChatError as exc:
        raise WeChatUnavailableDomainError() from exc
    view = donation_view(donation, target.campaign_code, target.unit_code)
    return PlacedOrder(view, params.as_dict(), created)


def _check_request(deps: Deps, request: OrderRequest) -> None:
    if not 1 <= request.quantity <= deps.max_quantity:
        raise InvalidRequestError(f"份数须在 1 到 {deps.max_quantity} 之间")
    if len(request.message) > MESSAGE_MAX:
        raise InvalidRequestError(f"留言不能超过 {MESSAGE_MAX} 个字")


@dataclass(frozen=True)
class _Target:
    """What an order needs of its campaign and unit, read as plain columns."""

    campaign_id: int
    campaign_code: str
    campaign_name: str
    amount_fen: int
    status: str
    starts_on: date | None
    ends_on: date | None
    unit_id: int
    unit_code: str
    unit_name: str
    active: bool


_CAMPAIGN = Campaign.__table__.c
_UNIT = Unit.__table__.c
# The worker's row is locked in the same statement (FOR UPDATE in the subquery; SQLite has no
# row locks and serialises writes anyway): it serialises one worker's orders, so that a double
# tap cannot make two identical orders. The same-order check after it is a statement of its
# own, so on PostgreSQL it sees what a double tap's other half committed while this one waited.
_LOCKED_TARGET = DirectStatement(select(
    _CAMPAIGN.id.label("campaign_id"), _CAMPAIGN.code.label("campaign_code"),
    _CAMPAIGN.name.label("campaign_name"), _CAMPAIGN.amount_fen, _CAMPAIGN.status,
    _CAMPAIGN.starts_on, _CAMPAIGN.ends_on, _UNIT.id.label("unit_id"),
    _UNIT.code.label("unit_code"), _UNIT.name.label("unit_name"), _UNIT.active,
    select(Worker.id).where(Worker.openid == bindparam("openid")).with_for_update()
    .scalar_subquery().label("worker_id"),
).select_from(Campaign.__table__.join(Unit.__table__, true())).where(
    _CAMPAIGN.code == bindparam("campaign"), _UNIT.code == bindparam("unit")))


def _find_target_and_lock_worker(session: Session, request: OrderRequest) -> _Target:
    """The campaign and unit in one statement, the worker's row locked by it; when either is
    missing (or a draft), the lookups that say which (and keep a code that cannot exist from
    the database)."""
    row = None
    if CAMPAIGN_CODE.fullmatch(request.campaign) and UNIT_CODE.fullmatch(request.unit):
        row = _LOCKED_TARGET.first(session.connection(), {
            "campaign": request.campaign, "unit": request.unit, "openid": request.openid})
    if row is None or row.status == CampaignStatus.DRAFT:
        find_public_campaign(session, request.campaign)  # a draft is no campaign yet
        find_unit(session, request.unit)
        raise NotFoundError("找不到该募捐项目")  # only a race with an admin gets here
    fields = row._asdict()
    del fields["worker_id"]
    return _Target(**fields)


def _check_open(target: _Target, deps: Deps) -> None:
    if target.status != CampaignStatus.OPEN:
        raise CampaignClosedError()
    today = deps.clock().astimezone(SHANGHAI).date()
    if (target.starts_on and today < target.starts_on) or (
            target.ends_on and today > target.ends_on):
        raise CampaignClosedError("该项目不在募捐期内")
    if not target.active:
        raise UnitInactiveError()


_NEW_FIELDS = ("out_trade_no", "campaign_id", "unit_id", "openid", "quantity", "amount_fen",
               "anonymous", "message", "status", "created_at", "expires_at", "order_description")
_IDENTICAL = (
    _COLUMN.openid == bindparam("openid"), _COLUMN.campaign_id == bindparam("campaign_id"),
    _COLUMN.unit_id == bindparam("unit_id"), _COLUMN.quantity == bindparam("quantity"),
    _COLUMN.anonymous == bindparam("anonymous"), _COLUMN.message == bindparam("message"),
    _COLUMN.status == DonationStatus.PENDING,
    _COLUMN.expires_at > bindparam("fresh_until", type_=UTCDateTime()))
# The new order, unless an identical one is pending: one statement where a check and an insert
# were two. It runs after the worker's row is locked, so it sees a double tap's other half.
_NEW_UNLESS_SAME = DirectStatement(insert(donations_table).from_select(
    _NEW_FIELDS, select(*(bindparam(name, type_=_COLUMN[name].type) for name in _NEW_FIELDS))
    .where(~exists().where(*_IDENTICAL))).returning(_COLUMN.id))
_SAME = DirectStatement(
    select(donations_table).where(*_IDENTICAL).order_by(_COLUMN.id.desc()).limit(1))
_INSERT = DirectStatement(insert(donations_table).values(
    {name: bindparam(name) for name in _NEW_FIELDS}).returning(_COLUMN.id))


def _pending_donation(session: Session, deps: Deps,
                      request: OrderRequest) -> tuple[_Target, Donation, bool]:
    """In one write transaction (the campaign and unit read in it, as plain columns): the
    worker's identical pending order if there is one, else a new one."""
    now = deps.clock()
    with write_transaction(session):
        target = _find_target_and_lock_worker(session, request)
        _check_open(target, deps)
        fields = _new_donation(deps, request, target, now)
        # The Donation handed on is never added to the session, so reading its fields loads
        # nothing back from the database.
        conn = session.connection()
        params = {**fields, "fresh_until": now + timedelta(minutes=2)}
        new_id = _NEW_UNLESS_SAME.scalar(conn, params)
        if new_id is None:
            same = _SAME.first(conn, params)
            if same is not None:
                return target, Donation(**same._asdict()), False
            # Paid or closed since the statement before (a notification, reconcile): not the
            # same pending order any more, so a new one after all.
            new_id = _INSERT.scalar(conn, fields)
        fields["id"] = new_id
    return target, Donation(**fields), True


def _new_donation(deps: Deps, request: OrderRequest, target: _Target,
                  now: datetime) -> dict[str, Any]:
    return dict(
        out_trade_no=new_out_trade_no(now), campaign_id=target.campaign_id,
        unit_id=target.unit_id, openid=request.openid, quantity=request.quantity,
        amount_fen=target.amount_fen * request.quantity, anonymous=request.anonymous,
        message=request.message, status=DonationStatus.PENDING, created_at=now,
        expires_at=now + timedelta(minutes=deps.order_expire_minutes),
        order_description=_description(target))


def new_out_trade_no(now: datetime) -> str:
    stamp = now.astimezone(SHANGHAI).strftime("%y%m%d%H%M%S")
    return "WF" + stamp + "".join(secrets.choice(_ALPHABET) for _ in range(12))


def _description(target: _Target) -> str:
    return f"{target.campaign_name}-{target.unit_name}"[:127]


def _create_at_wechat(session: Session, deps: Deps, donation: Donation, target: _Target) -> str:
    order = JsapiOrder(
        out_trade_no=donation.out_trade_no,
        description=donation.order_description or _description(target),
        amount_fen=donation.amount_fen, openid=donation.openid,
        time_expire=donation.expires_at, attach=f"{target.unit_code}/{target.campaign_code}")
    try:
        prepay_id: str = deps.pay.create_jsapi_order(order)
    except WeChatError as exc:
        # Left pending without a prepay_id: a retry re-sends the same order, and reconcile
        # closes it if WeChat never saw it.
        raise WeChatUnavailableDomainError() from exc
    statements_apart(session)
    with standalone_writes(session):
        stored = _STORE_PREPAY_ID.rowcount(session.connection(),
                                           {"donation": donation.id, "prepay": prepay_id})
    if not stored and session.scalar(select(Donation.status).where(
            Donation.id == donation.id)) == DonationStatus.CLOSED:
        # Reconcile closed the order meanwhile, as one WeChat Pay had never seen: it must not be
        # paid now. No payment parameters leave here, and the order at WeChat Pay is closed too
        # (should that fail, nobody can pay it without the parameters; it expires there).
        with contextlib.suppress(WeChatError):
            deps.pay.close_order(donation.out_trade_no)
        raise WeChatUnavailableDomainError("订单已关闭，请重新下单")
    # Not stored but not closed: a double tap's other half placed and paid it meanwhile, and
    # WeChat Pay refuses to take its money twice.
    return prepay_id


_STORE_PREPAY_ID = DirectStatement(
    update(donations_table).where(_COLUMN.id == bindparam("donation"),
                                  _COLUMN.status == DonationStatus.PENDING)
    .values(prepay_id=bindparam("prepay")))


def get_own_donation(session: Session, deps: Deps, openid: str,
                     out_trade_no: str) -> dict[str, Any]:
    """One of the worker's donations. A pending one is first checked with WeChat Pay, by one
    poll at a time and at most every query_after_seconds (see _claim_query), so that a payment
    whose notification was lost is found; any other poll is one read."""
    statements_apart(session)  # a read, a claim: one statement each, no transaction around
    row = _own_row(session, openid, out_trade_no)
    if row.status == DonationStatus.PENDING and _worth_asking(deps, row):
        now = _claim_query(session, deps, out_trade_no)
        if now is not None and ask_wechat_pay(session, deps, out_trade_no, now) not in (
                None, NOT_SUCCESS):
            row = _own_row(session, openid, out_trade_no)
    return donation_view(row, row.campaign_code, row.unit_code)


_OWN_ROW = DirectStatement(
    select(Donation.out_trade_no, Donation.openid, Donation.status, Donation.amount_fen,
           Donation.quantity, Donation.anonymous, Donation.message, Donation.created_at,
           Donation.paid_at, Donation.expires_at, Donation.checked_at, Donation.prepay_id,
           Donation.refunded_fen,
           Campaign.code.label("campaign_code"), Unit.code.label("unit_code"))
    .join(Campaign, Campaign.id == Donation.campaign_id)
    .join(Unit, Unit.id == Donation.unit_id)
    .where(Donation.out_trade_no == bindparam("out_trade_no")))


def _own_row(session: Session, openid: str, out_trade_no: str) -> Any:
    """The columns a poll needs, in one statement (no ORM object to build)."""
    row = _OWN_ROW.first(session.connection(), {"out_trade_no": out_trade_no})
    if row is None or row.openid != openid:
        raise NotFoundError("找不到这笔捐款")
    return row


def _worth_asking(deps: Deps, donation: Any) -> bool:
    """Ask WeChat Pay about a pending order the worker is waiting for; not once it has expired,
    which is reconcile's to settle (asking stamps checked_at, and an order asked about every
    few seconds would never be claimed by reconcile, and so never closed)."""
    now = deps.clock()
    if donation.expires_at <= now:
        return False
    old_enough = now - donation.created_at >= timedelta(seconds=deps.query_after_seconds)
    not_just_asked = (donation.checked_at is None
                      or now - donation.checked_at >= timedelta(seconds=deps.query_after_seconds))
    return old_enough and not_just_asked and donation.prepay_id is not None


def _claim_query(session: Session, deps: Deps, out_trade_no: str) -> datetime | None:
    """Stamp checked_at on an order still worth asking about, in one guarded statement: of
    several polls at once (the mini-program's, from two workers) only one wins, and no other
    asks until query_after_seconds have passed. Returns the stamp, or None when another won."""
    now = deps.clock()
    since = now - timedelta(seconds=deps.query_after_seconds)
    with standalone_writes(session):
        claimed = _CLAIM.rowcount(session.connection(),
                                  {"order": out_trade_no, "now": now, "since": since})
    return now if claimed else None


_CLAIM = DirectStatement(
    update(donations_table)
    # An UPDATE's parameters may not share a column's name.
    .where(_COLUMN.out_trade_no == bindparam("order"),
           _COLUMN.status == DonationStatus.PENDING, _COLUMN.prepay_id.is_not(None),
           _COLUMN.expires_at > bindparam("now", type_=UTCDateTime()),
           _COLUMN.checked_at.is_(None)
           | (_COLUMN.checked_at <= bindparam("since", type_=UTCDateTime())))
    .values(checked_at=bindparam("now", type_=UTCDateTime())))


def list_own_donations(session: Session, openid: str, cursor: str | None,
                       limit: int = 20) -> dict[str, Any]:
    query = (select(Donation, Campaign.code, Unit.code)
             .join(Campaign, Campaign.id == Donation.campaign_id)
             .join(Unit, Unit.id == Donation.unit_id)
             .where(Donation.openid == openid))
    page, next_cursor = newest_first(session, query, Donation.id, cursor, limit,
                                     lambda row: int(row[0].id))
    return {"donations": [donation_view(*r) for r in page], "next": next_cursor}
