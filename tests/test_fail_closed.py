"""Start-up fails closed: no forgeable secret, development mode only when asked for, and every
refusal said in one line (CLI and gunicorn), leaving the folder as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from app import create_app
from app.cli import main
from app.config import ConfigError, load_settings
from tests.helpers import production_config

ROOT = Path(__file__).resolve().parents[1]
MAKE_ONE = "secrets.token_urlsafe"


def _start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **app: Any) -> Any:
    monkeypatch.setenv("WARMFUND_CONFIG", str(tmp_path / "empty.toml"))
    (tmp_path / "empty.toml").write_text("")
    config = production_config(tmp_path)
    config["app"].update(app)
    return create_app(config)


def test_the_examples_secret_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = tomllib.loads((ROOT / "config.example.toml").read_text("utf-8"))
    with pytest.raises(ConfigError, match=r"\[app\]\.secret_key .*placeholder") as found:
        _start(tmp_path, monkeypatch, secret_key=example["app"]["secret_key"])
    assert MAKE_ONE in str(found.value)


@pytest.mark.parametrize("secret", ["x7Gk2pQ9vL0mZ4rT8wY1bN6cF3hJ5s", "ab" * 20])
def test_a_short_or_typed_secret_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            secret: str) -> None:
    with pytest.raises(ConfigError, match=r"\[app\]\.secret_key must be at least 32") as found:
        _start(tmp_path, monkeypatch, secret_key=secret)
    assert MAKE_ONE in str(found.value)


def test_without_a_config_file_nothing_starts() -> None:
    with pytest.raises(ConfigError, match="WARMFUND_CONFIG is not set"):
        load_settings(environ={"WARMFUND_DATABASE_URL": "sqlite:///x.db"})


def test_the_stand_in_needs_development_mode(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARMFUND_CONFIG", str(tmp_path / "empty.toml"))
    (tmp_path / "empty.toml").write_text("")
    config = production_config(tmp_path)
    config["wechat"]["use_simulator"] = True
    with pytest.raises(ConfigError, match=r"\[wechat\]\.use_simulator .*\[app\]\.development"):
        create_app(config)


def _environ(**extra: str) -> dict[str, str]:
    plain = {k: v for k, v in os.environ.items() if not k.startswith("WARMFUND_")}
    return {**plain, **extra}


def test_gunicorn_without_a_config_says_so_in_one_line(tmp_path: Path) -> None:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    done = subprocess.run([str(gunicorn), "app:create_app()", "-b", "127.0.0.1:0", "-w", "1"],
                          cwd=tmp_path, env=_environ(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if "WARMFUND_CONFIG" in line]
    assert lines and lines[0].startswith("WARMFUND_CONFIG is not set"), done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("text", "env", "said"), [
    ("[app]\nmax_quantiy = 5\n", {}, "unknown key [app].max_quantiy"),
    ("", {"WARMFUND_APP_MAX_QUANTIY": "5"}, "variable WARMFUND_APP_MAX_QUANTIY"),
    ("", {"WARMFUND_DATABASE_URL": "mysql://u@h/db"}, "mysql is not supported; use postgresql+"),
])
def test_config_errors_are_one_line(tmp_path: Path, text: str, env: dict[str, str],
                                    said: str) -> None:
    (tmp_path / "warmfund.toml").write_text(text)
    result = CliRunner().invoke(main, ["admin", "list"], env={
        "WARMFUND_CONFIG": str(tmp_path / "warmfund.toml"), **env})
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and said in result.output, result.output


def test_a_command_in_the_wrong_folder_creates_nothing(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for env in ({}, {"WARMFUND_APP_DEVELOPMENT": "true"}):
        result = CliRunner().invoke(main, ["admin", "list"], env=_environ(**env))
        assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
        assert list(tmp_path.iterdir()) == []
    result = CliRunner().invoke(main, ["init"], env=_environ(WARMFUND_APP_DEVELOPMENT="true"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "instance" / "warmfund.db").exists()
    result = CliRunner().invoke(main, ["admin", "list"], env=_environ(WARMFUND_APP_DEVELOPMENT="1"))
    assert result.exit_code == 0 and result.output.startswith("admin\tadmin"), result.output


def _toml(config: dict[str, dict[str, Any]]) -> str:
    return "".join(f"[{section}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
                   for section, values in config.items())


def test_check_config_says_what_would_run(tmp_path: Path) -> None:
    path = tmp_path / "warmfund.toml"
    path.write_text(_toml(production_config(tmp_path)))
    result = CliRunner().invoke(main, ["check-config"], env=_environ(WARMFUND_CONFIG=str(path)))
    assert result.exit_code == 0, result.output
    for said in ("mode:       production", "x.db: no such file yet", "limits:     counted in the "
                 "database", "keys:       secret_key (32 characters), apiv3_key, merchant key",
                 "notify:     http://127.0.0.1:5000/wechat/pay/notify", "ok: start-up accepts"):
        assert said in result.output, said
    # It builds the runtime to load every key, yet makes nothing the app's user should own.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["creds", "warmfund.toml"]


def test_check_config_exits_non_zero_on_what_start_up_refuses(tmp_path: Path) -> None:
    config = production_config(tmp_path)
    config["wechat.pay"]["apiv3_key"] = "too short"
    (tmp_path / "warmfund.toml").write_text(_toml(config))
    env = _environ(WARMFUND_CONFIG=str(tmp_path / "warmfund.toml"))
    result = CliRunner().invoke(main, ["check-config"], env=env)
    assert result.exit_code == 1
    assert result.output == "refused: [wechat.pay].apiv3_key must be exactly 32 bytes (got 9)\n"


def test_check_config_in_development_creates_nothing(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check-config"],
                                env=_environ(WARMFUND_APP_DEVELOPMENT="true"))
    assert result.exit_code == 0 and "mode:       development" in result.output, result.output
    assert list(tmp_path.iterdir()) == []


def test_warmfund_run_asks_for_development_mode(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from flask.cli import ScriptInfo

    from app.cli import _cli_app

    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("WARMFUND_")]:
        monkeypatch.delenv(name)
    with click.Context(main, obj=ScriptInfo()) as ctx:
        ctx.obj.data["command"] = "reconcile"
        with pytest.raises(ConfigError, match="WARMFUND_CONFIG is not set"):
            _cli_app()
        ctx.obj.data["command"] = "run"
        served = _cli_app()
    runtime = served.extensions["warmfund"]
    assert runtime.settings.development and runtime.simulator is not None
    runtime.engine.dispose()
