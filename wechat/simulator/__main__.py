"""`python -m wechat.simulator --port 8900 --credentials instance/wechat-dev`."""

from __future__ import annotations

import argparse
from pathlib import Path

from wechat.keys import generate_dev_credentials
from wechat.simulator.config import simulator_config_from_dev_credentials
from wechat.simulator.server import run_simulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local stand-in of WeChat (development only)")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--credentials",
        type=Path,
        default=Path("instance/wechat-dev"),
        help="directory of development credentials (created when missing)",
    )
    args = parser.parse_args(argv)
    creds = generate_dev_credentials(args.credentials)
    run_simulator(simulator_config_from_dev_credentials(creds), args.port, args.host)


if __name__ == "__main__":
    main()
