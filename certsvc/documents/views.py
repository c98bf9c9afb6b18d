"""Pages of outgoing documents (văn bản đi): the list with its work tabs, the drafting form, the document page
with its files, timeline and the steps the reader may take now (signed files uploaded after the
``token-agent sign`` command the page shows), downloads, and the number register with the clerk's form for
secret documents kept on paper.

Thin: the services of :mod:`certsvc.documents` hold every rule; the permission of a step is checked
(:func:`certsvc.documents.transitions.check_transition`) before anything posted is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.core.paging import Page, page_from, paginate
from certsvc.core.records import to_id
from certsvc.core.sql import one_of_ids
from certsvc.documents import access, drafting, publishing, register, review, signing
from certsvc.documents.files import MAX_FILE_BYTES, PAPER_ONLY_MESSAGE, content, latest, read_pdf_upload
from certsvc.documents.forms import (
    DOCUMENT_FIELDS,
    PAPER_FIELDS,
    chosen_file,
    chosen_files,
    document_input,
    form_choices,
    options,
)
from certsvc.documents.incoming import SENDER_ACTIONS
from certsvc.documents.listing import TABS, ListFilter, tab_query
from certsvc.documents.models import (
    DocumentFile,
    DocumentStatus,
    DocumentType,
    FileKind,
    NumberEntry,
    OutgoingDocument,
    Secrecy,
    Series,
    Urgency,
)
from certsvc.documents.settings import DocumentSettings
from certsvc.documents.transitions import ACTION_LABELS, Action, available_transitions, check_transition
from certsvc.errors import CertsvcError, NotFound, PermissionDenied, ValidationFailed
from certsvc.extensions import db
from certsvc.orgs.models import Organisation
from certsvc.orgs.names import place_name
from certsvc.orgs.tree import OrgTree
from certsvc.people.models import Person
from certsvc.policy import Permission, can, ensure, orgs_in_scope
from certsvc.timeutil import to_vietnam
from certsvc.ui import onceonly
from certsvc.ui.navigation import NavLink
from certsvc.ui.parts import PageParts
from certsvc.ui.uploads import allow_upload, fields_beside_a_large_file
from certsvc.ui.work import WorkItem, count_of
from token_agent.signing import format_number

bp = Blueprint("documents", __name__, url_prefix="/documents")
#: What capabilities above documents show on a document's page (the batch whose proposal letter it is).
DOCUMENT_PAGE = PageParts()
NAV_LINKS = (
    NavLink(
        "Văn bản đi",
        "documents.list_outgoing",
        Permission.VIEW_DOCUMENTS,
        "Soạn thảo, thẩm định, ký duyệt, lấy số, ký phát hành và phát hành văn bản đi; sổ đăng ký văn bản đi",
    ),
)

#: The steps taken with a plain button (and a comment where the step needs one), and what takes them.
_BUTTON_STEPS: dict[str, Callable[[OutgoingDocument, str | None], object]] = {
    Action.SUBMIT: lambda doc, _: drafting.submit(db.session, current_user, doc),
    Action.FORWARD: lambda doc, comment: review.forward(db.session, current_user, doc, comment),
    Action.RETURN: lambda doc, comment: review.return_document(db.session, current_user, doc, comment),
    Action.CANCEL: lambda doc, comment: drafting.cancel(db.session, current_user, doc, comment),
    Action.TAKE_NUMBER: lambda doc, _: register.take_number(db.session, current_user, doc),
    Action.ABANDON_NUMBER: lambda doc, comment: register.abandon_number(db.session, current_user, doc, comment),
    Action.SEND: lambda doc, _: publishing.send(
        db.session, current_user, doc, DocumentSettings.from_config(current_app.config)
    ),
    Action.RECALL: lambda doc, comment: publishing.recall(db.session, current_user, doc, comment),
}
#: What the timeline calls every event of an outgoing document, a recipient's answers included.
_EVENT_LABELS = {**ACTION_LABELS, **SENDER_ACTIONS}
#: The names a downloaded version gets, by kind: the ``token-agent sign`` commands shown use them.
_DOWNLOAD_NAMES = {
    FileKind.DRAFT: "du-thao",
    FileKind.PREPARED: "chuan-bi-ky",
    FileKind.APPROVED: "da-ky-duyet",
    FileKind.ISSUED: "ban-hanh",
    FileKind.APPENDIX_DRAFT: "phu-luc",
    FileKind.APPENDIX_ISSUED: "phu-luc-da-ky",
    FileKind.COPY_SOURCE: "ban-so-hoa",
    FileKind.COPY: "ban-sao",
}


def download_name(doc: OutgoingDocument, version: DocumentFile) -> str:
    """``van-ban-12-chuan-bi-ky.pdf``, ``van-ban-12-phu-luc-1.pdf``: the document, the kind, the appendix."""
    appendix = f"-{version.appendix}" if version.appendix is not None else ""
    return f"van-ban-{doc.id}-{_DOWNLOAD_NAMES.get(version.kind, version.kind.value)}{appendix}.pdf"


def _errors_of(error: CertsvcError) -> dict[str, str]:
    if isinstance(error, ValidationFailed) and error.field_errors:
        return error.field_errors
    return {"_": error.message}


#: A drafting form sends the draft and its appendices at once: each is bounded by MAX_FILE_BYTES, and the
#: whole request by this many times that (werkzeug spools large files to disk, not memory).
DRAFTING_UPLOAD_FILES = 4


# --- the list ---------------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def list_outgoing():
    ensure(db.session, current_user, Permission.VIEW_DOCUMENTS)
    errors: dict[str, str] = {}
    number = page_from(request.args, errors)
    filters = ListFilter.parse(request.args, errors)
    queries = {tab.key: query for tab in TABS if (query := tab_query(db.session, current_user, tab)) is not None}
    tabs = [tab for tab in TABS if tab.key in queries]
    # How many documents wait in each work tab; the list opens on the first that has some.
    waiting = {tab.key: paginate(db.session, queries[tab.key], 1, per_page=1).total for tab in tabs if tab.permission}
    chosen = request.args.get("tab") or next((key for key, count in waiting.items() if count), "all")
    if chosen not in queries:
        raise NotFound("Không có danh sách này.")
    rows: Page[OutgoingDocument] = Page(items=[], number=number, total=0)
    if not errors:
        rows = paginate(db.session, filters.apply(queries[chosen]), number)
    scope = orgs_in_scope(db.session, current_user, Permission.VIEW_DOCUMENTS)
    return render_template(
        "documents/outgoing_list.html",
        rows=rows,
        tabs=tabs,
        tab=chosen,
        waiting=waiting,
        errors=errors,
        statuses=DocumentStatus,
        units=OrgTree.load(db.session).in_tree_order(scope),
        types=db.session.scalars(select(DocumentType).order_by(DocumentType.sort_order, DocumentType.name)),
        filter_args={name: request.args[name] for name in (*ListFilter.ARGS, "tab") if request.args.get(name)},
        can_draft=can(db.session, current_user, Permission.DRAFT_DOCUMENTS),
    ), 400 if errors else 200


# --- drafting ---------------------------------------------------------------------------------------------


def _form_page(doc: OutgoingDocument | None, values: dict, errors: dict, status: int):
    units = [doc.drafting_unit_id] if doc else orgs_in_scope(db.session, current_user, Permission.DRAFT_DOCUMENTS)
    return render_template(
        "documents/outgoing_form.html",
        doc=doc,
        values=values,
        errors=errors,
        choices=form_choices(db.session, units),
        urgency_options=options(Urgency),
        secrecy_options=options(Secrecy),
        paper_only_message=PAPER_ONLY_MESSAGE,
        max_megabytes=MAX_FILE_BYTES // (1024 * 1024),
        max_request_megabytes=MAX_FILE_BYTES * DRAFTING_UPLOAD_FILES // (1024 * 1024),
        form_token=onceonly.new_token() if doc is None else None,
    ), status


def _values_of(doc: OutgoingDocument) -> dict[str, object]:
    """A document's values as the form shows them."""
    return {
        "drafting_unit_id": doc.drafting_unit_id,
        "document_type_id": doc.document_type_id,
        "summary": doc.summary,
        "urgency": doc.urgency.value,
        "secrecy": doc.secrecy.value,
        "issuing_body_id": doc.issuing_body_id,
        "signer_id": doc.signer_id,
        "authority_lines": doc.authority_lines,
        "recipient_ids": [r.organisation_id for r in doc.recipients],
        "outside_recipients": doc.outside_recipients,
        "distribution_lines": doc.distribution_lines,
        "answers_id": doc.answers_id,
    }


def _kept_typing(errors: dict[str, str]) -> dict[str, str]:
    """A refused form keeps what was typed, but a browser cannot keep the files chosen: say so."""
    if chosen_file(request.files.get("file")) is None and not chosen_files(request.files.getlist("appendices")):
        return errors
    return {**errors, "_files": "Nội dung đã nhập được giữ lại; hãy chọn lại các tệp PDF trước khi lưu."}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_document():
    units = orgs_in_scope(db.session, current_user, Permission.DRAFT_DOCUMENTS)
    if not units:
        raise PermissionDenied()
    if request.method == "GET":
        only = next(iter(units)) if len(units) == 1 else None
        return _form_page(None, {"drafting_unit_id": only, "urgency": "normal", "secrecy": "normal"}, {}, 200)
    if sent := onceonly.sent_before(db.session, current_user.id):
        return sent
    values = document_input(request.form)
    try:
        doc = drafting.create(
            db.session,
            current_user,
            values.get("drafting_unit_id"),
            values,
            draft=chosen_file(request.files.get("file")),
            appendices=chosen_files(request.files.getlist("appendices")),
        )
    except ValidationFailed as failure:
        db.session.rollback()
        return _form_page(None, values, _kept_typing(failure.field_errors or {"_": failure.message}), 400)
    target = onceonly.remember(db.session, url_for("documents.view_document", document_id=doc.id))
    db.session.commit()
    flash(f"Đã lưu dự thảo văn bản số {doc.id}.", "success")
    return redirect(target)


@bp.route("/<int:document_id>/edit", methods=["GET", "POST"])
@login_required
def edit_document(document_id: int):
    doc = access.get_document(db.session, current_user, document_id, Permission.DRAFT_DOCUMENTS)
    check_transition(db.session, current_user, doc, Action.EDIT)
    if request.method == "GET":
        return _form_page(doc, _values_of(doc), {}, 200)
    values = document_input(request.form, DOCUMENT_FIELDS[1:])
    try:
        drafting.edit(
            db.session,
            current_user,
            doc,
            values,
            draft=chosen_file(request.files.get("file")),
            appendices=chosen_files(request.files.getlist("appendices")),
        )
    except ValidationFailed as failure:
        db.session.rollback()
        doc = access.get_document(db.session, current_user, document_id)
        return _form_page(doc, values, _kept_typing(failure.field_errors or {"_": failure.message}), 400)
    db.session.commit()
    flash("Đã lưu dự thảo.", "success")
    return redirect(url_for("documents.view_document", document_id=doc.id))


def _drafting_too_large(message: str):
    """The drafting form again, with the refusal of a request too large for it and what was typed beside the
    files (the document's own values when even that could not be read)."""
    document_id = (request.view_args or {}).get("document_id")
    typed = fields_beside_a_large_file()
    errors = {"file": message}
    if document_id is None:
        if not orgs_in_scope(db.session, current_user, Permission.DRAFT_DOCUMENTS):
            raise PermissionDenied()
        return _form_page(None, document_input(typed) if typed is not None else {}, errors, 413)
    doc = access.get_document(db.session, current_user, document_id, Permission.DRAFT_DOCUMENTS)
    values = document_input(typed, DOCUMENT_FIELDS[1:]) if typed is not None else {}
    return _form_page(doc, _values_of(doc) | values, errors, 413)


for _endpoint in ("new_document", "edit_document"):
    allow_upload(bp, _endpoint, MAX_FILE_BYTES * DRAFTING_UPLOAD_FILES, _drafting_too_large)


# --- the document page ------------------------------------------------------------------------------------


def _appendix_numbers(doc: OutgoingDocument) -> list[int]:
    return sorted({f.appendix for f in doc.files if f.kind is FileKind.APPENDIX_DRAFT and f.appendix is not None})


def _uploaders(doc: OutgoingDocument) -> dict[int, str]:
    """The name of whoever uploaded each version, by account id, read in one query."""
    ids = {f.created_by_id for f in doc.files if f.created_by_id is not None}
    if not ids:
        return {}
    found = db.session.execute(
        select(Account.id, Person.full_name).join(Person, Account.person_id == Person.id).where(Account.id.in_(ids))
    )
    return {account_id: name for account_id, name in found}


def _waiting_for(doc: OutgoingDocument) -> dict[str, str]:
    """Steps the table allows now that their service would still refuse, with what they wait for."""
    waiting = {}
    if not doc.secrecy.paper_only and latest(doc, FileKind.PREPARED) is None:
        waiting[Action.SUBMIT] = "Tải tệp dự thảo (PDF) lên trước khi trình thẩm định."
    approved_on = to_vietnam(doc.approved_at).date() if doc.approved_at else None
    if approved_on != register.vietnam_today():
        waiting[Action.TAKE_NUMBER] = (
            "Văn bản không được ký duyệt trong ngày hôm nay: chỉ lấy số cho văn bản ký duyệt trong ngày; "
            "trả lại để người ký ký duyệt lại."
        )
    return waiting


def _document_page(doc: OutgoingDocument, errors: dict[str, str] | None = None, status: int = 200):
    waiting = _waiting_for(doc)
    transitions = available_transitions(db.session, current_user, doc)
    actions = {t.action for t in transitions}
    notes = [waiting[t.action] for t in transitions if t.action in waiting]
    entry = doc.number_entry
    return render_template(
        "documents/outgoing_view.html",
        doc=doc,
        errors=errors or {},
        buttons=[t for t in transitions if t.action in _BUTTON_STEPS and t.action not in waiting],
        notes=notes,
        may_edit=Action.EDIT in actions,
        may_approve=Action.APPROVE in actions,
        may_issue=Action.ISSUE in actions,
        appendices=_appendix_numbers(doc) if Action.SIGN_APPENDIX in actions else [],
        prepared=latest(doc, FileKind.PREPARED),
        approved=latest(doc, FileKind.APPROVED),
        latest=latest,
        entry=entry,
        formatted_number=format_number(entry.symbol) if entry else None,
        place=place_name(doc.issuing_body),
        event_label=lambda action: _EVENT_LABELS.get(action, action),
        download_name=download_name,
        uploaders=_uploaders(doc),
        FileKind=FileKind,
        **DOCUMENT_PAGE.values(doc),
    ), status


@bp.get("/<int:document_id>")
@login_required
def view_document(document_id: int):
    return _document_page(access.get_document(db.session, current_user, document_id))


def _refused_step(doc: OutgoingDocument, action: str):
    """The document page telling why ``action`` cannot be taken now (a status that moved on), or None;
    a refused permission is the error page (403)."""
    try:
        check_transition(db.session, current_user, doc, action)
    except CertsvcError as failure:
        if failure.http_status in (403, 404):
            raise
        return _document_page(doc, _errors_of(failure), failure.http_status)
    return None


def _attempt(document_id: int, change: Callable[[], object], done: Callable[[], str]):
    """Run ``change``; commit and show the document, or roll back and show the refusal on its page.

    A refused permission or a document the reader may not see stays the error page (403, 404).
    """
    try:
        change()
    except CertsvcError as failure:
        if failure.http_status in (403, 404):
            raise
        db.session.rollback()
        doc = access.get_document(db.session, current_user, document_id)
        errors = _errors_of(failure)
        if isinstance(failure, signing.SignatureRefused):
            errors = {"signature": failure.message, "signature_code": failure.code}
        return _document_page(doc, errors, failure.http_status)
    message = done()
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("documents.view_document", document_id=document_id))


@bp.post("/<int:document_id>/act/<action>")
@login_required
def act(document_id: int, action: str):
    doc = access.get_document(db.session, current_user, document_id)
    step = _BUTTON_STEPS.get(action)
    if step is None:
        raise NotFound("Không có thao tác này.")
    if refused := _refused_step(doc, action):
        return refused
    comment = request.form.get("comment")

    def done() -> str:
        if action == Action.TAKE_NUMBER and doc.number_entry is not None:
            entry = doc.number_entry
            return f"Đã lấy số {entry.symbol}, ngày {entry.issue_date:%d/%m/%Y}."
        return f"Văn bản số {doc.id}: đã thực hiện «{ACTION_LABELS[action]}»."

    return _attempt(document_id, lambda: step(doc, comment), done)


def _signed_upload(document_id: int, action: str, upload: Callable[[OutgoingDocument, bytes, str], object], done: str):
    """The signer's or the clerk's signed file: step checked first, then the file read and checked."""
    doc = access.get_document(db.session, current_user, document_id)
    if refused := _refused_step(doc, action):
        return refused
    file = chosen_file(request.files.get("file"))

    def change() -> None:
        upload(doc, read_pdf_upload(file, "file"), (file.filename if file else None) or "da-ky.pdf")

    return _attempt(document_id, change, lambda: done)


def _signed_too_large(message: str):
    doc = access.get_document(db.session, current_user, (request.view_args or {}).get("document_id"))
    return _document_page(doc, {"file": message}, 413)


for _endpoint in ("upload_approved", "upload_issued", "upload_appendix"):
    allow_upload(bp, _endpoint, MAX_FILE_BYTES, _signed_too_large)


@bp.post("/<int:document_id>/approve")
@login_required
def upload_approved(document_id: int):
    return _signed_upload(
        document_id,
        Action.APPROVE,
        lambda doc, data, name: signing.approve_upload(db.session, current_user, doc, data, name),
        "Đã nhận tệp ký duyệt: chữ ký số hợp lệ, văn bản chuyển văn thư lấy số.",
    )


@bp.post("/<int:document_id>/issue")
@login_required
def upload_issued(document_id: int):
    return _signed_upload(
        document_id,
        Action.ISSUE,
        lambda doc, data, name: signing.issue_upload(db.session, current_user, doc, data, name),
        "Đã nhận tệp ký phát hành: hai chữ ký số, số và ngày đều hợp lệ.",
    )


@bp.post("/<int:document_id>/appendix/<int:appendix_no>")
@login_required
def upload_appendix(document_id: int, appendix_no: int):
    doc = access.get_document(db.session, current_user, document_id, Permission.ISSUE_DOCUMENTS)
    if appendix_no not in _appendix_numbers(doc):
        raise NotFound("Không có phụ lục này.")
    if refused := _refused_step(doc, Action.SIGN_APPENDIX):
        return refused
    file = chosen_file(request.files.get("file"))

    def change() -> None:
        data = read_pdf_upload(file, "file")
        name = (file.filename if file else None) or f"phu-luc-{appendix_no}.pdf"
        signing.appendix_upload(db.session, current_user, doc, appendix_no, data, name)

    return _attempt(document_id, change, lambda: f"Đã nhận phụ lục {appendix_no} đã ký số.")


@bp.get("/<int:document_id>/files/<int:file_id>")
@login_required
def download(document_id: int, file_id: int):
    doc = access.get_document(db.session, current_user, document_id)
    version = db.session.get(DocumentFile, file_id)
    if version is None or version.document_id != doc.id:
        raise NotFound("Không có tệp này.")
    return Response(
        content(version),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{download_name(doc, version)}"'},
    )


# --- the number register ----------------------------------------------------------------------------------


def _busiest_book(bodies: list[int]) -> int:
    """The register a reader most likely wants: the one of ``bodies`` that gave the latest number, else the
    reader's own organisation (a clerk of an office also numbers for its committee)."""
    latest_body = db.session.scalar(
        select(NumberEntry.issuing_body_id)
        .where(one_of_ids(NumberEntry.issuing_body_id, bodies))
        .order_by(NumberEntry.id.desc())
        .limit(1)
    )
    if latest_body is not None:
        return latest_body
    own = current_user.person.organisation_id
    return own if own in bodies else bodies[0]


def _book_choice(args: Mapping[str, object], bodies: list[int]) -> tuple[int, int, Series, dict[str, str]]:
    """The body, year and series ``args`` ask for (the reader's own body, this year, ordinary by default)."""
    errors: dict[str, str] = {}
    body_id = to_id(args.get("organisation_id"))
    if body_id is not None and body_id not in bodies:
        body_id, errors["organisation_id"] = None, "Không có sổ của cơ quan này."
    if body_id is None:
        body_id = _busiest_book(bodies)
    year = this_year = register.vietnam_today().year
    if raw := str(args.get("year") or "").strip():
        year = int(raw) if len(raw) == 4 and raw.isascii() and raw.isdigit() else 0
    try:
        series = Series(str(args.get("series") or Series.OUTGOING.value))
    except ValueError:
        series, errors["series"] = Series.OUTGOING, "Sổ không hợp lệ."
    problems = register.book_problems(year, series)
    if "year" in problems:
        year = this_year
    if "series" in problems:
        series = Series.OUTGOING
    errors.update(problems)
    return body_id, year, series, errors


def _register_page(
    args: Mapping[str, object], values: dict | None = None, errors: dict[str, str] | None = None, status: int = 200
):
    scope = orgs_in_scope(db.session, current_user, Permission.VIEW_DOCUMENTS)
    if not scope:
        raise PermissionDenied()
    bodies = OrgTree.load(db.session).in_tree_order(scope)
    body_id, year, series, choice_errors = _book_choice(args, [b.id for b in bodies])
    entries = register.register_book(db.session, current_user, body_id, year, series)
    body = db.session.get(Organisation, body_id)
    may_register = can(db.session, current_user, Permission.ISSUE_DOCUMENTS, body_id)
    paper_units = [body_id, *(o.id for o in body.children if o.is_active)] if body and may_register else []
    return render_template(
        "documents/register.html",
        body=body,
        bodies=bodies,
        year=year,
        series=series,
        all_series=(Series.OUTGOING, Series.OUTGOING_SECRET),
        entries=entries,
        documents=register.documents_of(db.session, entries),
        may_register=may_register,
        values=values or {"issuing_body_id": body_id, "secrecy": Secrecy.SECRET.value},
        errors={**choice_errors, **(errors or {})},
        choices=form_choices(db.session, paper_units) if paper_units else None,
        secrecy_options=options(s for s in Secrecy if s.paper_only),
        today=register.vietnam_today(),
    ), max(status, 400 if choice_errors else 200)


@bp.get("/register")
@login_required
def register_book():
    return _register_page(request.args)


@bp.post("/register/paper")
@login_required
def register_paper():
    ensure(db.session, current_user, Permission.ISSUE_DOCUMENTS)
    values = document_input(request.form, PAPER_FIELDS)
    try:
        doc = register.register_paper(db.session, current_user, values)
    except ValidationFailed as failure:
        db.session.rollback()
        book = {"organisation_id": values.get("issuing_body_id"), "series": Series.OUTGOING_SECRET.value}
        return _register_page(book, values, failure.field_errors or {"_": failure.message}, 400)
    entry = doc.number_entry
    if entry is None:  # register_paper always enters the number; the relationship is typed optional
        raise RuntimeError(f"paper document {doc.id} has no register entry")
    db.session.commit()
    flash(f"Đã vào sổ văn bản mật số {entry.symbol}, ngày {entry.issue_date:%d/%m/%Y}.", "success")
    return redirect(
        url_for(
            "documents.register_book",
            organisation_id=entry.issuing_body_id,
            year=entry.year,
            series=Series.OUTGOING_SECRET.value,
        )
    )


# --- the home page's work list ---------------------------------------------------------------------


def outgoing_work(session: Session, account: Account) -> list[WorkItem]:
    """The outgoing documents waiting for ``account``: each work tab it acts in (review, sign, number, issue,
    send), and the drafts returned to its unit; those marked Khẩn or more first."""
    urgent = OutgoingDocument.urgency != Urgency.NORMAL
    items = []
    for tab in TABS:
        query = tab_query(session, account, tab) if tab.permission is not None else None
        if query is None:
            continue
        label, only = tab.label, None
        if tab.key == "drafts":
            # A drafter's drafts are his own work in progress; only those the reviewer or signer returned wait.
            label, only = "Bị trả lại, cần sửa", DocumentStatus.RETURNED
            query = query.where(OutgoingDocument.status == only)
        count, pressing = count_of(session, query, urgent)
        url = url_for("documents.list_outgoing", tab=tab.key, status=only and only.value)
        items.append(WorkItem("Văn bản đi", label, count, url, pressing))
    return items


WORK_ITEMS = (outgoing_work,)
