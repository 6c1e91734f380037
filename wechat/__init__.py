"""WeChat adapters: Pay APIv3, the mini-program platform, a fake, and a local stand-in.

This package never imports `app`, `models`, `qr` or Flask; it speaks in its own
frozen dataclasses and bytes.
"""

from wechat.errors import (
    DecryptError,
    MiniProgramError,
    NotificationError,
    WeChatError,
    WeChatPayError,
    WeChatUnavailableError,
)
from wechat.keys import (
    DevCredentials,
    generate_dev_credentials,
    load_private_key,
    load_public_key,
)
from wechat.miniprogram import (
    LoginSession,
    MemoryTokenStore,
    MiniProgramClient,
    TokenStore,
)
from wechat.pay_crypto import (
    build_authorization,
    decrypt_resource,
    encrypt_resource,
    pay_sign,
    sign_message,
    verify_message,
    verify_signature,
)
from wechat.pay_models import (
    JsapiOrder,
    Notification,
    PayConfig,
    PaymentParams,
    Refund,
    Transaction,
    dev_pay_config,
)
from wechat.pay_notify import build_notification
from wechat.pay_v3 import PayV3Client
from wechat.timeutil import utc_now

__all__ = [
    "DecryptError",
    "DevCredentials",
    "JsapiOrder",
    "LoginSession",
    "MemoryTokenStore",
    "MiniProgramClient",
    "MiniProgramError",
    "Notification",
    "NotificationError",
    "PayConfig",
    "PayV3Client",
    "PaymentParams",
    "Refund",
    "TokenStore",
    "Transaction",
    "WeChatError",
    "WeChatPayError",
    "WeChatUnavailableError",
    "build_authorization",
    "build_notification",
    "decrypt_resource",
    "dev_pay_config",
    "encrypt_resource",
    "generate_dev_credentials",
    "load_private_key",
    "load_public_key",
    "pay_sign",
    "sign_message",
    "utc_now",
    "verify_message",
    "verify_signature",
]
