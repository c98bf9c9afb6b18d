"""The expiry board and its one-click renewal draft: registry pages that combine the registry with requests.

They live here because requests use the registry, never the reverse; they join the registry's blueprint, so
their addresses and endpoint names stay the registry's (``/registry/board``, ``registry.expiry_board``).
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from certsvc.errors import ValidationFailed
from certsvc.extensions import db
from certsvc.policy import Permission, orgs_in_scope
from certsvc.registry import expiry
from certsvc.registry import service as registry
from certsvc.registry.forms import BoardFilterForm
from certsvc.registry.views import bp, list_filters, load_record, registry_settings
from certsvc.requests import service
from certsvc.requests.deadlines import CA_WORKING_DAYS, ca_deadlines
from certsvc.requests.fields import SubmissionLimits
from certsvc.requests.models import RequestType
from certsvc.timeutil import format_vietnam, utcnow

__all__ = ["expiry_board", "renewal_draft"]


@bp.get("/board")
@login_required
def expiry_board():
    form, units, selected, _, status = list_filters(BoardFilterForm)
    now, settings = utcnow(), registry_settings()
    return render_template(
        "registry/board.html",
        form=form,
        selected=selected,
        reminder_days=settings.reminder_thresholds,
        board=expiry.expiry_board(db.session, units, now, calendar=settings.calendar),
        ca_deadlines=ca_deadlines(db.session, units, now, calendar=settings.calendar),
        ca_days=CA_WORKING_DAYS,
        drafting=orgs_in_scope(db.session, current_user, Permission.DRAFT_REQUESTS),
        request_readers=orgs_in_scope(db.session, current_user, Permission.VIEW_REQUESTS),
    ), status


@bp.post("/certificates/<int:certificate_id>/renewal-draft")
@login_required
def renewal_draft(certificate_id: int):
    """One click on the expiry board: a draft renewal request (Mẫu 04) for the longest extension allowed."""
    cert = load_record(registry.get_certificate, certificate_id, Permission.DRAFT_REQUESTS)
    years = SubmissionLimits.from_config(current_app.config).max_extension_years
    try:
        draft = service.create_draft(
            db.session,
            current_user,
            cert.organisation_id,
            RequestType.RENEWAL,
            {
                "certificate_id": cert.id,
                "extension_years": str(years),
                "note": f"Lập từ bảng theo dõi hạn: chứng thư hết hạn {format_vietnam(cert.not_after)}.",
            },
        )
    except ValidationFailed as failure:
        db.session.rollback()
        raise ValidationFailed(
            failure.field_errors, "Chưa lập được đề nghị gia hạn: " + " ".join(failure.field_errors.values())
        ) from None
    db.session.commit()
    flash(f"Đã lập dự thảo đề nghị gia hạn số {draft.id}; kiểm tra lại rồi trình thủ trưởng.", "success")
    return redirect(url_for("requests.view_request", request_id=draft.id))
