"""Everything create_app() builds once: the engine, the adapters, the caches and rate limits
the views share, and, in development, the local stand-in of WeChat."""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from flask import current_app
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.config import DEFAULTS, ConfigError, Settings
from app.infra.disk_cache import DiskCache
from app.infra.render_cache import DrawingCache, RenderSlots
from app.infra.shared_token import DatabaseTokenStore, RedisTokenStore
from app.ratelimit import RateLimiter
from app.services.deps import Deps, utc_now
from models.database import make_engine, make_session_factory
from qr.fonts import CjkFontFinder
from wechat import MiniProgramClient, PayConfig, PayV3Client, TokenStore
from wechat.keys import (
    generate_dev_credentials,
    load_platform_certificate,
    load_private_key,
    load_public_key,
)
from wechat.simulator import SimulatorServer, simulator_config_from_dev_credentials

# WeChat Pay waits 5 s for a notification's reply: one that would wait longer for a lock
# (SQLite's writer; on PostgreSQL the totals during a repair or a unit move) fails after this
# and answers 5xx, so that WeChat Pay delivers it again instead of meeting a hung worker.
NOTIFICATION_WAIT_SECONDS = 3.0
# Drawings under way at once on this host (every worker process shares the lock files), how
# long a request waits for one before a 503, and the drawn bytes each process keeps.
RENDER_SLOTS = max(1, (os.cpu_count() or 2) // 2)
RENDER_WAIT_SECONDS = 1.0
RENDER_CACHE_BYTES = 64 * 1024 * 1024


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    bounded_engine: Engine  # the same database, waiting at most NOTIFICATION_WAIT_SECONDS
    sessions: sessionmaker[Session]
    deps: Deps
    rate_limiter: RateLimiter
    drawings: DrawingCache  # codes and posters drawn in this process, by content
    wxacodes: DiskCache  # mini-program codes as WeChat drew them, kept on disk
    poster_fonts: CjkFontFinder  # searched until found: a font installed later needs no restart
    simulator: SimulatorServer | None = None


def build_runtime(settings: Settings) -> Runtime:
    if settings.get("wechat.pay", "version") == "v2":
        raise ConfigError('[wechat.pay].version = "v2" is not supported yet: APIv2 merchants '
                          'arrive in a later release; use "v3"')
    simulator = _start_simulator(settings) if settings.use_simulator else None
    echo, pool_size = settings.get("database", "echo"), settings.get("database", "pool_size")
    engine = make_engine(settings.database_url, echo=echo, pool_size=pool_size)
    sessions = make_session_factory(engine)
    redis_client = _redis_client(settings)
    bounded_engine = make_engine(settings.database_url, echo=echo, pool_size=pool_size,
                                 wait_seconds=NOTIFICATION_WAIT_SECONDS)
    # Whoever closes the engine's connections (tests, a forked worker) closes these too.
    event.listen(engine, "engine_disposed", lambda _engine: bounded_engine.dispose())
    slots = RenderSlots(settings.instance_dir / "render-slots", RENDER_SLOTS,
                        RENDER_WAIT_SECONDS)
    return Runtime(
        settings, engine, bounded_engine, sessions, _deps(settings, sessions, redis_client),
        rate_limiter=RateLimiter(engine, redis_client),
        drawings=DrawingCache(slots, RENDER_CACHE_BYTES),
        wxacodes=DiskCache(settings.instance_dir / "wxacode"),
        poster_fonts=CjkFontFinder(settings.get("qr", "font_path") or None),
        simulator=simulator)


def _deps(settings: Settings, sessions: sessionmaker[Session], redis_client: Any) -> Deps:
    return Deps(
        pay=PayV3Client(_pay_config(settings)),
        miniprogram=_miniprogram(settings, sessions, redis_client),
        secret_key=_secret_key(settings),
        clock=utc_now,
        max_quantity=settings.get("app", "max_quantity"),
        token_ttl_seconds=settings.get("app", "token_ttl_seconds"),
        order_expire_minutes=settings.get("wechat.pay", "order_expire_minutes"),
        public_url=settings.public_url,
    )


def _redis_client(settings: Settings) -> Any:
    """One client for the rate limits and the shared access token, when [redis].url is set."""
    url = settings.get("redis", "url")
    if not url:
        return None
    import redis

    return redis.Redis.from_url(url)


_simulators: dict[str, SimulatorServer] = {}
_simulators_lock = threading.Lock()


def _start_simulator(settings: Settings) -> SimulatorServer | None:
    """Fill the WeChat settings with development credentials; run the stand-in in this process
    unless api_base already points at one (`warmfund simulator --port N`)."""
    creds = generate_dev_credentials(settings.instance_dir / "dev-credentials")
    wechat, pay = settings.raw["wechat"], settings.raw["wechat.pay"]
    wechat.update(appid=wechat["appid"] or creds.appid, secret=wechat["secret"] or creds.secret)
    pay.update(
        mchid=pay["mchid"] or creds.mchid, apiv3_key=pay["apiv3_key"] or creds.apiv3_key,
        merchant_private_key=pay["merchant_private_key"] or str(creds.merchant_private_key_path),
        merchant_serial_no=pay["merchant_serial_no"] or creds.merchant_serial_no,
        wechatpay_public_key=pay["wechatpay_public_key"] or str(creds.wechatpay_public_key_path),
        wechatpay_public_key_id=pay["wechatpay_public_key_id"] or creds.wechatpay_public_key_id)
    external = wechat["api_base"] != DEFAULTS["wechat"]["api_base"]
    if external:
        return None
    with _simulators_lock:
        server = _simulators.get(str(creds.directory))
        if server is None:
            server = SimulatorServer(simulator_config_from_dev_credentials(creds),
                                     port=int(wechat["simulator_port"]))
            server.start()
            atexit.register(server.stop)
            _simulators[str(creds.directory)] = server
    wechat["api_base"] = pay["api_base"] = server.url
    return server


def _secret_key(settings: Settings) -> str:
    """The configured key (load_settings checked it), or development's own under instance/."""
    key = str(settings.get("app", "secret_key"))
    return key or _development_secret(settings.instance_dir)


def _development_secret(instance_dir: Path) -> str:
    import secrets

    path = instance_dir / "dev-secret-key"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _required(settings: Settings, section: str, key: str) -> str:
    value = str(settings.get(section, key))
    if not value:
        raise ConfigError(f"[{section}].{key} is required")
    return value


def _pay_config(settings: Settings) -> PayConfig:
    section = "wechat.pay"
    apiv3_key = _required(settings, section, "apiv3_key").encode()
    if len(apiv3_key) != 32:
        raise ConfigError(f"[{section}].apiv3_key must be exactly 32 bytes (got {len(apiv3_key)})")
    key_id = _required(settings, section, "wechatpay_public_key_id")
    return PayConfig(
        appid=_required(settings, "wechat", "appid"),
        mchid=_required(settings, section, "mchid"),
        api_base=_required(settings, section, "api_base").rstrip("/"),
        notify_url=_required(settings, section, "notify_url"),
        refund_notify_url=_required(settings, section, "refund_notify_url"),
        apiv3_key=apiv3_key,
        merchant_private_key=_load(load_private_key, settings, section, "merchant_private_key"),
        merchant_serial_no=_required(settings, section, "merchant_serial_no"),
        wechatpay_public_keys={key_id: _load(load_public_key, settings, section,
                                             "wechatpay_public_key"),
                               **_platform_certificates(settings, section)},
        timeout_seconds=float(settings.get("wechat", "timeout_seconds")),
    )


def _platform_certificates(settings: Settings, section: str) -> dict[str, RSAPublicKey]:
    """Platform certificates by serial, for merchants moving from certificates to the public
    key: while they move, WeChat Pay signs with either, and Wechatpay-Serial says which."""
    key = "wechatpay_platform_certificates"
    found: dict[str, RSAPublicKey] = {}
    for path in filter(None, (p.strip() for p in str(settings.get(section, key)).split(","))):
        try:
            serial, public_key = load_platform_certificate(path)
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"[{section}].{key}: cannot load a certificate from {path}: {exc}") from exc
        found[serial] = public_key
    return found


def _load(loader: Any, settings: Settings, section: str, key: str) -> Any:
    path = _required(settings, section, key)
    try:
        return loader(path)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"[{section}].{key}: cannot load a PEM key from {path}: {exc}") from exc


def _miniprogram(settings: Settings, sessions: sessionmaker[Session],
                 redis_client: Any) -> MiniProgramClient:
    store: TokenStore = (RedisTokenStore(redis_client) if redis_client is not None
                         else DatabaseTokenStore(sessions))
    return MiniProgramClient(
        appid=_required(settings, "wechat", "appid"),
        secret=_required(settings, "wechat", "secret"),
        api_base=_required(settings, "wechat", "api_base").rstrip("/"),
        token_store=store,
        timeout_seconds=float(settings.get("wechat", "timeout_seconds")),
    )


def current_runtime() -> Runtime:
    """The runtime of the app in context (create_app() keeps it in the app's extensions)."""
    found: Runtime = current_app.extensions["warmfund"]
    return found
