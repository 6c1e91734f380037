"""The stand-in of WeChat for bench/burst.py, served by gunicorn (one process, so one state;
threads): `warmfund simulator` serves it with werkzeug's development server, which closes every
connection after one reply, where WeChat's servers keep them open and the app's pooled sessions
reuse them. $BENCH_CREDENTIALS names the development credentials' folder, as the app's."""

import os
from pathlib import Path

from wechat.keys import generate_dev_credentials
from wechat.simulator import create_simulator_app, simulator_config_from_dev_credentials

app = create_simulator_app(simulator_config_from_dev_credentials(
    generate_dev_credentials(Path(os.environ["BENCH_CREDENTIALS"]))))
