"""The admin and organizer web console under /admin/: sign in and out, one's own password.

Pages sign in with a form (rate-limited, lockout after repeated failures), keep our admin token
in the signed HttpOnly session cookie, and check a CSRF token on every form post.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.services.accounts import accounts
from app.services.errors import DomainError
from app.web.auth import actor, back, login, signed_in
from app.web.console.blueprint import console_blueprint
from app.web.console.session import check_csrf, csrf_token, sign_in, sign_out
from app.web.context import deps, get_session

bp = console_blueprint("console", __name__, static_folder="../../static/admin",
                       static_url_path="/static")


@bp.app_context_processor
def _console_context() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "actor": g.get("actor")}


@bp.get("/login")
def login_page() -> str:
    return render_template("admin/login.html", next=request.args.get("next", ""))


@bp.post("/login")
def login_submit() -> BaseResponse | tuple[str, int]:
    check_csrf()
    try:
        token = login(request.form.get("username", ""), request.form.get("password", ""))
    except DomainError as exc:
        flash(exc.message, "error")
        return render_template("admin/login.html", next=request.form.get("next", ""),
                               username=request.form.get("username", "")), 401
    sign_in(token)
    return redirect(_own_page(request.form.get("next", "")))


def _own_page(target: str) -> str:
    """`target` when it is a page of the console, else the dashboard: never an open redirect
    to another site, nor a header broken by control characters."""
    if target.startswith("/admin/") and target.isprintable() and "\\" not in target:
        return target
    return url_for("console_pages.dashboard_page")


@bp.post("/logout")
@signed_in
def logout() -> BaseResponse:
    accounts.logout(get_session(), actor(), deps().clock())
    sign_out()
    flash("已退出登录", "info")
    return back("console.login_page")


@bp.get("/password")
@signed_in
def password_page() -> str:
    return render_template("admin/password.html")


@bp.post("/password")
@signed_in
def password_submit() -> BaseResponse | tuple[str, int]:
    try:
        accounts.change_own_password(get_session(), actor(), request.form.get("old", ""),
                                     request.form.get("new", ""), deps().clock())
    except DomainError as exc:
        flash(exc.message, "error")
        return render_template("admin/password.html"), 400
    sign_out()
    flash("密码已修改，请用新密码登录", "info")
    return back("console.login_page")
