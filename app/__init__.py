"""warmfund: the Flask application factory."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from flask import Flask, abort, request
from flask.logging import default_handler, has_level_handler

from app.config import load_settings

log = logging.getLogger(__name__)
# Every module logs under its own name (logging.getLogger(__name__)) in one of these packages.
LOGGED_PACKAGES = ("app", "wechat", "qr", "models")


def create_app(test_config: dict[str, dict[str, Any]] | None = None) -> Flask:
    """Build the app. `test_config` overrides settings section by section (tests, tools)."""
    from app import db, errors
    from app.runtime import build_runtime
    from app.web import register_blueprints
    from app.web.console.session import CONSOLE_PREFIX, ConsoleSessionInterface
    from app.web.headers import secure_headers
    from app.web.parsing import refuse_impossible_path_values

    settings = load_settings(test_config)
    runtime = build_runtime(settings)
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        SECRET_KEY=runtime.deps.secret_key,
        MAX_CONTENT_LENGTH=settings.get("app", "max_body_bytes"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH=CONSOLE_PREFIX,  # browsers keep the console's cookie to the console
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.session_interface = ConsoleSessionInterface()
    app.jinja_env.globals["federation_name"] = settings.get("app", "federation_name")
    proxies = settings.get("app", "trusted_proxies")
    if proxies:
        # Behind nginx every request comes from the proxy: take the client's address from
        # X-Forwarded-For, trusting exactly as many hops as there are proxies of ours.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
        app.before_request(_refuse_around_the_proxy)
    app.extensions["warmfund"] = runtime
    db.init_app(app)
    errors.register_error_handlers(app)
    app.url_value_preprocessor(refuse_impossible_path_values)
    register_blueprints(app)
    app.after_request(secure_headers)
    configure_logging()
    return app


def configure_logging() -> None:
    """Our packages log from INFO up (every notification's verdict is an INFO line). A
    deployment that configured a handler taking INFO for them (or for the root logger) keeps
    its own;
    otherwise they get Flask's, which writes to the request's wsgi.errors (gunicorn's error
    log) and elsewhere to stderr. A level the deployment set is kept too."""
    for name in LOGGED_PACKAGES:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
        if not has_level_handler(logger):
            logger.addHandler(default_handler)


def _refuse_around_the_proxy() -> None:
    """With trusted_proxies the app must listen on loopback only: a request from anywhere else
    went around the proxy and wrote its own X-Forwarded-For, which would choose the address
    that rate limits count and the audit trail records."""
    peer = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR") or ""
    try:
        local = not peer or ipaddress.ip_address(peer).is_loopback  # "": a Unix socket
    except ValueError:
        local = False
    if not local:
        log.warning(
            "refused a request from %s: [app].trusted_proxies is set, so only the proxy on "
            "this host may reach the app (listen on 127.0.0.1)", peer)
        abort(403)
