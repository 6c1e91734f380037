"""The web layer: one blueprint per module, each with its own URL prefix, all registered here
side by side. Helpers the blueprints share (who is signed in, reading requests, the runtime)
live in modules without a blueprint: auth, parsing, context."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.web import (
        admin_api,
        admin_bills,
        admin_data,
        admin_export,
        admin_manage,
        admin_units,
        api,
        console,
        console_bills,
        console_manage,
        console_pages,
        console_refunds,
        entry,
        health,
        notify,
        openapi,
        pages,
    )

    for module in (api, entry, notify, pages, health, openapi,
                   admin_api, admin_data, admin_manage, admin_bills, admin_units, admin_export,
                   console, console_pages, console_manage, console_bills, console_refunds):
        app.register_blueprint(module.bp)
