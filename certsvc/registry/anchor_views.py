"""The trust anchors page: the CA certificates received signatures must chain to, and the CAs' revocation lists.
On the registry's blueprint (``/registry/anchors``); the rules from :mod:`certsvc.registry.anchors`.

Administrators see the list; only an administrator of the whole tree adds, removes or loads a CRL (the
service says who), and that is checked before the uploaded file is read.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import defer

from certsvc.errors import PermissionDenied, ValidationFailed
from certsvc.extensions import db
from certsvc.policy import Permission, ensure
from certsvc.registry import anchors
from certsvc.registry.models import RevocationList, TrustAnchor
from certsvc.registry.views import bp
from certsvc.ui.navigation import NavLink
from certsvc.ui.uploads import allow_upload

__all__ = ["NAV_LINKS"]

NAV_LINKS = (
    NavLink(
        "Chứng thư gốc tin cậy",
        "registry.list_anchors",
        Permission.MANAGE_ORGS,
        "Chứng thư của CA mà chữ ký số trên văn bản nhận được phải chuỗi tới; danh sách thu hồi (CRL)",
    ),
)


def _may_change() -> bool:
    try:
        anchors.authorise(db.session, current_user)
    except PermissionDenied:
        return False
    return True


def _anchors_page(errors: dict[str, str] | None = None, status: int = 200, form: str | None = None):
    ensure(db.session, current_user, Permission.MANAGE_ORGS)
    return render_template(
        "registry/anchors.html",
        anchors=db.session.scalars(
            select(TrustAnchor)
            .options(defer(TrustAnchor.der))
            .order_by(TrustAnchor.removed_at.is_not(None), TrustAnchor.id)
        ).all(),
        crls=db.session.scalars(
            select(RevocationList)
            .options(defer(RevocationList.der))
            .order_by(RevocationList.issuer_dn, RevocationList.this_update.desc())
        ).all(),
        may_change=_may_change(),
        errors=errors or {},
        form=form,
    ), status


@bp.get("/anchors")
@login_required
def list_anchors():
    return _anchors_page()


def _uploaded(limit: int) -> bytes:
    upload = request.files.get("file")
    return upload.stream.read(limit + 1) if upload is not None and upload.filename else b""


def _change(form: str, change: Callable[[], str]):
    """Run ``change`` (it returns what to tell the user) once the user may change anchors, which is checked
    before anything posted is read; commit, or show the refusal under the form ``form`` posted."""
    anchors.authorise(db.session, current_user)
    try:
        done = change()
    except ValidationFailed as failure:
        db.session.rollback()
        return _anchors_page(failure.field_errors, 400, form)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("registry.list_anchors"))


@bp.post("/anchors")
@login_required
def add_anchor():
    def add() -> str:
        added = anchors.add_anchors(db.session, current_user, _uploaded(anchors.MAX_ANCHOR_BYTES))
        return f"Đã thêm {len(added)} chứng thư gốc tin cậy: " + "; ".join(a.subject_dn for a in added) + "."

    return _change("anchor", add)


@bp.post("/anchors/<int:anchor_id>/remove")
@login_required
def remove_anchor(anchor_id: int):
    def remove() -> str:
        return f"Đã gỡ chứng thư gốc «{anchors.remove_anchor(db.session, current_user, anchor_id).subject_dn}»."

    return _change("anchor", remove)


@bp.post("/anchors/crl")
@login_required
def add_crl():
    def add() -> str:
        crl = anchors.add_revocation_list(db.session, current_user, _uploaded(anchors.MAX_CRL_BYTES))
        return f"Đã nạp danh sách thu hồi của «{crl.issuer_dn}»."

    return _change("crl", add)


def _too_large(form: str) -> Callable[[str], tuple[str, int]]:
    def page(message: str) -> tuple[str, int]:
        anchors.authorise(db.session, current_user)  # whoever may not upload gets the refusal of that first
        return _anchors_page({"file": message}, 413, form)

    return page


# A certificate file is small: its bound is lowered to it; a CRL may be as large as the service accepts.
allow_upload(bp, "add_anchor", anchors.MAX_ANCHOR_BYTES, _too_large("anchor"))
allow_upload(bp, "add_crl", anchors.MAX_CRL_BYTES, _too_large("crl"))
