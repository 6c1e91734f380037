"""POST /wechat/pay/notify over HTTP: verification verdicts, replies, and exactly-once counting."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, text

from models import TOTAL_SHARDS, Anomaly, Donation, Notification
from models.database import make_engine
from tests import notices
from tests.helpers import Api, cut_pooled_connections, demo_tree


@pytest.fixture
def order(api: Api, session: Any) -> dict[str, Any]:
    demo_tree(session)
    reply = api.order(api.login("alice"), unit="HC-A1", quantity=2)
    assert reply.status_code == 201
    return dict(reply.get_json())


def _post(api: Api, message: tuple[dict[str, str], bytes]) -> Any:
    headers, body = message
    return api.client.post("/wechat/pay/notify", data=body, headers=headers)


def _totals(api: Api) -> tuple[int, int, int]:
    c = api.get("/api/campaigns/one-yuan").get_json()
    return c["total_fen"], c["donation_count"], c["donor_count"]


def _verdicts(session: Any) -> list[str]:
    session.rollback()  # end the last read, so that SQLite's snapshot moves on too
    return list(session.scalars(select(Notification.verdict).order_by(Notification.id)))


@pytest.mark.parametrize("craft", [notices.forged, notices.stale, notices.tampered,
                                   notices.signtest, notices.unknown_serial])
def test_refused_signatures_get_401_and_count_nothing(api: Api, session: Any, order: Any,
                                                      craft: Any) -> None:
    creds = notices.credentials(api.app)
    reply = _post(api, craft(creds, notices.transaction(creds, order["out_trade_no"], 200)))
    assert reply.status_code == 401
    assert reply.get_json() == {"code": "FAIL", "message": "签名验证失败"}
    assert _totals(api) == (0, 0, 0)
    verdicts = _verdicts(session)
    assert len(verdicts) == 1 and verdicts[0] in {"bad_signature", "stale", "signtest",
                                                   "unknown_serial"}


def test_missing_signature_headers_get_401(api: Api, session: Any, order: Any) -> None:
    creds = notices.credentials(api.app)
    headers, body = notices.signed(creds, notices.transaction(creds, order["out_trade_no"], 200))
    for dropped in ("Wechatpay-Signature", "Wechatpay-Serial", "Wechatpay-Timestamp"):
        reply = _post(api, ({k: v for k, v in headers.items() if k != dropped}, body))
        assert reply.status_code == 401, dropped
        assert reply.get_json() == {"code": "FAIL", "message": "签名验证失败"}
    reply = _post(api, ({**headers, "Wechatpay-Timestamp": "soon"}, body))
    assert reply.status_code == 401
    assert _totals(api) == (0, 0, 0)
    assert _verdicts(session) == ["bad_signature"] * 4


def test_a_signed_body_that_is_not_json_gets_400(api: Api, session: Any, order: Any) -> None:
    from app.services.deps import utc_now
    from wechat.keys import load_private_key
    from wechat.pay_notify import signed_headers

    creds = notices.credentials(api.app)
    body = b"{not json"
    headers = signed_headers(load_private_key(str(creds.wechatpay_private_key_path)),
                             creds.wechatpay_public_key_id, body, utc_now())
    reply = _post(api, (headers, body))
    assert reply.status_code == 400
    assert reply.get_json() == {"code": "FAIL", "message": "报文格式错误"}
    assert _totals(api) == (0, 0, 0)
    assert _verdicts(session) == ["malformed"]


def test_a_signed_body_our_key_cannot_decrypt_gets_400(api: Api, session: Any,
                                                       order: Any) -> None:
    from app.services.deps import utc_now
    from wechat.keys import load_private_key
    from wechat.pay_notify import build_notification

    creds = notices.credentials(api.app)
    message = build_notification(
        event_type="TRANSACTION.SUCCESS", original_type="transaction",
        resource_plain=notices.transaction(creds, order["out_trade_no"], 200),
        apiv3_key=b"k" * 32, serial=creds.wechatpay_public_key_id,
        private_key=load_private_key(str(creds.wechatpay_private_key_path)), now=utc_now())
    reply = _post(api, message)
    assert reply.status_code == 400
    assert reply.get_json() == {"code": "FAIL", "message": "报文解密失败"}
    assert _totals(api) == (0, 0, 0)
    assert _verdicts(session) == ["decrypt_failed"]


@pytest.mark.parametrize("original_type", ["", "Transaction", "payment"])
def test_a_payment_whose_resource_is_labelled_unexpectedly_is_still_counted(
        api: Api, session: Any, order: Any, original_type: str) -> None:
    from app.services.deps import utc_now
    from wechat.keys import load_private_key
    from wechat.pay_notify import build_notification

    creds = notices.credentials(api.app)
    message = build_notification(
        event_type="TRANSACTION.SUCCESS", original_type=original_type,
        resource_plain=notices.transaction(creds, order["out_trade_no"], 200, openid="o-a"),
        apiv3_key=creds.apiv3_key.encode(), serial=creds.wechatpay_public_key_id,
        private_key=load_private_key(str(creds.wechatpay_private_key_path)), now=utc_now())
    assert _post(api, message).status_code == 204
    assert _totals(api) == (200, 1, 1)
    assert _verdicts(session) == ["recorded"]


def test_what_flask_refuses_on_the_notify_path_is_answered_in_wechat_pay_shape(
        api: Api, order: Any) -> None:
    too_big = api.client.post("/wechat/pay/notify", data=b"x" * (1 << 17),
                              headers={"Content-Type": "application/json"})
    assert too_big.status_code == 413
    assert too_big.get_json()["code"] == "FAIL"
    wrong_method = api.client.get("/wechat/pay/notify")
    assert wrong_method.status_code == 400
    assert wrong_method.get_json()["code"] == "FAIL"
    unknown = api.client.post("/wechat/pay/nope", data=b"{}")
    assert unknown.status_code == 404
    assert unknown.get_json()["code"] == "FAIL"
    # Everywhere else the contract's own shape.
    elsewhere = api.client.get("/api/campaigns/nope")
    assert elsewhere.get_json()["error"]["code"] == "not_found"


def test_a_flood_of_refused_notifications_is_answered_but_not_all_stored(
        api: Api, session: Any, order: Any) -> None:
    from app.web.notify import REFUSED_KEPT_PER_MINUTE

    posted = 2 * REFUSED_KEPT_PER_MINUTE + 10
    statuses = {api.client.post("/wechat/pay/notify", data=b"{not json",
                                headers={"Content-Type": "application/json"}).status_code
                for _ in range(posted)}
    assert statuses == {401}
    stored = len(_verdicts(session))
    # The first minute's share is kept (even across a minute's turn, never all of them).
    assert REFUSED_KEPT_PER_MINUTE <= stored < posted
    # What WeChat Pay itself signed is always kept, refused or not, flood or no flood.
    creds = notices.credentials(api.app)
    foreign = notices.transaction(creds, order["out_trade_no"], 200, mchid="1999999999")
    assert _post(api, notices.signed(creds, foreign)).status_code == 204
    assert _verdicts(session)[-1] == "wrong_merchant"
    assert [a.kind for a in session.scalars(select(Anomaly))] == ["wrong_merchant"]
    genuine = notices.signed(creds, notices.transaction(creds, order["out_trade_no"], 200))
    assert _post(api, genuine).status_code == 204
    assert _verdicts(session)[-1] == "recorded"


def test_valid_notification_counts_once_and_is_stored(api: Api, session: Any,
                                                      order: Any) -> None:
    creds = notices.credentials(api.app)
    message = notices.signed(creds, notices.transaction(creds, order["out_trade_no"], 200))
    assert [_post(api, message).status_code for _ in range(3)] == [204, 204, 204]
    assert _totals(api) == (200, 1, 1)
    assert _verdicts(session) == ["recorded", "duplicate", "duplicate"]
    stored = session.scalars(select(Notification)).first()
    assert stored.body == message[1]
    assert json.loads(stored.headers)["Wechatpay-Serial"] == creds.wechatpay_public_key_id
    # Counted in the shard of the donation's own id, in every scope it touches.
    donation = session.scalars(select(Donation)).one()
    shards = session.execute(text("SELECT DISTINCT shard FROM totals")).scalars().all()
    assert shards == [donation.id % TOTAL_SHARDS]


def test_amount_mismatch_is_disputed_never_counted(api: Api, session: Any, order: Any) -> None:
    result = api.sim_pay(order["out_trade_no"], amount=1)
    assert result["deliveries"][0]["status"] == 204
    assert _totals(api) == (0, 0, 0)
    donation = session.scalar(select(Donation))
    assert (donation.status, donation.reported_amount_fen) == ("disputed", 1)
    ordered = f"{donation.amount_fen // 100}.00"
    assert [(a.kind, a.detail) for a in session.scalars(select(Anomaly))] == [
        ("amount_mismatch", f"支付金额 0.01 元与订单金额 {ordered} 元不符，未计入")]


def test_unknown_order_is_acknowledged_as_an_anomaly(api: Api, session: Any, order: Any) -> None:
    creds = notices.credentials(api.app)
    reply = _post(api, notices.signed(creds, notices.transaction(creds, "WFNOSUCHORDER01", 100)))
    assert reply.status_code == 204
    assert [a.kind for a in session.scalars(select(Anomaly))] == ["unknown_order"]
    assert _totals(api) == (0, 0, 0)


def test_wrong_merchant_is_not_counted(api: Api, session: Any, order: Any) -> None:
    creds = notices.credentials(api.app)
    plain = notices.transaction(creds, order["out_trade_no"], 200, mchid="1999999999")
    assert _post(api, notices.signed(creds, plain)).status_code == 204
    assert _totals(api) == (0, 0, 0)
    assert _verdicts(session) == ["wrong_merchant"]


def test_payment_after_close_is_counted_and_listed(api: Api, session: Any, order: Any) -> None:
    session.execute(Donation.__table__.update().values(status="closed"))
    session.commit()
    assert api.sim_pay(order["out_trade_no"])["deliveries"][0]["status"] == 204
    assert _totals(api) == (200, 1, 1)
    assert [a.kind for a in session.scalars(select(Anomaly))] == ["paid_after_close"]


def test_database_failure_answers_5xx_so_wechat_retries(api: Api, session: Any,
                                                        order: Any) -> None:
    creds = notices.credentials(api.app)
    message = notices.signed(creds, notices.transaction(creds, order["out_trade_no"], 200))
    original = api.runtime.bounded_engine  # the notification's own engine
    unreachable = make_engine("sqlite:////nonexistent/dir/warmfund.db")
    api.runtime.bounded_engine = unreachable
    try:
        reply = _post(api, message)
    finally:
        api.runtime.bounded_engine = original
        unreachable.dispose()
    assert reply.status_code >= 500
    assert reply.get_json()["code"] == "FAIL"
    assert _post(api, message).status_code == 204
    assert _totals(api) == (200, 1, 1)


def test_dropped_database_connections_are_replaced_not_reused(api: Api, session: Any,
                                                              order: Any) -> None:
    creds = notices.credentials(api.app)
    message = notices.signed(creds, notices.transaction(creds, order["out_trade_no"], 200))
    # The notifications' pool: cut from under the app, as a database restart would.
    dropped = cut_pooled_connections(api.runtime.bounded_engine, session, 2)
    statuses = [_post(api, message).status_code for _ in range(dropped + 1)]
    if api.runtime.engine.dialect.name == "postgresql":
        # The fast path starts a new pool and tries again within the same delivery.
        assert statuses[0] == 204
    else:
        # Each dead connection fails one delivery with a 5xx (so WeChat retries), then none.
        first = statuses.index(204)
        assert first <= dropped and all(s >= 500 for s in statuses[:first])
    assert all(s == 204 for s in statuses[statuses.index(204):])
    assert _totals(api) == (200, 1, 1)
    assert _verdicts(session).count("recorded") == 1


def test_a_failed_statement_leaves_the_pool_as_it_was(api: Api, session: Any,
                                                      order: Any) -> None:
    creds = notices.credentials(api.app)
    paid = notices.transaction(creds, order["out_trade_no"], 200)
    assert _post(api, notices.signed(creds, paid)).status_code == 204
    second = api.order(api.login("bob"), unit="HC-A1", quantity=2).get_json()
    # WeChat never gives two orders one transaction id; the database refuses it, and we answer
    # 5xx rather than record anything.
    clash = notices.transaction(creds, second["out_trade_no"], 200,
                                transaction_id=paid["transaction_id"])
    assert _post(api, notices.signed(creds, clash)).status_code >= 500
    assert _totals(api) == (200, 1, 1)
    engine = api.runtime.bounded_engine  # the notifications' pool
    if engine.dialect.name == "postgresql":
        # No pooled connection may be left in autocommit, or the general path's transactions
        # would commit statement by statement.
        pooled = [engine.raw_connection() for _ in range(3)]
        modes = [connection.driver_connection.autocommit for connection in pooled]
        for connection in pooled:
            connection.close()
        assert modes == [False, False, False]


def test_a_platform_certificate_still_verifies_during_the_move_to_the_public_key(
        api: Api, session: Any, order: Any, database_url: str, instance_dir: Any,
        tmp_path: Any) -> None:
    from app import create_app
    from tests.conftest import app_config

    path, serial, key = notices.platform_certificate(tmp_path)
    moving = create_app(app_config(database_url, "http://127.0.0.1:9", instance_dir, **{
        "wechat.pay": {"wechatpay_platform_certificates": f" {path} ,"}}))
    creds = notices.credentials(api.app)
    plain = notices.transaction(creds, order["out_trade_no"], 200, openid="o-a")
    by_certificate = notices.signed(creds, plain, key=key, serial=serial)
    wrong_key = notices.signed(creds, plain, serial=serial)  # the public key's signer
    client = moving.test_client()
    assert client.post("/wechat/pay/notify", data=wrong_key[1],
                       headers=wrong_key[0]).status_code == 401
    assert client.post("/wechat/pay/notify", data=by_certificate[1],
                       headers=by_certificate[0]).status_code == 204
    padded = notices.signed(creds, plain, key=key, serial="00" + serial.lower())  # as some write it
    assert client.post("/wechat/pay/notify", data=padded[1], headers=padded[0]).status_code == 204
    assert _post(api, by_certificate).status_code == 401  # a server without it: unknown serial
    assert _totals(api) == (200, 1, 1)
    assert _verdicts(session) == ["bad_signature", "recorded", "duplicate", "unknown_serial"]
    moving.extensions["warmfund"].engine.dispose()
