"""Pages of the certificate and token registries (the expiry board, which also shows requests, joins this
blueprint from :mod:`certsvc.requests.board_views`).

Thin: permissions come from :mod:`certsvc.policy` (checked before any input is read), rules from
:mod:`certsvc.registry.service`, :mod:`~certsvc.registry.registration`, :mod:`~certsvc.registry.listing` and
:mod:`~certsvc.registry.expiry`.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.core.records import to_id
from certsvc.core.sql import one_of_ids
from certsvc.core.validation import text_problem
from certsvc.errors import CertsvcError, PermissionDenied, ValidationFailed
from certsvc.extensions import db
from certsvc.orgs.forms import org_choices
from certsvc.orgs.service import list_in_tree_order
from certsvc.policy import Permission, can, ensure, orgs_in_scope
from certsvc.registry import expiry, listing, registration, service
from certsvc.registry.certificates import MAX_FILE_BYTES, der_to_pem
from certsvc.registry.forms import (
    CertificateFilterForm,
    EnteredInErrorForm,
    RevokeForm,
    TokenFilterForm,
    TokenTransitionForm,
    UploadCertificateForm,
)
from certsvc.registry.models import Certificate, Token, TokenKind, TokenReturn, TokenState
from certsvc.registry.tokens import allowed_next, kept_in_custody_register
from certsvc.timeutil import format_vietnam, to_vietnam, utcnow
from certsvc.ui.forms import apply_field_errors
from certsvc.ui.navigation import NavLink
from certsvc.ui.work import WorkItem, count_of

bp = Blueprint("registry", __name__, url_prefix="/registry")
NAV_LINKS = (
    NavLink(
        "Chứng thư số",
        "registry.list_certificates",
        Permission.VIEW_REGISTRY,
        "Sổ theo dõi chứng thư số: còn hiệu lực, sắp hết hạn, đã hết hạn, đã thu hồi",
    ),
    NavLink(
        "Thiết bị ký số",
        "registry.list_tokens",
        Permission.VIEW_REGISTRY,
        "Sổ theo dõi thiết bị lưu khóa bí mật (USB Token) và trạng thái của từng thiết bị",
    ),
    NavLink(
        "Hạn chứng thư",
        "registry.expiry_board",
        Permission.VIEW_REGISTRY,
        "Chứng thư sắp hết hạn trong 30, 60, 90 ngày và thời hạn nộp lại thiết bị",
    ),
)

PER_PAGE = 50

#: Badge colour of each token state.
STATE_TONES = {
    TokenState.ACTIVE: "ok",
    TokenState.IN_STOCK: "",
    TokenState.PIN_LOCKED: "warn",
    TokenState.SUSPENDED: "warn",
    TokenState.DAMAGED: "warn",
    TokenState.LOST: "bad",
    TokenState.RETURNED: "",
    TokenState.DESTROYED: "",
}


@bp.app_template_filter("state_tone")
def _state_tone(state: TokenState) -> str:
    return STATE_TONES.get(state, "")


def registry_settings() -> service.RegistrySettings:
    return service.RegistrySettings.from_config(current_app.config)


def _scope(permission: Permission = Permission.VIEW_REGISTRY) -> set[int]:
    visible = orgs_in_scope(db.session, current_user, permission)
    if not visible:
        raise PermissionDenied()
    return visible


def _attempt(form, action) -> bool:
    """Run a service action for ``form``: commit and say True, or roll back, show the refusal
    beside the fields (or above the form) and say False."""
    try:
        action()
    except ValidationFailed as failure:
        db.session.rollback()
        apply_field_errors(form, failure)
    except CertsvcError as refusal:
        if refusal.http_status == 403:
            raise
        db.session.rollback()
        form.form_errors = [*form.form_errors, refusal.message]
    else:
        db.session.commit()
        return True
    return False


def load_record(load, record_id: int, permission: Permission):
    """The record ``load`` finds (404 when missing), once the user holds ``permission`` at its organisation."""
    record = load(db.session, record_id)
    ensure(db.session, current_user, permission, record.organisation_id)
    return record


def _unit_filter(form, visible: set[int]) -> tuple[set[int], int | None, bool]:
    """The units a list shows (all visible, or the one chosen), the chosen id, and whether the choice was bad."""
    form.organisation_id.choices = org_choices(list_in_tree_order(db.session, only=visible), "— Tất cả đơn vị —")
    if not form.organisation_id.data:
        return visible, None, False
    selected = to_id(form.organisation_id.data)
    if selected not in visible:
        form.organisation_id.errors = ["Đơn vị không có trong danh sách bạn được xem."]
        return set(), None, True
    return {selected}, selected, False


def _enum_filter(form_field, enum_cls):
    """The enum member a filter names, None for "all"; an unknown value marks the field."""
    if not form_field.data:
        return None, False
    try:
        return enum_cls(form_field.data), False
    except ValueError:
        form_field.errors = ["Giá trị lọc không hợp lệ."]
        return None, True


def _page_number() -> int:
    return max(1, min(request.args.get("page", 1, type=int) or 1, 1_000_000))


def _query_text(form) -> str:
    return (form.q.data or "")[:200]


def list_filters(form_class, **enums):
    """A list's filter, read from the query string: the form, the units to show, the chosen unit,
    the enum filters by name, and the status code (400 when a filter value was not acceptable)."""
    form = form_class(request.args)
    units, selected, bad = _unit_filter(form, _scope())
    if "q" in form and (problem := text_problem(form.q.data or "")):
        form.q.errors, form.q.data, bad = [problem], "", True
    values = {}
    for name, enum_class in enums.items():
        values[name], wrong = _enum_filter(form[name], enum_class)
        bad = bad or wrong
    return form, units, selected, values, 400 if bad else 200


@bp.get("/certificates")
@login_required
def list_certificates():
    form, units, selected, filters, status = list_filters(CertificateFilterForm, status=service.CertificateStatus)
    now, warn_days = utcnow(), registry_settings().warning_days
    result = listing.find_certificates(
        db.session,
        units,
        now=now,
        query=_query_text(form),
        page=_page_number(),
        per_page=PER_PAGE,
        warn_days=warn_days,
        **filters,
    )
    return render_template(
        "registry/certificates.html",
        form=form,
        result=result,
        now=now,
        status_of=partial(service.certificate_status, warn_days=warn_days),
        selected=selected,
        can_upload=can(db.session, current_user, Permission.MANAGE_REGISTRY),
    ), status


@bp.get("/certificates/<int:certificate_id>")
@login_required
def view_certificate(certificate_id: int):
    cert = load_record(service.get_certificate, certificate_id, Permission.VIEW_REGISTRY)
    return _certificate_page(cert, RevokeForm(), 200)


def _walk(cert: Certificate, link: Literal["predecessor", "successor"], limit: int = 50) -> list[Certificate]:
    """The certificates reached by following ``link`` from ``cert``, nearest first."""
    found: list[Certificate] = []
    current = getattr(cert, link)
    while current is not None and len(found) < limit:
        found.append(current)
        current = getattr(current, link)
    return found


def _certificate_page(cert, revoke_form: RevokeForm, status: int, error_form: EnteredInErrorForm | None = None):
    visible = orgs_in_scope(db.session, current_user, Permission.VIEW_REGISTRY)
    settings, now = registry_settings(), utcnow()
    return render_template(
        "registry/certificate.html",
        cert=cert,
        now=now,
        error_form=error_form or EnteredInErrorForm(),
        status=service.certificate_status(cert, now, warn_days=settings.warning_days),
        earlier=_walk(cert, "predecessor"),
        later=_walk(cert, "successor"),
        visible=visible,
        revoke_form=revoke_form,
        can_manage=can(db.session, current_user, Permission.MANAGE_REGISTRY, cert.organisation_id),
        may_request=can(db.session, current_user, Permission.DRAFT_REQUESTS, cert.organisation_id),
        returns=(
            expiry.pending_returns(db.session, now, [cert.token_id], calendar=settings.calendar)
            if cert.token_id
            else []
        ),
    ), status


@bp.get("/certificates/<int:certificate_id>/download")
@login_required
def download_certificate(certificate_id: int):
    cert = load_record(service.get_certificate, certificate_id, Permission.VIEW_REGISTRY)
    if request.args.get("format", "pem") == "der":
        body, mimetype, suffix = cert.der, "application/pkix-cert", "cer"
    else:
        body, mimetype, suffix = der_to_pem(cert.der), "application/x-pem-file", "pem"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="chung-thu-{cert.serial_hex}.{suffix}"'},
    )


@bp.post("/certificates/<int:certificate_id>/revoke")
@login_required
def revoke_certificate(certificate_id: int):
    cert = load_record(service.get_certificate, certificate_id, Permission.MANAGE_REGISTRY)
    form = RevokeForm()

    def revoke() -> None:
        service.record_past_revocation(
            db.session,
            current_user,
            cert,
            revoked_on=form.revoked_on.data,
            reason=form.reason.data or "",
            calendar=registry_settings().calendar,
        )

    valid = form.validate_on_submit()
    if valid and _attempt(form, revoke):
        flash(f"Đã ghi nhận thu hồi chứng thư {cert.serial_hex}.", "success")
        return redirect(url_for("registry.view_certificate", certificate_id=cert.id))
    if not valid and form.revoked_on.errors:
        form.revoked_on.errors = ["Ghi ngày thu hồi (ngày/tháng/năm)."]
    return _certificate_page(cert, form, 400)


@bp.post("/certificates/<int:certificate_id>/entered-in-error")
@login_required
def mark_entered_in_error(certificate_id: int):
    cert = load_record(service.get_certificate, certificate_id, Permission.MANAGE_REGISTRY)
    form = EnteredInErrorForm()

    def mark() -> None:
        service.mark_entered_in_error(db.session, current_user, cert, form.reason.data or "")

    if form.validate_on_submit() and _attempt(form, mark):
        flash(f"Đã đánh dấu chứng thư {cert.serial_hex} là ghi nhầm: chứng thư không còn trong sổ theo dõi.", "success")
        return redirect(url_for("registry.view_certificate", certificate_id=cert.id))
    return _certificate_page(cert, RevokeForm(), 400, error_form=form)


@bp.route("/certificates/upload", methods=["GET", "POST"])
@login_required
def upload_certificate():
    manageable = _scope(Permission.MANAGE_REGISTRY)
    form = UploadCertificateForm()
    form.organisation_id.choices = org_choices(list_in_tree_order(db.session, only=manageable), "— Chọn đơn vị —")
    form.holder_id.choices = [("", "— Không có (chứng thư của tổ chức, thiết bị) —")] + [
        (str(p.id), f"{p.full_name} — {p.organisation.name}")
        for p in registration.holder_choices(db.session, manageable)
    ]
    form.predecessor_id.choices = [("", "— Không (cấp mới) —")] + [
        (str(c.id), f"{c.subject_cn} · {c.serial_hex} · hết hạn {format_vietnam(c.not_after)[:10]}")
        for c in registration.predecessor_choices(db.session, manageable)
    ]
    if request.method == "GET":
        form.organisation_id.data = request.args.get("organisation_id", "")
        form.predecessor_id.data = request.args.get("predecessor_id", "")
    registered = []

    def register() -> None:
        upload = form.file.data
        data = upload.read(MAX_FILE_BYTES + 1) if upload else b""
        registered.append(registration.register_upload(db.session, current_user, form.raw(), data))

    if form.validate_on_submit() and _attempt(form, register):
        cert = registered[0]
        flash(f"Đã đăng ký chứng thư {cert.serial_hex} của {cert.subject_cn}.", "success")
        return redirect(url_for("registry.view_certificate", certificate_id=cert.id))
    return render_template("registry/upload.html", form=form), 400 if request.method == "POST" else 200


@bp.get("/tokens")
@login_required
def list_tokens():
    form, units, selected, filters, status = list_filters(TokenFilterForm, state=TokenState, kind=TokenKind)
    result = listing.find_tokens(
        db.session, units, query=_query_text(form), page=_page_number(), per_page=PER_PAGE, **filters
    )
    return render_template("registry/tokens.html", form=form, result=result, selected=selected), status


@bp.get("/tokens/<int:registry_token_id>")
@login_required
def view_token(registry_token_id: int):
    token = load_record(service.get_token, registry_token_id, Permission.VIEW_REGISTRY)
    return _token_page(token, TokenTransitionForm(), 200)


def _token_page(token, form: TokenTransitionForm, status: int):
    form.to_state.choices = [("", "— Chọn trạng thái —")] + [(s.value, s.label) for s in allowed_next(token.state)]
    settings, now = registry_settings(), utcnow()
    return render_template(
        "registry/token.html",
        token=token,
        form=form,
        certificates=service.certificates_on(db.session, token),
        replaced_by=service.replacements_of(db.session, token),
        now=now,
        status_of=partial(service.certificate_status, warn_days=settings.warning_days),
        returns=expiry.pending_returns(db.session, now, [token.id], calendar=settings.calendar),
        can_manage=can(db.session, current_user, Permission.MANAGE_REGISTRY, token.organisation_id)
        and not kept_in_custody_register(db.session, token),
        in_custody_register=kept_in_custody_register(db.session, token),
        can_return=TokenState.RETURNED in allowed_next(token.state),
    ), status


@bp.post("/tokens/<int:registry_token_id>/transition")
@login_required
def transition_token(registry_token_id: int):
    token = load_record(service.get_token, registry_token_id, Permission.MANAGE_REGISTRY)
    form = TokenTransitionForm()

    def transition() -> None:
        if form.to_state.data not in {state.value for state in TokenState}:
            raise ValidationFailed({"to_state": "Chọn trạng thái mới."})
        service.transition_token(
            db.session, current_user, token, TokenState(form.to_state.data), form.reason.data or ""
        )

    if form.validate_on_submit() and _attempt(form, transition):
        flash(f"Đã chuyển thiết bị {token.serial} sang «{token.state.label}».", "success")
        return redirect(url_for("registry.view_token", registry_token_id=token.id))
    db.session.refresh(token)
    return _token_page(token, form, 400)


# --- the home page's work list ---------------------------------------------------------------------


def registry_work(session: Session, account: Account) -> list[WorkItem]:
    """Tokens of revoked certificates still to be returned to the CA, in the units whose registry ``account``
    keeps; those past their due day first."""
    units = orgs_in_scope(session, account, Permission.MANAGE_REGISTRY)
    if not units:
        return []
    open_returns = (
        select(TokenReturn)
        .join(Token, Token.id == TokenReturn.token_id)
        .where(TokenReturn.returned_at.is_(None), one_of_ids(Token.organisation_id, units))
    )
    count, overdue = count_of(session, open_returns, TokenReturn.due_on < to_vietnam(utcnow()).date())
    return [
        WorkItem(
            "Chứng thư số và thiết bị",
            "Thiết bị phải nộp lại tổ chức cung cấp dịch vụ chứng thực",
            count,
            url_for("registry.expiry_board"),
            overdue,
            "quá hạn",
        )
    ]


WORK_ITEMS = (registry_work,)
