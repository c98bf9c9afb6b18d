"""The JSON API (/api/v1).

API requests carry ``Authorization: Bearer <secret>``; session cookies are not
accepted there, so the API needs no CSRF token. Errors are JSON with a stable
``code`` (see certsvc.errors) and a Vietnamese ``message``.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from certsvc.accounts.api_tokens import account_for_secret
from certsvc.api import idempotency
from certsvc.api.openapi import openapi_document
from certsvc.errors import CertsvcError
from certsvc.extensions import csrf, db
from certsvc.policy import nav_permissions

__all__ = ["bp", "api_account"]

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

#: Endpoints of the API that answer without a token.
PUBLIC_ENDPOINTS = {"api.openapi"}


class Unauthenticated(CertsvcError):
    code = "unauthenticated"
    http_status = 401


class PasswordChangeRequired(CertsvcError):
    code = "password_change_required"
    http_status = 403


def api_account():
    """The account the current API request acts for."""
    return g.api_account


@bp.before_request
def _authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    account = account_for_secret(db.session, secret.strip()) if scheme.lower() == "bearer" else None
    if account is None:
        raise Unauthenticated("Thiếu khóa API hợp lệ (Authorization: Bearer ...), hoặc khóa đã bị thu hồi.")
    # As on the pages: an account that must change its password does nothing else first.
    if account.must_change_password:
        raise PasswordChangeRequired(
            "Tài khoản phải đổi mật khẩu trước khi dùng API. Hãy đăng nhập trang web và đổi mật khẩu."
        )
    g.api_account = account
    if request.method == "POST":
        return idempotency.replay(db.session, account)
    return None


@bp.after_request
def _challenge(response):
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="certsvc"'
    return response


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/me")
def me():
    account = api_account()
    return jsonify(
        id=account.id,
        username=account.username,
        full_name=account.person.full_name,
        organisation={"id": account.person.organisation_id, "name": account.person.organisation.name},
        roles=[{"role": a.role.value, "organisation_id": a.organisation_id} for a in account.roles],
        permissions=sorted(p.value for p in nav_permissions(account)),
    )
