"""WeChat Pay's notifications. Replies drive WeChat's retries: 204 only after our commit, 401 for a
signature we refuse, 400 for a malformed body, 5xx when we failed (so WeChat tries again)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from app.errors import wechat_pay_fail
from app.services.payments.payments import (
    NotificationRejectedError,
    ReceivedNotice,
    handle_notification,
)
from app.web.context import deps, get_session, limiter
from app.web.parsing import client_ip

bp = Blueprint("notify", __name__, url_prefix="/wechat/pay")
log = logging.getLogger(__name__)


# Refused notifications kept from one address a minute, and from every address together an
# hour (a spoofed address defeats the first; 64 KiB bodies must not fill the disk); past
# either they are answered, not stored.
REFUSED_KEPT_PER_MINUTE = 60
REFUSED_KEPT_PER_HOUR = 600


def _keep_refused(remote_addr: str) -> bool:
    try:
        return limiter().allow("refused-notify", remote_addr, limit=REFUSED_KEPT_PER_MINUTE) and (
            limiter().allow("refused-notify", "*", limit=REFUSED_KEPT_PER_HOUR,
                            window_seconds=3600))
    except Exception:  # the limit's store (Redis) is down: keep the evidence, answer as ever
        log.warning("refused-notification limit unavailable", exc_info=True)
        return True


@bp.post("/notify")
def payment_notification() -> tuple[Response, int] | Response:
    return _receive("payment")


@bp.post("/refund-notify")
def refund_notification() -> tuple[Response, int] | Response:
    return _receive("refund")


def _receive(kind: str) -> tuple[Response, int] | Response:
    notice = ReceivedNotice(kind=kind, headers=dict(request.headers),
                            body=request.get_data(cache=False), remote_addr=client_ip())
    try:
        verdict = handle_notification(get_session(bounded=True), deps(), notice,
                                      _keep_refused)
    except NotificationRejectedError as exc:
        log.warning("%s notification refused: %s", kind, exc.verdict)
        if exc.signature:
            return wechat_pay_fail(401, "签名验证失败")
        if exc.verdict == "decrypt_failed":  # signed by WeChat Pay, but not for our APIv3 key
            return wechat_pay_fail(400, "报文解密失败")
        return wechat_pay_fail(400, "报文格式错误")
    except Exception:
        log.exception("%s notification not recorded; WeChat Pay will retry", kind)
        return wechat_pay_fail(500, "系统繁忙")
    log.info("%s notification: %s", kind, verdict)
    return Response(status=204)
