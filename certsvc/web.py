"""Wiring of the web layer: blueprints, login, error pages, template helpers, headers."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from certsvc.accounts.authentication import login_session_for, note_seen
from certsvc.accounts.models import Account, Role
from certsvc.accounts.views import clock
from certsvc.core.enums import LabelledEnum
from certsvc.core.numbers import format_count
from certsvc.errors import CertsvcError
from certsvc.extensions import db, login_manager
from certsvc.orgs.models import OrgKind
from certsvc.policy import Permission, nav_permissions
from certsvc.timeutil import format_vietnam
from certsvc.ui.converters import IdConverter
from certsvc.ui.links import links_by_id
from certsvc.ui.navigation import NavLink
from certsvc.ui.work import WORK_SOURCES, WorkSource

__all__ = ["register_web", "ERROR_TITLES"]

ERROR_TITLES = {
    400: "Yêu cầu không hợp lệ",
    401: "Cần đăng nhập",
    403: "Không có quyền truy cập",
    404: "Không tìm thấy trang",
    405: "Phương thức không được hỗ trợ",
    409: "Xung đột dữ liệu",
    413: "Tệp tải lên quá lớn",
    429: "Quá nhiều yêu cầu",
    500: "Lỗi hệ thống",
}

ERROR_TEXTS = {
    400: "Yêu cầu gửi lên không hợp lệ. Vui lòng quay lại và thử lại.",
    401: "Vui lòng đăng nhập để tiếp tục.",
    403: "Tài khoản của bạn không có quyền xem hoặc thực hiện thao tác này.",
    404: "Trang hoặc bản ghi bạn tìm không tồn tại.",
    405: "Thao tác này không thực hiện được theo cách bạn đã gửi.",
    409: "Dữ liệu đã thay đổi hoặc mâu thuẫn với dữ liệu hiện có.",
    413: "Tệp tải lên vượt quá dung lượng cho phép.",
    429: "Bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau.",
    500: "Đã có lỗi xảy ra. Không có thay đổi nào được lưu. Vui lòng thử lại hoặc báo quản trị hệ thống.",
}

# Endpoints that an account which must change its password may still reach.
_PASSWORD_CHANGE_ALLOWED = {"auth.change_password", "auth.logout", "static", "core.healthz"}


log = logging.getLogger("certsvc")
# How stale a session's "last seen" may get: writing it on every request would make every page a write.
_SEEN_EVERY = timedelta(minutes=1)


@login_manager.user_loader
def _load_account(session_secret: str) -> Account | None:
    """The account of the cookie's login session, with the person and roles every page needs: one query."""
    now = clock()
    login = login_session_for(db.session, session_secret, now)
    if login is None:
        return None
    if now - login.last_seen_at >= _SEEN_EVERY:
        try:
            note_seen(db.engine, login, now)
        except SQLAlchemyError:  # only a hint for administrators: never worth refusing the page
            log.warning("could not record when a session was last seen", exc_info=True)
    return login.account


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _error_response(
    status: int, message: str | None = None, code: str | None = None, fields: dict[str, str] | None = None
):
    db.session.rollback()
    if _wants_json():
        error: dict[str, str | dict[str, str]] = {
            "code": code or f"http_{status}",
            "message": message or ERROR_TEXTS.get(status, ""),
        }
        if fields:
            error["fields"] = fields
        return jsonify(error=error), status
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=ERROR_TITLES.get(status, "Lỗi"),
            message=message or ERROR_TEXTS.get(status, ""),
        ),
        status,
    )


def badge(status: LabelledEnum) -> Markup:
    """A status as a coloured badge; its ``tone`` (ok, warn, bad or none) picks the colour."""
    # Keyed by the enum too: members of string enums equal their value, so a request's "sent" and a
    # document's "sent" would otherwise share one cached badge, and one label.
    return _badge(type(status), status)


@functools.cache  # statuses are enum members, few and fixed: a list of fifty rows builds each badge once
def _badge(_kind: type, status: LabelledEnum) -> Markup:
    return Markup(f'<span class="badge {escape(getattr(status, "tone", ""))}">{escape(status.label)}</span>')


def register_web(app: Flask) -> None:
    from certsvc.accounts.views import bp as auth_bp
    from certsvc.ui.views import bp as core_bp

    # Before any route is added: every ``<int:...>`` of every blueprint is a bounded id.
    app.url_map.converters["int"] = IdConverter
    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    nav_links: list[NavLink] = []
    work_sources: list[WorkSource] = []
    registered: set[str] = set()
    for module in _capability_view_modules():
        # Some modules add pages to another module's blueprint: each blueprint is registered once.
        if module.bp.name not in registered:
            app.register_blueprint(module.bp)
            registered.add(module.bp.name)
        nav_links.extend(getattr(module, "NAV_LINKS", ()))
        work_sources.extend(getattr(module, "WORK_ITEMS", ()))
    # The home page's work list asks each capability's WORK_ITEMS (certsvc.ui.work).
    app.extensions[WORK_SOURCES] = tuple(work_sources)

    app.permanent_session_lifetime = timedelta(hours=app.config["CERTSVC_SESSION_HOURS"])
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @app.before_request
    def _force_password_change():
        if (
            current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint not in _PASSWORD_CHANGE_ALLOWED
        ):
            return redirect(url_for("auth.change_password"))
        return None

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            # the document pages' "Ký số" buttons call the signing agent on the user's PC
            f"connect-src 'self' {app.config['CERTSVC_AGENT_URL']}; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            # Pages show personal data: keep them out of shared caches and the back button.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return _error_response(
            400,
            "Biểu mẫu đã hết hạn hoặc thiếu mã bảo vệ (CSRF). Vui lòng tải lại trang và gửi lại.",
            "csrf_failed",
        )

    @app.errorhandler(CertsvcError)
    def _domain_error(error: CertsvcError):
        return _error_response(error.http_status, error.message, error.code, getattr(error, "field_errors", None))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        body, status = _error_response(error.code or 500)
        # Keep what the protocol asks for, such as the Allow header of a 405.
        headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
        return body, status, headers

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _error_response(500)

    @app.context_processor
    def _template_helpers():
        held = nav_permissions(current_user if current_user.is_authenticated else None)
        return {
            "nav": held,
            "nav_links": [link for link in nav_links if link.permission in held],
            "Permission": Permission,
            "Role": Role,
            "OrgKind": OrgKind,
        }

    app.jinja_env.globals["links_by_id"] = links_by_id
    app.jinja_env.filters["vntime"] = format_vietnam
    app.jinja_env.filters["vnnumber"] = format_count
    app.jinja_env.filters["badge"] = badge
    app.jinja_env.filters["vntime_s"] = lambda moment: format_vietnam(moment, with_seconds=True)


def _capability_view_modules():
    """Each capability's views modules, with their blueprint ``bp``, optional ``NAV_LINKS`` and optional
    ``WORK_ITEMS`` (the home page's work list, :mod:`certsvc.ui.work`), in menu order.

    A module may add its pages to another module's blueprint (the batch pages to the requests', the
    expiry board and trust anchors to the registry's, incoming documents and the report to the documents').
    """
    from certsvc.accounts import admin_views
    from certsvc.accounts import api_token_views as token_views
    from certsvc.agents import api as agent_api
    from certsvc.agents import views as agent_views
    from certsvc.api import (  # noqa: F401  (their endpoints join the API's blueprint)
        batches,
        documents,
        readiness,
        registry,
        requests,
    )
    from certsvc.api import views as api_views
    from certsvc.auditview import views as audit_views
    from certsvc.custody import views as custody_views
    from certsvc.documents import incoming_views, report_views
    from certsvc.documents import views as documents_views
    from certsvc.imports import views as imports_views
    from certsvc.orgs import views as orgs_views
    from certsvc.people import views as people_views
    from certsvc.readiness import views as readiness_views
    from certsvc.registry import anchor_views
    from certsvc.registry import views as registry_views
    from certsvc.requests import batch_views, board_views
    from certsvc.requests import views as requests_views

    return (
        documents_views,
        incoming_views,
        requests_views,
        batch_views,
        registry_views,
        board_views,
        custody_views,
        readiness_views,
        report_views,
        orgs_views,
        people_views,
        admin_views,
        anchor_views,
        imports_views,
        audit_views,
        api_views,
        token_views,
        agent_views,
        agent_api,
    )
