"""docs/try-it.md, run as written: `warmfund init` and `warmfund run --sim-port` in a fresh
folder (as ./run.sh does), then every copy-paste block of the walk-through against them."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
WALK_THROUGH = ROOT / "docs" / "try-it.md"
WARMFUND = Path(sys.executable).parent / "warmfund"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _newcomer_env(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARMFUND_")}
    env["WARMFUND_APP_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    env["WARMFUND_APP_DEVELOPMENT"] = "true"  # as ./run.sh asks for it
    return env


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int, Path]]:
    """The app and its stand-in on ports of this test's choosing, in a folder of their own."""
    folder = tmp_path_factory.mktemp("clone")
    port, sim_port = _free_port(), _free_port()
    env = _newcomer_env(port)
    subprocess.run([str(WARMFUND), "init"], cwd=folder, env=env, check=True,
                   capture_output=True, timeout=120)
    log = folder / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(WARMFUND), "run", "--host", "127.0.0.1", "--port", str(port),
             "--sim-port", str(sim_port), "--no-reload"],
            cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180  # a loaded machine starts it slowly
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/api/campaigns", timeout=2)
                break
            except requests.ConnectionError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        yield port, sim_port, log
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_stand_in_listens_on_the_port_asked_for_and_says_so(
        served: tuple[int, int, Path]) -> None:
    port, sim_port, log = served
    state = requests.get(f"http://127.0.0.1:{sim_port}/_sim/state", timeout=5)
    assert state.status_code == 200 and "orders" in state.json()
    assert f"WeChat stand-in on http://127.0.0.1:{sim_port}" in log.read_text()


def test_every_block_of_the_walk_through_works_as_written(
        served: tuple[int, int, Path]) -> None:
    port, sim_port, _log = served
    text = WALK_THROUGH.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    assert blocks[0].strip() == "./run.sh"
    assert "127.0.0.1:5000" in text and "127.0.0.1:9090" in text  # the ports run.sh uses
    script = "\n".join(blocks[1:]).replace(":5000", f":{port}").replace(":9090", f":{sim_port}")
    ran = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True,
                         text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    lines = [line for line in ran.stdout.splitlines() if line.strip()]
    replies = [json.loads(line) for line in lines if line.startswith("{")]
    campaigns = [r for r in replies if r.get("code") == "one-yuan"]
    before, after = campaigns[0], campaigns[-1]
    assert after["total_fen"] - before["total_fen"] == 300
    assert after["donation_count"] - before["donation_count"] == 1
    polled = next(r for r in replies if "out_trade_no" in r and r.get("quantity") == 3)
    assert polled["status"] == "paid"
    assert "paid" in lines  # the stand-in's own pay endpoint, then the poll
    state = replies[-1]
    assert state["orders"] == {"SUCCESS": 2}
    assert state["notifications_sent"] == 3  # one, then one sent twice


def test_a_taken_stand_in_port_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        result = subprocess.run(
            [str(WARMFUND), "run", "--port", str(_free_port()), "--sim-port", str(busy)],
            cwd=tmp_path, env=_newcomer_env(5000), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"--sim-port {busy}: that port is taken" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_sh_sees_to_the_poster_font_before_it_serves() -> None:
    run_sh = (ROOT / "run.sh").read_text()
    checked = run_sh.index("scripts/system-deps.sh posters")
    assert checked < run_sh.index("warmfund init") < run_sh.index("warmfund run")
    assert '--sim-port "$SIM_PORT"' in run_sh and "SIM_PORT:-$((PORT + 4090))" in run_sh
    # Here the font is installed: the check passes without installing anything.
    ran = subprocess.run(["bash", str(ROOT / "scripts" / "system-deps.sh"), "posters"],
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0 and "installing" not in ran.stdout, ran.stdout + ran.stderr
