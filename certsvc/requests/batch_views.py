"""Pages of consolidation batches: the focal office's list, a batch with its requests and candidates, its
steps (add, remove, lock, create the letter document, sent) and its letter and annexes. On the requests
blueprint; rules from :mod:`certsvc.requests.batches` and :mod:`certsvc.requests.batch_letter`, the documents
from :mod:`certsvc.requests.letters`.
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.core.sql import inlined, one_of_ids
from certsvc.documents.access import may
from certsvc.documents.files import latest
from certsvc.documents.models import FileKind, OutgoingDocument
from certsvc.documents.views import DOCUMENT_PAGE
from certsvc.errors import ValidationFailed
from certsvc.extensions import db
from certsvc.policy import Permission, can, ensure, orgs_in_scope
from certsvc.requests import batches
from certsvc.requests.batch_letter import awaits_letter, issued_letter_entry, letter_signers
from certsvc.requests.batch_letter import create_letter as create_letter_document
from certsvc.requests.letters import DOCUMENTS, batch_distribution, batch_recipient, build_document
from certsvc.requests.models import Batch, BatchStatus, CertificateRequest, RequestStatus
from certsvc.requests.views import REQUESTS_WORK, attempt, bp
from certsvc.ui import onceonly
from certsvc.ui.work import WorkItem, count_of


def _batches_page(errors: dict | None = None, values: dict | None = None, status: int = 200):
    return render_template(
        "requests/batches.html",
        rows=batches.batches_in_scope(db.session, current_user),
        offices=batches.focal_offices_of(db.session, current_user),
        errors=errors or {},
        values=values or {},
        form_token=onceonly.new_token(),
    ), status


@bp.get("/batches")
@login_required
def list_batches():
    return _batches_page()


@bp.post("/batches/new")
@login_required
def create_batch():
    ensure(db.session, current_user, Permission.MANAGE_BATCHES)
    if sent := onceonly.sent_before(db.session, current_user.id):
        return sent
    try:
        batch = batches.create_batch(db.session, current_user, request.form)
    except ValidationFailed as failure:
        db.session.rollback()
        return _batches_page(failure.field_errors, request.form.to_dict(), 400)
    target = onceonly.remember(db.session, url_for("requests.view_batch", batch_id=batch.id))
    db.session.commit()
    flash(f"Đã tạo đợt tổng hợp «{batch.title}».", "success")
    return redirect(target)


@DOCUMENT_PAGE.add
def _letter_of(doc: OutgoingDocument) -> dict[str, object]:
    """On a proposal letter's page, the batch it is the letter of, for those who see that batch."""
    batch = db.session.scalar(select(Batch).where(Batch.letter_document_id == doc.id))
    visible = batch is not None and can(db.session, current_user, Permission.VIEW_BATCHES, batch.focal_office_id)
    return {"letter_of_batch": batch if visible else None}


def _distribution_values(batch: Batch) -> dict[str, str]:
    """The recipients form as the letter would print them now (lines without their dashes)."""
    paper, electronic = batch_distribution(batch)
    return {
        "letter_recipient": batch_recipient(batch),
        "distribution_lines": "\n".join(paper),
        "electronic_distribution_lines": "\n".join(electronic),
    }


def _batch_page(batch: Batch, errors: dict | None = None, status: int = 200):
    manage = can(db.session, current_user, Permission.MANAGE_BATCHES, batch.focal_office_id)
    letter = batch.letter_document
    new_letter = manage and awaits_letter(batch)
    copies_to, electronic_copies_to = batch_distribution(batch)
    return render_template(
        "requests/batch.html",
        batch=batch,
        errors=errors or {},
        manage=manage,
        documents=DOCUMENTS,
        recipient=batch_recipient(batch),
        copies_to=copies_to,
        electronic_copies_to=electronic_copies_to,
        set_distribution=manage and batches.may_set_distribution(batch),
        distribution=request.form if request.method == "POST" else _distribution_values(batch),
        candidates=batches.candidates(db.session, batch) if manage and batch.status is BatchStatus.OPEN else [],
        letter=letter,
        letter_visible=letter is not None and may(db.session, current_user, Permission.VIEW_DOCUMENTS, letter),
        letter_signed=letter is not None and latest(letter, FileKind.ISSUED) is not None,
        letter_issued=issued_letter_entry(batch) is not None,
        new_letter=new_letter,
        may_draft=can(db.session, current_user, Permission.DRAFT_DOCUMENTS, batch.focal_office_id),
        signers=letter_signers(db.session, batch) if new_letter else [],
        values=request.form if request.method == "POST" else {},
    ), status


@bp.get("/batches/<int:batch_id>")
@login_required
def view_batch(batch_id: int):
    return _batch_page(batches.get_batch(db.session, current_user, batch_id))


def _batch_action(batch_id: int, change, message: str):
    batch = batches.get_batch(db.session, current_user, batch_id, Permission.MANAGE_BATCHES)
    return attempt(
        lambda: change(batch),
        lambda errors, status: _batch_page(batches.get_batch(db.session, current_user, batch_id), errors, status),
        message,
        url_for("requests.view_batch", batch_id=batch_id),
    )


@bp.post("/batches/<int:batch_id>/add")
@login_required
def add_to_batch(batch_id: int):
    return _batch_action(
        batch_id,
        lambda b: batches.add_requests(db.session, current_user, b, request.form.getlist("request_ids")),
        "Đã đưa đề nghị vào đợt tổng hợp.",
    )


@bp.post("/batches/<int:batch_id>/remove")
@login_required
def remove_from_batch(batch_id: int):
    return _batch_action(
        batch_id,
        lambda b: batches.remove_request(db.session, current_user, b, request.form.get("request_id")),
        "Đã rút đề nghị khỏi đợt tổng hợp.",
    )


@bp.post("/batches/<int:batch_id>/lock")
@login_required
def lock_batch(batch_id: int):
    return _batch_action(
        batch_id,
        lambda b: batches.lock_batch(db.session, current_user, b),
        "Đã chốt đợt tổng hợp. Có thể tạo công văn và phụ lục.",
    )


@bp.post("/batches/<int:batch_id>/distribution")
@login_required
def set_distribution(batch_id: int):
    return _batch_action(
        batch_id,
        lambda b: batches.set_distribution(db.session, current_user, b, request.form),
        "Đã lưu nơi nhận của công văn đề nghị.",
    )


@bp.post("/batches/<int:batch_id>/letter")
@login_required
def create_letter(batch_id: int):
    return _batch_action(
        batch_id,
        lambda b: create_letter_document(db.session, current_user, b, request.form),
        "Đã tạo công văn đề nghị (dự thảo). Mở văn bản để trình thẩm định, ký duyệt và phát hành.",
    )


@bp.post("/batches/<int:batch_id>/sent")
@login_required
def mark_sent(batch_id: int):
    return _batch_action(
        batch_id, lambda b: batches.mark_sent(db.session, current_user, b), "Đã ghi nhận công văn đã gửi."
    )


@bp.get("/batches/<int:batch_id>/documents/<name>")
@login_required
def batch_document(batch_id: int, name: str):
    batch = batches.get_batch(db.session, current_user, batch_id)
    document, content = build_document(batch, name)
    # content_type, not mimetype: the document's type already names its charset, Flask would add another.
    return Response(
        content,
        content_type=document.mimetype,
        headers={"Content-Disposition": f'attachment; filename="dot-{batch.id}-{document.filename}"'},
    )


# --- the home page's work list ---------------------------------------------------------------------


def batch_work(session: Session, account: Account) -> list[WorkItem]:
    """The focal officer's consolidation: accepted requests not yet in a batch, batches not yet sent."""
    served = orgs_in_scope(session, account, Permission.MANAGE_BATCHES)
    if not served:
        return []
    r = CertificateRequest
    accepted = select(r).where(
        one_of_ids(r.organisation_id, served), r.status == inlined(RequestStatus.ACCEPTED, r.status.type)
    )
    unsent = select(Batch).where(
        one_of_ids(Batch.focal_office_id, served), Batch.status.in_((BatchStatus.OPEN, BatchStatus.LOCKED))
    )
    return [
        WorkItem(
            REQUESTS_WORK,
            "Đã tiếp nhận, chờ đưa vào đợt tổng hợp",
            count_of(session, accepted)[0],
            url_for("requests.queue", status="accepted"),
        ),
        WorkItem(
            REQUESTS_WORK,
            "Đợt tổng hợp chưa gửi cơ quan cấp",
            count_of(session, unsent)[0],
            url_for("requests.list_batches"),
        ),
    ]


WORK_ITEMS = (batch_work,)
