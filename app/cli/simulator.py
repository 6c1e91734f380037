"""The local stand-in of WeChat: `warmfund simulator` on its own, and the port of the one
`warmfund run --sim-port` starts."""

from __future__ import annotations

import os
import socket

import click
from flask.cli import with_appcontext

from app.config import env_name
from app.runtime import current_runtime


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


@click.command("simulator")
@click.option("--port", type=int, default=9090, show_default=True)
@with_appcontext
def simulator_command(port: int) -> None:
    """Run the local stand-in of WeChat's servers (development credentials in instance/)."""
    from wechat.keys import generate_dev_credentials
    from wechat.simulator import run_simulator, simulator_config_from_dev_credentials

    creds = generate_dev_credentials(current_runtime().settings.instance_dir / "dev-credentials")
    click.echo(f"WeChat stand-in on http://127.0.0.1:{port} — point the app at it with\n"
               f"  WARMFUND_WECHAT_API_BASE=http://127.0.0.1:{port} "
               f"WARMFUND_WECHAT_PAY_API_BASE=http://127.0.0.1:{port}")
    run_simulator(simulator_config_from_dev_credentials(creds), port)
