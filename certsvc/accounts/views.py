"""Signing in and out, changing one's own password, and the pages' helper that names who acted."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from certsvc.accounts import authentication, passwords
from certsvc.accounts.actors import ActorNames, actor_names
from certsvc.accounts.forms import ChangePasswordForm, LoginForm, entered
from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.errors import ValidationFailed
from certsvc.extensions import db
from certsvc.timeutil import format_vietnam, utcnow
from certsvc.ui.forms import apply_field_errors

bp = Blueprint("auth", __name__)

_OUTCOME_STATUS = {
    authentication.LoginOutcome.BAD_CREDENTIALS: 401,
    authentication.LoginOutcome.THROTTLED: 429,
    authentication.LoginOutcome.LOCKED: 429,
    authentication.LoginOutcome.DISABLED: 403,
}


@bp.app_template_global("actor_names")
def _actor_names(rows) -> ActorNames:
    """For templates: ``{% set actors = actor_names(events) %}``, then ``actors.of(event)``."""
    return actor_names(db.session, rows)


def clock() -> datetime:
    """The time logins and sessions go by: a test sets ``CERTSVC_CLOCK`` (a function) to fix it."""
    return current_app.config.get("CERTSVC_CLOCK", utcnow)()


def sign_in(account: Account) -> None:
    """Open a new login session for this browser (in the caller's transaction, which the caller commits
    before answering) and give it the cookie."""
    authentication.start_session(db.session, account, hours=current_app.config["CERTSVC_SESSION_HOURS"], now=clock())
    login_user(account)


def _login_policy() -> authentication.LoginPolicy:
    config = current_app.config
    return authentication.LoginPolicy(
        throttle_after=config["CERTSVC_LOGIN_THROTTLE_AFTER"],
        lock_after=config["CERTSVC_LOGIN_LOCK_AFTER"],
        lock_minutes=config["CERTSVC_LOGIN_LOCK_MINUTES"],
    )


def _opens_with_get(path: str) -> bool:
    """Whether ``path`` is a page of this site (a GET route), not an action that only takes a POST."""
    try:
        current_app.url_map.bind("localhost").match(path, method="GET")
    except RequestRedirect:  # the same page with or without its trailing slash
        return True
    except HTTPException:
        return False
    return True


def _safe_next(target: str | None) -> tuple[str, bool]:
    """Where to go after logging in, and whether an action was lost on the way.

    Only a path on this site: never an open redirect. A form posted after the login expired (or from a tab
    opened before logging out) brings the address of its action, which only takes a POST: the user lands on
    the nearest page above it (the record the action was for), and is told the action was not done.
    """
    if not target:
        return url_for("core.index"), False
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("core.index"), False
    if _opens_with_get(parts.path):
        return target, False
    path = parts.path.rstrip("/")
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        if path and _opens_with_get(path):
            return path, True
    return url_for("core.index"), True


def _failure_message(result: authentication.LoginResult) -> str:
    if result.outcome is authentication.LoginOutcome.THROTTLED:
        return f"Đăng nhập sai nhiều lần. Vui lòng thử lại sau {format_vietnam(result.retry_at, True)}."
    if result.outcome is authentication.LoginOutcome.LOCKED:
        return (
            "Tài khoản tạm khóa do đăng nhập sai nhiều lần, đến "
            f"{format_vietnam(result.retry_at, True)}. Liên hệ quản trị hệ thống nếu cần mở sớm."
        )
    if result.outcome is authentication.LoginOutcome.DISABLED:
        return "Tài khoản đã bị vô hiệu hóa. Liên hệ quản trị hệ thống."
    return "Tên đăng nhập hoặc mật khẩu không đúng."


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        return render_template("auth/login.html", form=form)
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400
    result = authentication.authenticate(
        db.session,
        entered(form.username),
        entered(form.password),
        source=request.remote_addr or "",
        policy=_login_policy(),
        now=clock(),
    )
    if not result.ok:
        db.session.commit()
        return render_template("auth/login.html", form=form, error=_failure_message(result)), _OUTCOME_STATUS[
            result.outcome
        ]
    account = result.account
    if account is None:  # a successful login always names its account
        raise RuntimeError("login succeeded without an account")
    session.clear()  # nothing from before the login carries over, the CSRF token included
    sign_in(account)
    db.session.commit()
    if account.must_change_password:
        flash("Bạn cần đổi mật khẩu trước khi tiếp tục.", "info")
        return redirect(url_for("auth.change_password"))
    landing, action_lost = _safe_next(form.next.data)
    if action_lost:
        flash(
            "Phiên đăng nhập đã hết hạn trước khi thao tác được gửi, nên thao tác chưa được thực hiện. "
            "Hãy xem lại hồ sơ dưới đây và làm lại nếu vẫn cần.",
            "warning",
        )
    return redirect(landing)


@bp.post("/logout")
@login_required
def logout():
    record(db.session, Actor.of(current_user), "auth.logout", "account", current_user.id)
    authentication.end_session(db.session, current_user.session_secret)
    db.session.commit()
    logout_user()
    flash("Bạn đã đăng xuất.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            passwords.change_password(
                db.session, current_user, entered(form.current_password), entered(form.new_password)
            )
        except ValidationFailed as failure:
            db.session.rollback()
            apply_field_errors(form, failure)
        else:
            sign_in(current_user._get_current_object())  # every session ended: this browser gets a new one
            db.session.commit()
            flash("Đã đổi mật khẩu.", "success")
            return redirect(url_for("core.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/change_password.html", form=form), status
