"""Helpers shared by the benchmark scripts: servers under gunicorn, load with wrk."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def gunicorn_args(workers: int, threads: int) -> list[str]:
    """gunicorn's settings for `workers` processes: sync ones, or gthread ones of `threads`
    threads each when `threads` > 0."""
    kind = ["--worker-class", "gthread", "--threads", str(threads)] if threads else [
        "--worker-class", "sync"]
    return ["--workers", str(workers), *kind, "--backlog", "2048", "--log-level", "warning"]


# The same settings for the app and for its baseline; BENCH_WORKERS overrides the count, and
# BENCH_THREADS > 0 makes them gthread workers of that many threads each.
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
THREADS = int(os.environ.get("BENCH_THREADS", "0"))
WRK_THREADS = 2
GUNICORN_ARGS = gunicorn_args(WORKERS, THREADS)


def database_server() -> str:
    """The PostgreSQL server the benchmarks use: BENCH_DATABASE_URL, else TEST_DATABASE_URL."""
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def fresh_database(base_url: str, name: str) -> str:
    """Drop and create database `name` on the PostgreSQL server of `base_url`; its URL."""
    from sqlalchemy import create_engine, make_url, text

    base = make_url(base_url)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free on 127.0.0.1 (all held open while chosen, so two calls in a
    row cannot hand out the same one)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def start_gunicorn(target: str, port: int, env: dict[str, str],
                   args: list[str] | None = None, workers: int = WORKERS,
                   ) -> subprocess.Popen[bytes]:
    """gunicorn serving `target` (with GUNICORN_ARGS unless `args` are given, for `workers`
    workers), returned once every worker has loaded it."""
    ready = Path(tempfile.mkdtemp(prefix="bench-ready-"))
    cmd = [str(VENV_BIN / "gunicorn"), *(GUNICORN_ARGS if args is None else args),
           "--config", str(ROOT / "bench" /
           "gunicorn_ready.py"), "--bind", f"127.0.0.1:{port}", target]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env,
                                                "BENCH_READY_DIR": str(ready)})
    deadline = time.time() + 180  # a machine shared with other work starts them slowly
    while time.time() < deadline and proc.poll() is None:
        if len(list(ready.iterdir())) >= workers:
            shutil.rmtree(ready)
            return proc
        time.sleep(0.2)
    proc.kill()
    shutil.rmtree(ready)
    raise SystemExit(f"gunicorn's workers did not all start: {target}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    """Requests/s and latency percentiles (ms) as wrk measures them."""
    began = time.monotonic()
    out = subprocess.run(
        ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-s", str(script), url],
        capture_output=True, text=True, check=True).stdout
    if time.monotonic() - began > seconds + 3:
        # wrk counts from when its last thread started: a slow start inflates the rate.
        raise SystemExit(f"wrk took {time.monotonic() - began:.0f} s for a {seconds} s run")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = {m.group(1): _ms(m.group(2), m.group(3))
               for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sent = re.search(r"(\d+) requests in", out)
    return {"rps": rps, "p50": latency.get("50", 0.0), "p99": latency.get("99", 0.0),
            "errors": float(non2xx.group(1)) if non2xx else 0.0,
            "requests": float(sent.group(1)) if sent else 0.0}


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU each process has used so far (those gone are left out)."""
    used = {}
    for pid in pids:
        _name, fields = _stat(pid)
        if fields:
            used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two cpu_seconds() readings by the processes alive at the second (one
    that ended in between is left out, rather than counted as giving its CPU back)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def workers_of(proc: subprocess.Popen[bytes]) -> list[int]:
    """The pids of gunicorn's workers (the master's children)."""
    return [pid for pid in _all_pids() if _stat(pid)[1][1:2] == [str(proc.pid)]]


def postgres_pids(database: str | None = None) -> list[int]:
    """PostgreSQL's server processes on this machine: its own (writers, checkpointer, ...) and
    the backends of `database` (of every database when None). Other work's backends on a
    shared server are left out: their CPU is not the benchmark's."""
    found = []
    for pid in _all_pids():
        if _stat(pid)[0] != "postgres":
            continue
        serving = _backend_database(pid)
        if database is None or serving is None or serving == database:
            found.append(pid)
    return found


def _backend_database(pid: int) -> str | None:
    """The database a backend serves, from its title ("postgres: [cluster: ]user database
    host(port) state"); None for the server's own processes."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    found = _BACKEND_TITLE.search(title)
    return found.group(1) if found else None


_BACKEND_TITLE = re.compile(r"^postgres: (?:[^ ]+: )?[^ ]+ ([^ ]+) (?:[^ ]+\(\d+\)|\[local\])")


def wait_for_port(port: int, seconds: float = 30) -> None:
    """Return once something accepts connections on 127.0.0.1:`port`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port} after {seconds:.0f} s")


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _stat(pid: int) -> tuple[str, list[str]]:
    """/proc/<pid>/stat as (command name, the fields after it: state, parent pid, ...);
    ("", []) for a process that is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "", []
    return text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 1:].split()


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk_script(folder: Path, request_line: str, requests: list[bytes]) -> Path:
    """A wrk script sending `requests` to `request_line` ("POST /path") in order, once each,
    and again from the top only when all were sent: every wrk thread takes every
    WRK_THREADS-th of them.

    A request is everything after its request line and Host header (wrk knows the host): the
    other header lines, the empty line and the body. Each thread reads its own slice from a
    file in `init`, so the script stays small. wrk loads a thread's script only after starting
    the threads before it: a script that carried 24,000 requests itself took seconds to load,
    the first thread's requests in those seconds were counted but the seconds were not, and the
    load took a core from the server measured: rates came out about 1.5 (bare) and 2 (app)
    times what they were.
    """
    for thread in range(WRK_THREADS):
        with open(folder / f"requests-{thread}.bin", "wb") as out:
            for raw in requests[thread::WRK_THREADS]:
                out.write(b"%d\n" % len(raw) + raw)
    script = folder / "requests.lua"
    script.write_text(_REQUESTS_LUA.replace("FOLDER", str(folder))
                      .replace("REQUEST_LINE", request_line))
    return script


_REQUESTS_LUA = """
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

local reqs = {}
function init(args)
  local file = assert(io.open("FOLDER/requests-" .. id .. ".bin", "rb"))
  local data = file:read("*a")
  file:close()
  local head = "REQUEST_LINE HTTP/1.1\\r\\nHost: " .. wrk.headers["Host"] .. "\\r\\n"
  local at = 1
  while at <= #data do
    local newline = string.find(data, "\\n", at, true)
    local length = tonumber(string.sub(data, at, newline - 1))
    reqs[#reqs + 1] = head .. string.sub(data, newline + 1, newline + length)
    at = newline + 1 + length
  end
end

local sent = 0
function request()
  sent = sent + 1
  return reqs[(sent - 1) % #reqs + 1]
end
"""
