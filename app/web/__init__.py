"""The web layer: one blueprint per module, each with its own URL prefix, all registered here
side by side. The worker's API, WeChat Pay's notifications and the public pages are modules
here; the admin API and the console are packages of their own (admin_api/, console/).
Helpers the blueprints share (who is signed in, reading requests, the runtime) live in
modules without a blueprint: auth, parsing, context."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.web import api, entry, health, notify, openapi, pages
    from app.web.admin_api import account, bills, data, export, manage, units
    from app.web.console import account as console_account
    from app.web.console import bills as console_bills
    from app.web.console import manage as console_manage
    from app.web.console import pages as console_pages
    from app.web.console import refunds as console_refunds

    for module in (api, entry, notify, pages, health, openapi,
                   account, data, manage, bills, units, export,
                   console_account, console_pages, console_manage, console_bills,
                   console_refunds):
        app.register_blueprint(module.bp)
