"""Settings: TOML at $WARMFUND_CONFIG, overridden by WARMFUND_<SECTION>_<KEY>, checked once.

Reading happens only inside create_app() (never at import time). A missing or malformed value
stops start-up with a ConfigError that names the key. Development mode (the stand-in of WeChat,
generated keys, demo units) is only ever what someone asked for: `[app].development = true`,
which `warmfund run` and ./run.sh set; without a config file and without it, nothing starts.
"""

from __future__ import annotations

import copy
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gunicorn.errors import AppImportError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

CONFIG_ENV = "WARMFUND_CONFIG"
ENV_PREFIX = "WARMFUND_"

# Every key the application reads, with its development default. config.example.toml documents
# each one; a key not listed here is refused so that a typo cannot silently do nothing.
DEFAULTS: dict[str, dict[str, Any]] = {
    "app": {
        "development": False,
        "secret_key": "",
        "public_url": "http://127.0.0.1:5000",
        "max_quantity": 100,
        "token_ttl_seconds": 7200,
        "instance_dir": "instance",
        "max_body_bytes": 65536,
        "demo_data": False,
        "timezone": "Asia/Shanghai",
        "trusted_proxies": 0,
        "federation_name": "大兴区总工会",
    },
    "database": {"url": "", "echo": False, "pool_size": 8},
    "redis": {"url": ""},
    "wechat": {
        "appid": "",
        "secret": "",
        "api_base": "https://api.weixin.qq.com",
        "use_simulator": False,
        "simulator_port": 0,
        "timeout_seconds": 5.0,
    },
    "wechat.miniprogram": {
        "page": "pages/donate/donate",
        "env_version": "release",
        "verify_file_name": "",
        "verify_file_content": "",
    },
    "wechat.pay": {
        "version": "v3",
        "mchid": "",
        "api_base": "https://api.mch.weixin.qq.com",
        "notify_url": "",
        "refund_notify_url": "",
        "apiv3_key": "",
        "merchant_private_key": "",
        "merchant_serial_no": "",
        "wechatpay_public_key": "",
        "wechatpay_public_key_id": "",
        "wechatpay_platform_certificates": "",
        "order_expire_minutes": 30,
        "api_key": "",
    },
    "qr": {"font_path": ""},
}

# What development mode changes: SQLite under instance/ (the default everywhere), the local
# stand-in of WeChat with keys generated at first start, and the demo unit tree.
DEVELOPMENT_OVERRIDES: dict[str, dict[str, Any]] = {
    "app": {"demo_data": True},
    "wechat": {"use_simulator": True},
}


# config.example.toml's placeholder: whoever has read the example could sign tokens with it.
EXAMPLE_SECRET = "change-me-to-a-long-random-string"
MIN_SECRET = 32
MAKE_A_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"

NO_CONFIG = (f"{CONFIG_ENV} is not set: point it at a config file (a copy of "
             "config.example.toml), or ask for development mode (`warmfund run`, ./run.sh, "
             "or WARMFUND_APP_DEVELOPMENT=true)")


class ConfigError(AppImportError):  # type: ignore[misc]  # gunicorn ships no types
    """A configuration value is missing or malformed; the message names the key.

    It is gunicorn's AppImportError, which gunicorn reports as its one line (no traceback)
    before it stops; the CLI does the same."""


@dataclass(frozen=True)
class Settings:
    """The checked configuration. `raw` keeps every section as loaded, for adapters."""

    raw: dict[str, dict[str, Any]]
    development: bool

    def get(self, section: str, key: str) -> Any:
        return self.raw[section][key]

    @property
    def database_url(self) -> str:
        return str(self.raw["database"]["url"])

    @property
    def instance_dir(self) -> Path:
        return Path(self.raw["app"]["instance_dir"]).resolve()

    @property
    def public_url(self) -> str:
        return str(self.raw["app"]["public_url"]).rstrip("/")

    @property
    def use_simulator(self) -> bool:
        return bool(self.raw["wechat"]["use_simulator"])


def load_settings(
    overrides: dict[str, dict[str, Any]] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """File, then environment, then explicit overrides (tests); then checked."""
    env = dict(os.environ if environ is None else environ)
    path = env.get(CONFIG_ENV, "")
    layers = [(_read_toml(Path(path)), path)] if path else []
    layers += [(_from_environment(env), "environment"), (overrides or {}, "overrides")]
    development = False
    for layer, _source in layers:
        development = layer.get("app", {}).get("development", development)
    if not path and development is not True:
        raise ConfigError(NO_CONFIG)
    raw = copy.deepcopy(DEFAULTS)
    if development is True:
        _merge(raw, DEVELOPMENT_OVERRIDES, source="development defaults")
    for layer, source in layers:
        _merge(raw, layer, source=source)
    _fill_derived(raw)
    _check(raw)
    return Settings(raw=raw, development=raw["app"]["development"])


def _read_toml(path: Path) -> dict[str, dict[str, Any]]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{CONFIG_ENV}: cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{CONFIG_ENV}: {path} is not valid TOML: {exc}") from exc
    return _flatten_sections(data)


def _flatten_sections(data: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """{"wechat": {"pay": {...}}} -> {"wechat.pay": {...}} so sections match DEFAULTS."""
    sections: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and name in DEFAULTS:
            plain = {k: v for k, v in value.items() if not isinstance(v, dict)}
            sections[name] = plain
            sections.update(_flatten_sections(
                {k: v for k, v in value.items() if isinstance(v, dict)}, name))
        else:
            raise ConfigError(f"unknown configuration section or key: [{name}]")
    return sections


def env_name(section: str, key: str) -> str:
    return "WARMFUND_" + section.replace(".", "_").upper() + "_" + key.upper()


def _from_environment(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    known = {CONFIG_ENV}
    for section, keys in DEFAULTS.items():
        for key, default in keys.items():
            known.add(env_name(section, key))
            value = env.get(env_name(section, key))
            if value is not None:
                found.setdefault(section, {})[key] = _convert(value, default, section, key)
    unknown = sorted(name for name in env if name.startswith(ENV_PREFIX) and name not in known)
    if unknown:
        # A typo must not silently do nothing (WARMFUND_APP_MAX_QUANTIY=5).
        raise ConfigError(f"unknown environment variable {unknown[0]}: every WARMFUND_ name is "
                          "WARMFUND_<SECTION>_<KEY> of a key in config.example.toml")
    return found


def _convert(value: str, default: Any, section: str, key: str) -> Any:
    name = env_name(section, key)
    if isinstance(default, bool):
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{name}: expected true or false, got {value!r}")
    if isinstance(default, int | float):
        try:
            return type(default)(value)
        except ValueError as exc:
            raise ConfigError(f"{name}: expected a number, got {value!r}") from exc
    return value


def _merge(raw: dict[str, dict[str, Any]], extra: dict[str, dict[str, Any]], source: str) -> None:
    for section, values in extra.items():
        if section not in DEFAULTS:
            raise ConfigError(f"{source}: unknown section [{section}]")
        for key, value in values.items():
            if key not in DEFAULTS[section]:
                raise ConfigError(f"{source}: unknown key [{section}].{key}")
            default = DEFAULTS[section][key]
            if not _same_kind(value, default):
                raise ConfigError(
                    f"[{section}].{key} must be {type(default).__name__}, got {value!r}")
            raw[section][key] = value


def _same_kind(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, type(default)) and not (
        isinstance(value, bool) and not isinstance(default, bool))


def _fill_derived(raw: dict[str, dict[str, Any]]) -> None:
    app, pay = raw["app"], raw["wechat.pay"]
    if not raw["database"]["url"]:
        db_file = Path(app["instance_dir"]).resolve() / "warmfund.db"
        raw["database"]["url"] = f"sqlite:///{db_file}"
    base = str(app["public_url"]).rstrip("/")
    pay["notify_url"] = pay["notify_url"] or f"{base}/wechat/pay/notify"
    pay["refund_notify_url"] = pay["refund_notify_url"] or f"{base}/wechat/pay/refund-notify"


MAX_QUANTITY = 1000


def _check(raw: dict[str, dict[str, Any]]) -> None:
    app = raw["app"]
    _require_url("[app].public_url", app["public_url"])
    for key in ("max_quantity", "token_ttl_seconds", "max_body_bytes"):
        if app[key] < 1:
            raise ConfigError(f"[app].{key} must be a positive integer")
    if app["max_quantity"] > MAX_QUANTITY:
        # An order's amount is a 32-bit column: the dearest share times this must fit.
        raise ConfigError(f"[app].max_quantity must be at most {MAX_QUANTITY}")
    if raw["database"]["pool_size"] < 1:
        raise ConfigError("[database].pool_size must be a positive integer")
    if app["timezone"] != "Asia/Shanghai":
        # Dates in figures, filters, exports and order numbers are China Standard Time.
        raise ConfigError('[app].timezone: only "Asia/Shanghai" is supported')
    _check_database(str(raw["database"]["url"]))
    if raw["redis"]["url"] and not str(raw["redis"]["url"]).startswith(("redis://", "rediss://")):
        raise ConfigError("[redis].url must start with redis:// or rediss://")
    if raw["wechat.pay"]["version"] not in ("v3", "v2"):
        raise ConfigError('[wechat.pay].version must be "v3" or "v2"')
    if not 5 <= raw["wechat.pay"]["order_expire_minutes"] <= 120:
        # A prepay_id lasts two hours: an order handed back again must not outlive it.
        raise ConfigError("[wechat.pay].order_expire_minutes must be between 5 and 120")
    if not 0 <= raw["wechat"]["simulator_port"] <= 65535:
        raise ConfigError("[wechat].simulator_port must be a TCP port (0: any free one)")
    if not str(app["federation_name"]).strip():
        raise ConfigError("[app].federation_name must not be empty")
    if raw["wechat.miniprogram"]["env_version"] not in ("release", "trial", "develop"):
        raise ConfigError("[wechat.miniprogram].env_version must be release, trial or develop")
    _check_secret(str(app["secret_key"]), app["development"])
    if raw["wechat"]["use_simulator"] and not app["development"]:
        # The stand-in marks any order paid on an unauthenticated request: never in production.
        raise ConfigError("[wechat].use_simulator = true is for development only: it needs "
                          "[app].development = true (the stand-in pays orders with no money)")


SUPPORTED_DATABASES = ("postgresql+psycopg://user@host/name or sqlite:///path "
                       "(PostgreSQL or SQLite)")


def _check_database(url: str) -> None:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"[database].url is not a database URL: {exc}") from exc
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend not in ("postgresql", "sqlite"):
        raise ConfigError(f"[database].url: {backend} is not supported; use "
                          f"{SUPPORTED_DATABASES}")
    if backend == "postgresql" and driver != "psycopg":
        raise ConfigError(f"[database].url: PostgreSQL is reached through psycopg; use "
                          f"{SUPPORTED_DATABASES}")


def _check_secret(key: str, development: bool) -> None:
    if not key:
        if not development:  # development mode makes one under instance/
            raise ConfigError(f"[app].secret_key is required: generate one with {MAKE_A_SECRET}")
        return
    if key == EXAMPLE_SECRET:
        raise ConfigError("[app].secret_key is config.example.toml's placeholder, which anyone "
                          f"can read and sign tokens with: generate one with {MAKE_A_SECRET}")
    if len(key) < MIN_SECRET or len(set(key)) < 10:
        raise ConfigError(f"[app].secret_key must be at least {MIN_SECRET} random characters "
                          f"(got {len(key)}): generate one with {MAKE_A_SECRET}")


def _require_url(name: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
