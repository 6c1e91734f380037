"""What every blueprint of console pages shares: the /admin prefix, errors as an HTML page (or
the login page), and forms without NUL characters."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from app.errors import STATUS
from app.services.errors import DomainError, InvalidRequestError, UnauthorizedError
from app.web.console.session import CONSOLE_PREFIX


def console_blueprint(name: str, import_name: str, **options: Any) -> Blueprint:
    bp = Blueprint(name, import_name, url_prefix=CONSOLE_PREFIX, **options)
    bp.before_request(_refuse_nul_in_forms)
    bp.register_error_handler(DomainError, _error_page)
    return bp


def _refuse_nul_in_forms() -> None:
    """No form field can hold a NUL (PostgreSQL would refuse even to compare one): a 400 for the
    console's every form, the sign-in form included, before any of it is read."""
    if request.method == "POST" and any("\x00" in v for v in request.form.values()):
        raise InvalidRequestError("表单含有无效的字符")


def _error_page(exc: DomainError) -> Any:
    if isinstance(exc, UnauthorizedError):
        return redirect(url_for("console.login_page"))
    return render_template("admin/error.html", message=exc.message), STATUS.get(exc.code, 400)
