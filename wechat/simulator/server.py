"""Serving the stand-in over HTTP: in a background thread for tests, or in the foreground."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from wechat.simulator.app import SimulatorApp, create_simulator_app
from wechat.simulator.config import SimulatorConfig

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


# A short poll keeps stop() quick; serve_forever only notices shutdown between polls.
_POLL_SECONDS = 0.05


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class BackgroundServer:
    """Any WSGI app served by werkzeug on a daemon thread; `url` once started."""

    def __init__(
        self, app: WSGIApplication, host: str = "127.0.0.1", port: int = 0, quiet: bool = True
    ) -> None:
        self._app, self._host, self._port, self._quiet = app, host, port, quiet
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("server not started")
        return f"http://{self._host}:{self._server.server_port}"

    def start(self) -> None:
        handler = _QuietHandler if self._quiet else None
        self._server = make_server(
            self._host, self._port, self._app, threaded=True, request_handler=handler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_SECONDS},
            name="wechat-stand-in",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> BackgroundServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class SimulatorServer(BackgroundServer):
    """The stand-in of WeChat on 127.0.0.1, in a daemon thread; `app.state` for inspection."""

    def __init__(self, config: SimulatorConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app: SimulatorApp = create_simulator_app(config)
        super().__init__(self.app, host, port)

    def __enter__(self) -> SimulatorServer:
        self.start()
        return self


def run_simulator(config: SimulatorConfig, port: int, host: str = "127.0.0.1") -> None:
    """Serve the stand-in in the foreground until interrupted (`warmfund simulator`)."""
    server = make_server(host, port, create_simulator_app(config), threaded=True)
    print(f"WeChat stand-in listening on http://{host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
