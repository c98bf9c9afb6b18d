"""Pages of incoming documents (văn bản đến): the list with its tabs and the clerk's upload of a document from
outside, and a document's page with "Kiểm tra ký số", the clerk's register or return, the head's direction,
the confirmation of a recall, the file and the timeline. On the documents blueprint.

Thin: permissions and rules from :mod:`certsvc.documents.incoming` (the permission is checked before any input
is read), the check's lines from :mod:`certsvc.documents.signature_report`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from certsvc.accounts.models import Account
from certsvc.core.paging import Page, page_from, paginate
from certsvc.core.records import to_id
from certsvc.core.sql import one_of_ids
from certsvc.documents import access, files, incoming
from certsvc.documents.models import DocumentStatus, IncomingDocument, IncomingStatus, Urgency
from certsvc.documents.settings import DocumentSettings
from certsvc.documents.signature_report import refusal_reason, signature_checks
from certsvc.documents.views import bp
from certsvc.errors import CertsvcError, NotFound, PermissionDenied, ValidationFailed
from certsvc.extensions import db
from certsvc.orgs.tree import OrgTree, TreePlace
from certsvc.people.models import Person
from certsvc.policy import Permission, can, ensure, orgs_in_scope
from certsvc.timeutil import to_vietnam, utcnow
from certsvc.ui.navigation import NavLink
from certsvc.ui.uploads import allow_upload
from certsvc.ui.work import WorkItem, count_of

__all__ = ["NAV_LINKS", "TABS", "WORK_ITEMS"]

NAV_LINKS = (
    NavLink(
        "Văn bản đến",
        "documents.list_incoming",
        Permission.VIEW_DOCUMENTS,
        "Văn bản các đơn vị gửi đến và văn bản bên ngoài: kiểm tra ký số, vào sổ, giao xử lý",
    ),
)

#: The outside document's form fields, named like the keys :func:`incoming.receive_outside` takes.
OUTSIDE_FIELDS = ("sender_name", "original_number", "original_date", "summary", "urgency")
#: The fields the upload form shows its errors under; any other error is shown above the page.
_FORM_FIELDS = frozenset({*OUTSIDE_FIELDS, "file", "receiving_body_id"})


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    status: IncomingStatus


TABS = (
    Tab("waiting", "Chờ kiểm tra, vào sổ", IncomingStatus.RECEIVED),
    Tab("registered", "Đã vào sổ", IncomingStatus.REGISTERED),
    Tab("returned", "Đã trả lại", IncomingStatus.RETURNED),
)
_TABS = {tab.key: tab for tab in TABS}


def _settings() -> DocumentSettings:
    return DocumentSettings.from_config(current_app.config)


def _receiving_bodies() -> tuple[TreePlace, ...]:
    """The bodies whose incoming register the user keeps, in tree order: the upload form's choice."""
    scope = orgs_in_scope(db.session, current_user, Permission.RECEIVE_DOCUMENTS)
    return OrgTree.load(db.session).in_tree_order(scope)


def _tab() -> Tab:
    tab = _TABS.get(request.args.get("tab") or TABS[0].key)
    if tab is None:
        raise NotFound("Không có mục này.")
    return tab


def _listed(tab: Tab) -> Select[IncomingDocument]:
    # What each row shows besides the document itself, read with the page rather than row by row.
    return incoming.incoming_list(db.session, current_user, status=tab.status).options(
        selectinload(IncomingDocument.outgoing),
        selectinload(IncomingDocument.handler),
        selectinload(IncomingDocument.receiving_body),
    )


def _may_list() -> bool:
    """Whoever sees some body's documents, and whoever a head directed a document to."""
    directed = select(IncomingDocument.id).where(IncomingDocument.handler_id == current_user.person_id).limit(1)
    return can(db.session, current_user, Permission.VIEW_DOCUMENTS) or db.session.scalar(directed) is not None


def _list_page(values: dict | None = None, errors: dict | None = None, status: int = 200):
    if not _may_list():
        raise PermissionDenied()
    tab = _tab()
    page_errors: dict[str, str] = {}
    number = page_from(request.args, page_errors)
    rows: Page[IncomingDocument] = (
        Page(items=[], number=number, total=0) if page_errors else paginate(db.session, _listed(tab), number)
    )
    return render_template(
        "documents/incoming_list.html",
        tabs=TABS,
        tab=tab,
        rows=rows,
        bodies=_receiving_bodies(),
        # Whoever sees the documents of several bodies is told which body each went to.
        several_bodies=len(orgs_in_scope(db.session, current_user, Permission.VIEW_DOCUMENTS)) > 1,
        urgencies=Urgency,
        recalled=DocumentStatus.RECALLED,
        values=values or {},
        errors=errors or {},
        notices={name: text for name, text in {**page_errors, **(errors or {})}.items() if name not in _FORM_FIELDS},
    ), 400 if page_errors else status


@bp.get("/incoming")
@login_required
def list_incoming():
    return _list_page()


def _upload_too_large(message: str):
    ensure(db.session, current_user, Permission.RECEIVE_DOCUMENTS)
    return _list_page(errors={"file": message}, status=413)


allow_upload(bp, "receive_incoming", files.MAX_FILE_BYTES, _upload_too_large)


@bp.post("/incoming/receive")
@login_required
def receive_incoming():
    ensure(db.session, current_user, Permission.RECEIVE_DOCUMENTS)
    values = {name: request.form.get(name) for name in OUTSIDE_FIELDS}
    bodies = _receiving_bodies()
    # One body (the usual clerk) needs no choice; several must name theirs, which the service checks.
    body_id = bodies[0].id if len(bodies) == 1 else to_id(request.form.get("receiving_body_id"))
    upload = request.files.get("file")
    chosen = upload if upload is not None and upload.filename else None
    try:
        if body_id is None:
            raise ValidationFailed({"receiving_body_id": "Chọn cơ quan nhận văn bản."})
        received = incoming.receive_outside(
            db.session, current_user, body_id, values, chosen, chosen.filename if chosen else None, _settings()
        )
    except ValidationFailed as failure:
        db.session.rollback()
        shown = {**values, "receiving_body_id": request.form.get("receiving_body_id", "")}
        return _list_page(shown, failure.field_errors, 400)
    db.session.commit()
    verdict = refusal_reason(received.verification)
    flash(
        "Đã nhận văn bản và kiểm tra ký số: hợp lệ, có thể vào sổ."
        if verdict is None
        else f"Đã nhận văn bản. {verdict} Trả lại nơi gửi, ghi rõ lý do.",
        "success" if verdict is None else "warning",
    )
    return redirect(url_for("documents.view_incoming", incoming_id=received.id))


# -- one incoming document ----------------------------------------------------------------------------------


def _handlers(doc: IncomingDocument) -> list[Person]:
    """Who the head may direct the document to: active people of the receiving body and the units under it."""
    reach = OrgTree.load(db.session).subtree(doc.receiving_body_id)
    return list(
        db.session.scalars(
            select(Person)
            .where(Person.organisation_id.in_(reach), Person.is_active.is_(True))
            .order_by(Person.full_name, Person.id)
        )
    )


def _incoming_page(doc: IncomingDocument, errors: dict | None = None, status: int = 200, values: dict | None = None):
    body = doc.receiving_body_id
    receive = can(db.session, current_user, Permission.RECEIVE_DOCUMENTS, body)
    direct = can(db.session, current_user, Permission.DIRECT_DOCUMENTS, body)
    recalled = doc.outgoing is not None and doc.outgoing.status is DocumentStatus.RECALLED
    return render_template(
        "documents/incoming_view.html",
        doc=doc,
        checks=signature_checks(doc.verification),
        # "Đến: Số …, Ngày …": the day it counts as received, in Vietnam.
        arrival_day=to_vietnam(doc.counted_at or doc.arrived_at).date(),
        refusal=refusal_reason(doc.verification),
        action_label=incoming.ACTION_LABELS.get,
        recalled=recalled,
        # The sender's own page, for whoever may also see the outgoing document (its drafting unit, its body).
        sender_visible=doc.outgoing is not None
        and access.may(db.session, current_user, Permission.VIEW_DOCUMENTS, doc.outgoing),
        can_answer=receive and doc.status is IncomingStatus.RECEIVED,
        can_register=receive and incoming.registrable(doc),
        can_direct=direct and doc.status is IncomingStatus.REGISTERED,
        can_confirm_recall=receive and recalled and doc.recall_confirmed_at is None,
        handlers=_handlers(doc) if direct and doc.status is IncomingStatus.REGISTERED else [],
        errors=errors or {},
        values=values or {},
    ), status


@bp.get("/incoming/<int:incoming_id>")
@login_required
def view_incoming(incoming_id: int):
    return _incoming_page(incoming.get_incoming(db.session, current_user, incoming_id))


@bp.get("/incoming/<int:incoming_id>/file")
@login_required
def download_incoming(incoming_id: int):
    doc = incoming.get_incoming(db.session, current_user, incoming_id)
    if doc.stored is None:
        raise NotFound("Văn bản này không có tệp (bản giấy).")
    return Response(
        doc.stored.content,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename=van-ban-den-{doc.id}.pdf"},
    )


def _answer(incoming_id: int, permission: Permission, change: Callable[[IncomingDocument], object], done: str):
    """Run ``change`` on the document once the user holds ``permission`` at its body (403/404 before any input
    is read); commit and go back to its page, or roll back and show the refusal there."""
    doc = incoming.get_incoming(db.session, current_user, incoming_id, permission)
    try:
        change(doc)
    except CertsvcError as failure:
        if failure.http_status == 403:
            raise
        db.session.rollback()
        errors = failure.field_errors if isinstance(failure, ValidationFailed) else {"_": failure.message}
        fresh = incoming.get_incoming(db.session, current_user, incoming_id)
        return _incoming_page(fresh, errors, failure.http_status, request.form.to_dict())
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("documents.view_incoming", incoming_id=incoming_id))


@bp.post("/incoming/<int:incoming_id>/register")
@login_required
def register_incoming(incoming_id: int):
    return _answer(
        incoming_id,
        Permission.RECEIVE_DOCUMENTS,
        lambda doc: incoming.register(db.session, current_user, doc),
        "Đã vào sổ văn bản đến.",
    )


@bp.post("/incoming/<int:incoming_id>/return")
@login_required
def return_incoming(incoming_id: int):
    return _answer(
        incoming_id,
        Permission.RECEIVE_DOCUMENTS,
        lambda doc: incoming.return_to_sender(db.session, current_user, doc, request.form.get("comment")),
        "Đã trả lại văn bản cho nơi gửi.",
    )


@bp.post("/incoming/<int:incoming_id>/direct")
@login_required
def direct_incoming(incoming_id: int):
    return _answer(
        incoming_id,
        Permission.DIRECT_DOCUMENTS,
        lambda doc: incoming.direct(
            db.session,
            current_user,
            doc,
            request.form.get("handler_id"),
            request.form.get("handle_by"),
            request.form.get("direction"),
        ),
        "Đã giao xử lý văn bản.",
    )


@bp.post("/incoming/<int:incoming_id>/confirm-recall")
@login_required
def confirm_incoming_recall(incoming_id: int):
    return _answer(
        incoming_id,
        Permission.RECEIVE_DOCUMENTS,
        lambda doc: incoming.confirm_recall(db.session, current_user, doc),
        "Đã xác nhận văn bản bị thu hồi.",
    )


# --- the home page's work list ---------------------------------------------------------------------

_INCOMING = "Văn bản đến"


def incoming_work(session: Session, account: Account) -> list[WorkItem]:
    """The incoming documents waiting for ``account``: to check and register (the clerk), to direct (the
    head), and those past their handling deadline (their handler, and the head who directs them)."""
    clerk = orgs_in_scope(session, account, Permission.RECEIVE_DOCUMENTS)
    head = orgs_in_scope(session, account, Permission.DIRECT_DOCUMENTS)
    doc = IncomingDocument
    urgent = doc.urgency != Urgency.NORMAL
    listed = partial(url_for, "documents.list_incoming")
    items = []
    if clerk:
        waiting = select(doc).where(one_of_ids(doc.receiving_body_id, clerk), doc.status == IncomingStatus.RECEIVED)
        count, pressing = count_of(session, waiting, urgent)
        items.append(WorkItem(_INCOMING, "Chờ kiểm tra, vào sổ", count, listed(tab="waiting"), pressing))
    registered = select(doc).where(doc.status == IncomingStatus.REGISTERED)
    if head:
        undirected = registered.where(one_of_ids(doc.receiving_body_id, head), doc.handler_id.is_(None))
        count, pressing = count_of(session, undirected, urgent)
        items.append(WorkItem(_INCOMING, "Đã vào sổ, chờ giao xử lý", count, listed(tab="registered"), pressing))
    today = to_vietnam(utcnow()).date()
    overdue = registered.where(
        doc.handle_by < today, one_of_ids(doc.receiving_body_id, head) | (doc.handler_id == account.person_id)
    )
    count = count_of(session, overdue)[0]
    items.append(WorkItem(_INCOMING, "Quá hạn xử lý", count, listed(tab="registered"), count, "quá hạn"))
    return items


WORK_ITEMS = (incoming_work,)
