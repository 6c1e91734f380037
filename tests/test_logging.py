"""Every module logs under its own name; create_app() lets their INFO lines through to a
handler, without doubling what a deployment configured itself."""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

import pytest

from tests import notices
from tests.helpers import Api, demo_tree

SERVICE_LOGGER = "app.services.payments.payments"


def test_a_notifications_verdict_is_logged_at_info(api: Api, session: Any,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    demo_tree(session)
    order = api.order(api.login("alice"), unit="HC-A1").get_json()
    creds = notices.credentials(api.app)
    headers, body = notices.signed(creds, notices.transaction(creds, order["out_trade_no"], 100))
    assert api.client.post("/wechat/pay/notify", data=body, headers=headers).status_code == 204
    # caplog's handler sits on the root logger at no level of its own (as a deployment's
    # would): the line reaches it only if the app's loggers pass INFO on.
    assert ("app.web.notify", logging.INFO, "payment notification: recorded") in (
        caplog.record_tuples)


def _log_in_a_fresh_process(setup: str) -> str:
    script = (f"import logging\n{setup}\nfrom app import configure_logging\n"
              f"configure_logging()\nlogging.getLogger({SERVICE_LOGGER!r}).info('seen')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stderr


def test_a_services_info_line_reaches_the_handler_configure_logging_sets() -> None:
    lines = _log_in_a_fresh_process("").splitlines()
    assert len(lines) == 1 and "INFO" in lines[0] and lines[0].endswith(": seen")


def test_a_deployments_own_logging_is_kept_and_not_doubled() -> None:
    stderr = _log_in_a_fresh_process("logging.basicConfig(format='mine %(name)s %(message)s')")
    assert stderr.splitlines() == [f"mine {SERVICE_LOGGER} seen"]
