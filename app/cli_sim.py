"""`warmfund run --sim-port`: the local stand-in of WeChat on a port of the user's choosing."""

from __future__ import annotations

import os
import socket

import click

from app.config import env_name


def set_simulator_port(port: int, reload: bool) -> None:
    """Start the stand-in on `port`. With the reloader only its child serves: the parent, which
    loads the app first, must leave the port free for it."""
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        taken.bind(("127.0.0.1", port))
    except OSError as exc:
        raise click.UsageError(f"--sim-port {port}: that port is taken (another warmfund "
                               "running?); choose another") from exc
    finally:
        taken.close()
    if not reload or os.environ.get("WERKZEUG_RUN_MAIN") == "true":
        os.environ[env_name("wechat", "simulator_port")] = str(port)
