"""Mini-program codes (getwxacodeunlimit), kept on disk: a code is permanent for its inputs, and
WeChat allows 5,000 calls a minute, so each (scene, page, env_version, width) is fetched once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from app.infra.disk_cache import DiskCache
from app.services.errors import InvalidRequestError, WeChatUnavailableDomainError
from app.services.ports import WxacodeSource
from wechat import MiniProgramError, WeChatUnavailableError

WIDTH = 430
PNG_MAGIC = b"\x89PNG"
# Errors about what we asked for (scene, page, arguments), not about WeChat being unwell.
REQUEST_ERRCODES = frozenset({40097, 40129, 40169, 41030})


@dataclass(frozen=True)
class WxacodeRequest:
    scene: str
    page: str
    env_version: str
    width: int = WIDTH

    def key(self) -> str:
        identity = json.dumps([self.scene, self.page, self.env_version, self.width])
        return hashlib.sha256(identity.encode()).hexdigest()[:40]


def cached_wxacode(cache: DiskCache, source: WxacodeSource, request: WxacodeRequest) -> bytes:
    """The code for `request`, fetched from WeChat the first time only."""
    return cache.get(request.key(), lambda: _fetch(source, request))


def _fetch(source: WxacodeSource, request: WxacodeRequest) -> bytes:
    try:
        return source.get_wxacode_unlimited(scene=request.scene, page=request.page,
                                            env_version=request.env_version,
                                            width=request.width, check_path=False)
    except MiniProgramError as exc:
        if exc.errcode in REQUEST_ERRCODES:
            message = f"微信拒绝生成小程序码：{exc.errmsg}（{exc.errcode}）"
            raise InvalidRequestError(message) from exc
        raise WeChatUnavailableDomainError(f"微信暂时无法生成小程序码（{exc.errcode}）") from exc
    except WeChatUnavailableError as exc:
        raise WeChatUnavailableDomainError("微信暂时无法生成小程序码，请稍后再试") from exc


def image_type(image: bytes) -> str:
    """WeChat answers JPEG for some requests; the stand-in answers PNG."""
    return "image/png" if image.startswith(PNG_MAGIC) else "image/jpeg"
