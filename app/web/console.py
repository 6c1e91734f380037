"""The admin and organizer web console under /admin/: server-rendered Chinese pages.

Pages sign in with a form (rate-limited, lockout after repeated failures), keep our admin token
in the signed HttpOnly session cookie, and check a CSRF token on every form post.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from app.errors import error_response
from app.services.accounts import accounts
from app.services.actor import Actor
from app.services.errors import DomainError, InvalidRequestError, UnauthorizedError
from app.web.admin_api import current_actor, login
from app.web.admin_session import check_csrf, csrf_token, sign_in, sign_out
from app.web.context import deps, get_session

bp = Blueprint("console", __name__, url_prefix="/admin", template_folder="../templates",
               static_folder="../static/admin", static_url_path="/static")

F = TypeVar("F", bound=Callable[..., Any])


def signed_in(view: F) -> F:
    """Puts the actor on g.actor; sends strangers to the login page."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            g.actor = current_actor()
        except UnauthorizedError:
            sign_out()
            return redirect(url_for("console.login_page", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def actor() -> Actor:
    found: Actor = g.actor
    return found


@bp.before_request
def _refuse_nul_in_forms() -> None:
    """No form field can hold a NUL (PostgreSQL would refuse even to compare one): a 400 for the
    console's every form, the sign-in form included, before any of it is read."""
    if request.method == "POST" and any("\x00" in v for v in request.form.values()):
        raise InvalidRequestError("表单含有无效的字符")


@bp.app_context_processor
def _console_context() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "actor": g.get("actor")}


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Any:
    if (request.blueprint or "").startswith("console.export"):
        return error_response(exc.code, exc.message)
    if isinstance(exc, UnauthorizedError):
        return redirect(url_for("console.login_page"))
    from app.errors import STATUS

    return render_template("admin/error.html", message=exc.message), STATUS.get(exc.code, 400)


def back(endpoint: str, **values: Any) -> BaseResponse:
    return redirect(url_for(endpoint, **values))


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
    return url_for("console.pages.dashboard_page")


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


def _register_children() -> None:
    from app.web import admin_export, console_bills, console_manage, console_pages, console_refunds

    for child in (console_pages.bp, console_manage.bp, console_bills.bp, console_refunds.bp,
                  admin_export.bp):
        bp.register_blueprint(child)


_register_children()

__all__ = ["Response", "actor", "back", "bp", "signed_in"]
