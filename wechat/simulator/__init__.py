"""A local stand-in of WeChat speaking the real protocols over HTTP (dev and tests only)."""

from wechat.simulator.app import SimulatorApp, create_simulator_app
from wechat.simulator.config import SimulatorConfig, simulator_config_from_dev_credentials
from wechat.simulator.identity import derive_openid
from wechat.simulator.server import BackgroundServer, SimulatorServer, run_simulator

__all__ = [
    "BackgroundServer",
    "SimulatorApp",
    "SimulatorConfig",
    "SimulatorServer",
    "create_simulator_app",
    "derive_openid",
    "run_simulator",
    "simulator_config_from_dev_credentials",
]
