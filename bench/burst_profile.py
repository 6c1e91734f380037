"""The launch burst's steps in one process: CPU per request of the app and of PostgreSQL, or a
cProfile of each step with a CPU clock.

bench/burst.py measures the app under gunicorn, where every figure carries the other
processes on the same cores; this runs the same donors' flow through Flask's test client in
this process (the stand-in over HTTP in its own, the notification through the app under
gunicorn, as the stand-in delivers it), so that a change can be measured on its own, steadily
enough to compare two versions run one after the other. Prints, per step, the CPU a request
cost this process and PostgreSQL; with --profile, writes DIR/<step>.prof (pstats) as well.

    .venv/bin/python bench/burst_profile.py [--donors 300] [--profile DIR]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import burst, common  # noqa: E402

WARM_DONORS = 20


class InProcessClient(burst.Client):
    """burst's client, with the app's requests sent through Flask's test client."""

    def __init__(self, flask_app: Any, app_port: int, sim_port: int, units: list[str]) -> None:
        super().__init__(app_port, sim_port, units)
        self._app = flask_app.test_client()

    def _send(self, host: str, method: str, path: str, donor: burst.Donor,
              payload: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        if host != "app":
            return super()._send(host, method, path, donor, payload)
        headers, data = self.request_parts(donor, payload)
        reply = self._app.open(path, method=method, headers=headers, data=data,
                               environ_base={"REMOTE_ADDR": "127.0.0.1"})
        body = reply.get_json(silent=True)
        return reply.status_code, body if isinstance(body, dict) else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--donors", type=int, default=300, help="donors measured per step")
    parser.add_argument("--profile", type=Path, help="write each step's cProfile here")
    args = parser.parse_args()
    url = common.fresh_database(common.database_server(), burst.DATABASE)
    app_port, sim_port = common.free_ports(2)
    with tempfile.TemporaryDirectory() as tmp:
        env = burst._app_env(url, Path(tmp), app_port, sim_port)
        subprocess.run([str(common.VENV_BIN / "warmfund"), "init", "--demo"],
                       env={**os.environ, **env}, check=True, capture_output=True)
        procs = [burst._start_stand_in("gunicorn", sim_port, env)]
        try:
            # The stand-in delivers each notification to the app under gunicorn.
            procs.append(common.start_gunicorn("app:create_app()", app_port, env, workers=2,
                                        args=["--workers", "2", "--log-level", "warning"]))
            _measure(_client(env, url, app_port, sim_port), args.donors, args.profile)
        finally:
            for proc in reversed(procs):
                common.stop(proc)


def _client(env: dict[str, str], url: str, app_port: int, sim_port: int) -> InProcessClient:
    os.environ.update(env)
    from app import create_app

    return InProcessClient(create_app(), app_port, sim_port, burst._unit_codes(url))


def _measure(client: InProcessClient, donors: int, profile: Path | None) -> None:
    if profile:
        profile.mkdir(parents=True, exist_ok=True)
    for group, report in (([client.donor() for _ in range(WARM_DONORS)], False),
                          ([client.donor() for _ in range(donors)], True)):
        for name in burst.STEPS:
            if name == "pending poll":  # every order old enough for the app to ask
                time.sleep(max(0.0, group[-1].ordered_at + burst.QUERY_AFTER_SECONDS + 0.2
                               - time.monotonic()))
            if name == "notification" or not report:  # served by gunicorn, not here
                _run(client, name, group, None)
                continue
            target = profile / f"{name.replace(' ', '_')}.prof" if profile else None
            app_ms, postgres_ms = _run(client, name, group, target)
            print(f"{name:<13} app {app_ms:6.2f} ms  postgres {postgres_ms:5.2f} ms"
                  f"{'  (profiled)' if target else ''}", flush=True)


def _run(client: InProcessClient, name: str, donors: list[burst.Donor],
         target: Path | None) -> tuple[float, float]:
    """Every donor's `name` step; CPU ms per request of this process and of PostgreSQL."""
    profiler = cProfile.Profile(time.process_time) if target else None
    postgres = common.cpu_seconds(common.postgres_pids(burst.DATABASE))
    began = time.process_time()
    if profiler:
        profiler.enable()
    for donor in donors:
        _, problem = client.step(name, donor)
        if problem:
            raise SystemExit(f"wrong answer: {problem}")
    if profiler and target:
        profiler.disable()
        profiler.dump_stats(target)
    used = time.process_time() - began
    postgres_used = common.cpu_between(
        postgres, common.cpu_seconds(common.postgres_pids(burst.DATABASE)))
    return 1000 * used / len(donors), 1000 * postgres_used / len(donors)


if __name__ == "__main__":
    main()
