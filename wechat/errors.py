"""Errors raised by the WeChat adapters; the app maps them to HTTP in one place."""

from __future__ import annotations

NOTIFICATION_VERDICTS = frozenset(
    {
        "malformed",
        "unknown_serial",
        "signtest",
        "stale",
        "bad_signature",
        "decrypt_failed",
        "wrong_merchant",
    }
)


class WeChatError(Exception):
    """Base of every error raised by `wechat`."""


class WeChatUnavailableError(WeChatError):
    """WeChat could not be reached or answered something we cannot trust."""


class WeChatPayError(WeChatError):
    """A business error answered by WeChat Pay, e.g. ORDER_NOT_EXIST or ORDERPAID."""

    def __init__(self, code: str, message: str = "", status: int = 400) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class NotificationError(WeChatError):
    """A WeChat Pay notification we refuse; `verdict` says why. `signed` is True when its
    signature was good, so that WeChat Pay itself sent what we refuse."""

    def __init__(self, verdict: str, detail: str = "") -> None:
        if verdict not in NOTIFICATION_VERDICTS:
            raise ValueError(f"unknown notification verdict {verdict!r}")
        super().__init__(f"{verdict}: {detail}" if detail else verdict)
        self.verdict = verdict
        self.detail = detail
        self.signed = False


class DecryptError(WeChatError):
    """An APIv3 resource that does not decrypt (wrong key, nonce, AAD or tampered)."""


class MiniProgramError(WeChatError):
    """The mini-program platform answered a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
