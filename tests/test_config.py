"""Configuration: file, environment overrides, and start-up refusing bad values by name."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from app import create_app
from app.config import DEFAULTS, ConfigError, load_settings
from app.runtime import build_runtime
from tests.helpers import PRODUCTION_SECRET, production_config

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "warmfund.toml"
    path.write_text(text, encoding="utf-8")
    return {"WARMFUND_CONFIG": str(path)}


def test_example_documents_every_key() -> None:
    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    found = {"app": example["app"], "database": example["database"], "redis": example["redis"],
             "wechat": {k: v for k, v in example["wechat"].items() if not isinstance(v, dict)},
             "wechat.miniprogram": example["wechat"]["miniprogram"],
             "wechat.pay": example["wechat"]["pay"], "qr": example["qr"]}
    for section, keys in DEFAULTS.items():
        assert set(found[section]) == set(keys), section


def test_development_defaults_when_asked_for() -> None:
    settings = load_settings(environ={"WARMFUND_APP_DEVELOPMENT": "true"})
    assert settings.development and settings.use_simulator
    assert settings.database_url.startswith("sqlite:///")
    assert settings.get("wechat.pay", "notify_url").endswith("/wechat/pay/notify")


def test_environment_overrides_file(tmp_path: Path) -> None:
    env = _write(tmp_path, f'[app]\nmax_quantity = 5\nsecret_key = "{PRODUCTION_SECRET}"\n'
                 '[wechat.pay]\nmchid = "1"\n')
    env.update(WARMFUND_WECHAT_PAY_MCHID="1900000109", WARMFUND_APP_MAX_QUANTITY="7")
    settings = load_settings(environ=env)
    assert settings.get("wechat.pay", "mchid") == "1900000109"
    assert settings.get("app", "max_quantity") == 7
    assert not settings.development


@pytest.mark.parametrize(("text", "env", "names"), [
    ("[app\n", {}, "not valid TOML"),
    ("[app]\nmax_quantity = 'x'\n", {}, "[app].max_quantity"),
    ("[app]\nunknown_key = 1\n", {}, "[app].unknown_key"),
    ("[database]\nurl = 'not a url'\n", {}, "[database].url"),
    ("", {"WARMFUND_APP_MAX_QUANTITY": "lots"}, "WARMFUND_APP_MAX_QUANTITY"),
    ("[wechat.pay]\norder_expire_minutes = 1\n", {}, "order_expire_minutes"),
    ("[wechat.pay]\norder_expire_minutes = 121\n", {}, "order_expire_minutes"),
    ("[app]\nmax_quantity = 1001\n", {}, "[app].max_quantity"),
    ("[app]\npublic_url = 'ftp://x'\n", {}, "[app].public_url"),
    ("[app]\ntimezone = 'Europe/Berlin'\n", {}, "[app].timezone"),
    ("[database]\npool_size = 0\n", {}, "[database].pool_size"),
])
def test_malformed_values_name_the_key(tmp_path: Path, text: str, env: dict[str, str],
                                       names: str) -> None:
    environ = {**_write(tmp_path, text), **env}
    with pytest.raises(ConfigError, match=names.replace("[", r"\[").replace("]", r"\]")
                       .replace(".", r"\.")):
        load_settings(environ=environ)


def test_production_config_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARMFUND_CONFIG", str(tmp_path / "empty.toml"))
    (tmp_path / "empty.toml").write_text("")
    app = create_app(production_config(tmp_path))
    assert app.extensions["warmfund"].simulator is None
    app.extensions["warmfund"].engine.dispose()


def test_both_engines_keep_the_configured_pool(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A gunicorn worker of 8 threads needs 8 connections kept, not 5 and a new one per
    request beyond them (each a new PostgreSQL backend). Nothing connects at start-up."""
    monkeypatch.setenv("WARMFUND_CONFIG", str(tmp_path / "empty.toml"))
    (tmp_path / "empty.toml").write_text("")
    config = production_config(tmp_path)
    config["database"] = {"url": "postgresql+psycopg://warmfund@127.0.0.1:9/none",
                          "pool_size": 3}
    runtime = build_runtime(load_settings(config))
    assert runtime.engine.pool.size() == runtime.bounded_engine.pool.size() == 3  # type: ignore[attr-defined]
    default = build_runtime(load_settings(production_config(tmp_path / "default")))
    assert default.settings.get("database", "pool_size") == 8


@pytest.mark.parametrize(("pay", "message"), [
    ({"apiv3_key": "k" * 31}, r"\[wechat\.pay\]\.apiv3_key must be exactly 32 bytes \(got 31\)"),
    ({"merchant_private_key": "/nonexistent/key.pem"}, r"\[wechat\.pay\]\.merchant_private_key"),
    ({"wechatpay_public_key": "README.md"}, r"\[wechat\.pay\]\.wechatpay_public_key"),
    ({"wechatpay_platform_certificates": "README.md"},
     r"\[wechat\.pay\]\.wechatpay_platform_certificates: cannot load a certificate from README"),
    ({"mchid": ""}, r"\[wechat\.pay\]\.mchid is required"),
    ({"version": "v2"}, r"v2"),
])
def test_bad_credentials_stop_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       pay: dict[str, str], message: str) -> None:
    monkeypatch.setenv("WARMFUND_CONFIG", str(tmp_path / "empty.toml"))
    (tmp_path / "empty.toml").write_text("")
    with pytest.raises(ConfigError, match=message):
        create_app(production_config(tmp_path, **pay))


def test_production_requires_secret_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARMFUND_CONFIG", str(tmp_path / "empty.toml"))
    (tmp_path / "empty.toml").write_text("")
    config = production_config(tmp_path)
    config["app"]["secret_key"] = ""
    with pytest.raises(ConfigError, match=r"\[app\]\.secret_key is required"):
        create_app(config)


def test_the_cli_says_to_run_init_on_an_empty_database(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from app.cli import main

    (tmp_path / "empty.db").touch()
    env = {"WARMFUND_APP_DEVELOPMENT": "true", "WARMFUND_APP_INSTANCE_DIR": str(tmp_path),
           "WARMFUND_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = CliRunner().invoke(main, ["admin", "list"], env=env)
    assert result.exit_code == 1
    assert "run `warmfund init` first" in result.output and "Traceback" not in result.output


def test_init_keeps_a_development_admin_one_can_sign_in_with(tmp_path: Path) -> None:
    import re

    from click.testing import CliRunner

    from app.cli import main

    env = {"WARMFUND_APP_DEVELOPMENT": "true", "WARMFUND_APP_INSTANCE_DIR": str(tmp_path),
           "WARMFUND_DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}"}

    def init() -> str:
        result = CliRunner().invoke(main, ["init"], env=env)
        assert result.exit_code == 0, result.output
        found = re.search(r"development admin: admin / (\S+)", result.output)
        assert found is not None, result.output
        return found.group(1)

    first = init()
    assert init() == first  # the next start says it again
    (tmp_path / "dev.db").unlink()  # starting over: a new database, the old password file
    second = init()
    assert second != first
    listed = CliRunner().invoke(main, ["admin", "list"], env=env)
    assert listed.output.startswith("admin\tadmin")


def test_the_cli_says_to_run_init_on_an_old_schema(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from app.cli import main
    from models.database import make_engine
    from models.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade(engine, "0002")  # code newer than the schema: accounts.last_failed_at is missing
    engine.dispose()
    env = {"WARMFUND_APP_DEVELOPMENT": "true", "WARMFUND_APP_INSTANCE_DIR": str(tmp_path),
           "WARMFUND_DATABASE_URL": url}
    result = CliRunner().invoke(main, ["admin", "list"], env=env)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "older than this code: run `warmfund init`" in result.output
    assert CliRunner().invoke(main, ["init"], env=env).exit_code == 0
    assert CliRunner().invoke(main, ["admin", "list"], env=env).exit_code == 0
