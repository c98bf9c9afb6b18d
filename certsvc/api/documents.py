"""API of documents: outgoing ones from draft to sending, the number register, incoming ones, the report.

Thin, and checked by the services the pages use (certsvc.documents.*): the document is found with the
permission of the step before any input is read. Values are JSON (the names of
:func:`certsvc.documents.drafting.clean_document_values`); a PDF is the whole body of its request
(``Content-Type: application/pdf``), except where a request carries several files or a file with values (the
appendices of a draft, an incoming document from outside): those are ``multipart/form-data``, as a form sends them.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, current_app, jsonify, request, url_for

from certsvc.api.common import BadRequest, Body, Query, committed, json_body, page_json
from certsvc.api.document_serializers import (
    DOCUMENT_VALUES,
    OUTSIDE_VALUES,
    document_detail_json,
    document_json,
    incoming_detail_json,
    incoming_json,
    register_entry_json,
)
from certsvc.api.views import api_account, bp
from certsvc.core.paging import Page, paginate
from certsvc.core.records import MAX_ID, to_id
from certsvc.documents import access, drafting, files, incoming, publishing, register, report, review, signing
from certsvc.documents.listing import TABS, ListFilter, tab_query
from certsvc.documents.models import (
    DocumentStatus,
    IncomingDocument,
    IncomingStatus,
    OutgoingDocument,
    Series,
)
from certsvc.documents.settings import DocumentSettings
from certsvc.documents.transitions import Action, available_transitions, check_transition
from certsvc.documents.views import DRAFTING_UPLOAD_FILES
from certsvc.errors import NotFound, PermissionDenied, ValidationFailed
from certsvc.extensions import db
from certsvc.policy import Permission, ensure, orgs_in_scope
from certsvc.ui.downloads import content_disposition
from certsvc.ui.uploads import FORM_ALLOWANCE

__all__ = ["ACTIONS"]


#: Endpoints that take PDFs of up to files.MAX_FILE_BYTES each, and how many of them a request may carry: the
#: app's bound on a request is raised for them (appendices: as much as the drafting page takes at once).
_UPLOADS = {
    "api.upload_draft": 1,
    "api.upload_appendices": DRAFTING_UPLOAD_FILES,
    "api.upload_approval": 1,
    "api.upload_issue": 1,
    "api.upload_signed_appendix": 1,
    "api.receive_incoming": 1,
}


@bp.url_value_preprocessor
def _bound_uploads(endpoint: str | None, values: dict | None) -> None:
    # Before anything reads the body (the idempotency check hashes it): a 20 MB file with its form passes,
    # a larger one is refused by files.read_pdf_upload with a message instead of a bare 413.
    if endpoint in _UPLOADS:
        request.max_content_length = files.MAX_FILE_BYTES * _UPLOADS[endpoint] + FORM_ALLOWANCE


def _settings() -> DocumentSettings:
    return DocumentSettings.from_config(current_app.config)


#: The steps POST /documents/{id}/actions/{action} takes, each by the service the page's button calls
#: (the names are DOCUMENT_ACTIONS, which the OpenAPI document lists).
ACTIONS: dict[str, Callable[[OutgoingDocument, str | None], object]] = {
    Action.SUBMIT: lambda doc, _: drafting.submit(db.session, api_account(), doc),
    Action.FORWARD: lambda doc, comment: review.forward(db.session, api_account(), doc, comment),
    Action.RETURN: lambda doc, comment: review.return_document(db.session, api_account(), doc, comment),
    Action.CANCEL: lambda doc, comment: drafting.cancel(db.session, api_account(), doc, comment),
    Action.TAKE_NUMBER: lambda doc, _: register.take_number(db.session, api_account(), doc),
    Action.ABANDON_NUMBER: lambda doc, comment: register.abandon_number(db.session, api_account(), doc, comment),
    Action.SEND: lambda doc, _: publishing.send(db.session, api_account(), doc, _settings()),
    Action.RECALL: lambda doc, comment: publishing.recall(db.session, api_account(), doc, comment),
}

#: The list page's tab of every document the account sees.
_EVERY_DOCUMENT = next(tab for tab in TABS if tab.key == "all")


def _detail(doc: OutgoingDocument) -> dict:
    return document_detail_json(doc, available_transitions(db.session, api_account(), doc))


def _optional_body(allowed: tuple[str, ...]) -> Body:
    """The JSON object of a request whose body may be left out (as ``{}``)."""
    return Body(json_body() if request.get_data() else {}, allowed)


def _pdf_body() -> bytes:
    """The file sent as the whole body (``Content-Type: application/pdf``); the service checks it as it checks
    an upload of the page (a signed file's refusal is audited there)."""
    if request.mimetype != "application/pdf":
        raise BadRequest("Gửi tệp PDF làm toàn bộ nội dung yêu cầu (Content-Type: application/pdf).")
    return request.get_data()


def _filename(default: str) -> str:
    query = Query()
    name = query.text("filename", 255)
    query.check()
    return files.clean_filename(name, default)


# -- outgoing documents ------------------------------------------------------------------------------


@bp.get("/documents")
def list_documents() -> Response:
    """Outgoing documents the caller sees, filtered as the list page filters them: urgent first, then the most
    recently changed."""
    account = api_account()
    scope = orgs_in_scope(db.session, account, Permission.VIEW_DOCUMENTS)
    if not scope:
        raise PermissionDenied()
    query = Query()
    page, per_page = query.paging()
    query.refuse_empty("type", "q")
    query.organisations(scope)  # a chosen unit must be one the caller sees
    filters = ListFilter(
        status=query.choice("status", DocumentStatus),
        organisation_id=to_id(query.args.get("organisation_id")),
        document_type_id=query.number("type", 0, MAX_ID) if query.args.get("type") else None,
        text=query.text("q") or None,
    )
    query.check()
    statement = tab_query(db.session, account, _EVERY_DOCUMENT)
    assert statement is not None  # the tab of every document needs no permission beyond VIEW_DOCUMENTS
    result: Page[OutgoingDocument] = paginate(db.session, filters.apply(statement), page, per_page, count_limit=None)
    return jsonify(page_json(result.items, result.number, result.total, per_page, document_json))


@bp.post("/documents")
def create_document() -> Response:
    """A new draft of ``drafting_unit_id`` with its values; the draft PDF follows (POST .../draft)."""
    account = api_account()
    ensure(db.session, account, Permission.DRAFT_DOCUMENTS)
    data = json_body()
    body = Body(data, ("drafting_unit_id", *DOCUMENT_VALUES))
    unit_id = body.integer("drafting_unit_id")
    body.check()
    values = {name: value for name, value in data.items() if name != "drafting_unit_id"}
    doc = drafting.create(db.session, account, unit_id, values)
    return committed(lambda: _detail(doc), 201, url_for("api.get_document", api_document_id=doc.id))


@bp.get("/documents/<int:api_document_id>")
def get_document(api_document_id: int) -> Response:
    return jsonify(_detail(access.get_document(db.session, api_account(), api_document_id)))


def _current_values(doc: OutgoingDocument) -> dict[str, object]:
    """The document's values as :func:`drafting.clean_document_values` reads them."""
    return {
        "document_type_id": doc.document_type_id,
        "summary": doc.summary,
        "urgency": doc.urgency.value,
        "secrecy": doc.secrecy.value,
        "issuing_body_id": doc.issuing_body_id,
        "signer_id": doc.signer_id,
        "authority_lines": doc.authority_lines,
        "recipient_ids": [recipient.organisation_id for recipient in doc.recipients],
        "outside_recipients": doc.outside_recipients,
        "distribution_lines": doc.distribution_lines,
        "answers_id": doc.answers_id,
    }


def _editable(api_document_id: int) -> OutgoingDocument:
    doc = access.get_document(db.session, api_account(), api_document_id, Permission.DRAFT_DOCUMENTS)
    check_transition(db.session, api_account(), doc, Action.EDIT)
    return doc


@bp.patch("/documents/<int:api_document_id>")
def update_document(api_document_id: int) -> Response:
    """Change values of a draft or returned document: those sent replace the current ones; the rest stay."""
    doc = _editable(api_document_id)
    data = json_body()
    Body(data, DOCUMENT_VALUES).check()
    drafting.edit(db.session, api_account(), doc, {**_current_values(doc), **data})
    return committed(lambda: _detail(doc))


@bp.post("/documents/<int:api_document_id>/draft")
def upload_draft(api_document_id: int) -> Response:
    """A new draft PDF (the whole body): kept, and prepared for signing at the proposed signer's block."""
    doc = _editable(api_document_id)
    files.refuse_if_paper_only(doc)
    content, name = _pdf_body(), _filename("du-thao.pdf")
    drafting.edit(db.session, api_account(), doc, _current_values(doc), draft=content, filename=name)
    return committed(lambda: _detail(doc))


@bp.post("/documents/<int:api_document_id>/appendices")
def upload_appendices(api_document_id: int) -> Response:
    """The appendices' PDFs, in order, as ``multipart/form-data`` parts named ``appendix``: each becomes the new
    version of appendix 1, 2, … (as the drafting page's appendix fields)."""
    doc = _editable(api_document_id)
    files.refuse_if_paper_only(doc)
    if request.mimetype != "multipart/form-data":
        raise BadRequest("Gửi các tệp phụ lục dạng multipart/form-data, mỗi tệp một phần tên «appendix».")
    if unknown := (set(request.form) | set(request.files)) - {"appendix"}:
        raise ValidationFailed(dict.fromkeys(unknown, "Không có trường này."))
    appendices = request.files.getlist("appendix")
    if not appendices:
        raise ValidationFailed({"appendix": "Chọn ít nhất một tệp phụ lục (PDF)."})
    drafting.edit(db.session, api_account(), doc, _current_values(doc), appendices=appendices)
    return committed(lambda: _detail(doc))


@bp.post("/documents/<int:api_document_id>/actions/<document_action>")
def take_document_action(api_document_id: int, document_action: str) -> Response:
    """One step of the document page; the transitions of GET /documents/{id} say which are open now."""
    step = ACTIONS.get(document_action)
    if step is None:
        raise NotFound("Không có thao tác này; các thao tác: " + ", ".join(ACTIONS) + ".")
    account = api_account()
    doc = access.get_document(db.session, account, api_document_id)
    check_transition(db.session, account, doc, document_action)
    body = _optional_body(("comment",))
    comment = body.text("comment")
    body.check()
    step(doc, comment)
    return committed(lambda: _detail(doc))


def _signed_upload(
    api_document_id: int,
    permission: Permission,
    action: str,
    upload: Callable[[OutgoingDocument, bytes, str], object],
) -> Response:
    """``upload`` of the body's PDF, after the checks of who may take ``action`` now."""
    account = api_account()
    doc = access.get_document(db.session, account, api_document_id, permission)
    check_transition(db.session, account, doc, action)  # proposed signer, status: before the file is read
    files.refuse_if_paper_only(doc)
    content, name = _pdf_body(), _filename("da-ky.pdf")
    upload(doc, content, name)
    return committed(lambda: _detail(doc))


@bp.post("/documents/<int:api_document_id>/approval")
def upload_approval(api_document_id: int) -> Response:
    """The proposed signer's signed PDF (``token-agent sign --role approve``): checked, then the document is
    approved; any failed check is 422 with its code, and nothing changes."""
    return _signed_upload(
        api_document_id,
        Permission.SIGN_DOCUMENTS,
        Action.APPROVE,
        lambda doc, content, name: signing.approve_upload(db.session, api_account(), doc, content, name),
    )


@bp.post("/documents/<int:api_document_id>/issue")
def upload_issue(api_document_id: int) -> Response:
    """The clerk's PDF with number, date and the organisation's signature (``token-agent sign --role issue``)."""
    return _signed_upload(
        api_document_id,
        Permission.ISSUE_DOCUMENTS,
        Action.ISSUE,
        lambda doc, content, name: signing.issue_upload(db.session, api_account(), doc, content, name),
    )


@bp.post("/documents/<int:api_document_id>/appendices/<int:appendix_no>/signed")
def upload_signed_appendix(api_document_id: int, appendix_no: int) -> Response:
    """Appendix ``appendix_no`` signed top right with the organisation's key (``token-agent sign --role appendix``)."""
    return _signed_upload(
        api_document_id,
        Permission.ISSUE_DOCUMENTS,
        Action.SIGN_APPENDIX,
        lambda doc, content, name: signing.appendix_upload(db.session, api_account(), doc, appendix_no, content, name),
    )


@bp.get("/documents/<int:api_document_id>/files/<int:api_file_id>")
def download_document_file(api_document_id: int, api_file_id: int) -> Response:
    """One version of one of the document's files, as it was stored."""
    doc = access.get_document(db.session, api_account(), api_document_id)
    version = next((version for version in doc.files if version.id == api_file_id), None)
    if version is None:
        raise NotFound("Văn bản không có tệp này.")
    return _pdf(files.content(version), version.filename)


def _pdf(content: bytes, filename: str) -> Response:
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(filename)
    return response


@bp.get("/register")
def register_book() -> Response:
    """The outgoing register (sổ đăng ký văn bản đi) of an issuing body, year and series, by number."""
    account = api_account()
    if not orgs_in_scope(db.session, account, Permission.VIEW_DOCUMENTS):
        raise PermissionDenied()
    query = Query()
    query.refuse_empty("organisation_id", "year", "series")
    if not query.args.get("organisation_id"):
        query.fail("organisation_id", "Bắt buộc: cơ quan ban hành.")
    year = query.number("year", register.vietnam_today().year, 9999)
    series = query.choice("series", Series) or Series.OUTGOING
    query.check()
    entries = register.register_book(db.session, account, query.args["organisation_id"], year, series)
    documents = register.documents_of(db.session, entries)
    return jsonify(items=[register_entry_json(entry, documents.get(entry.id)) for entry in entries], total=len(entries))


@bp.post("/register/paper")
def register_paper() -> Response:
    """A secret document issued on paper entered in the issuing body's secret series: its register entry only."""
    account = api_account()
    ensure(db.session, account, Permission.ISSUE_DOCUMENTS)
    data = json_body()
    body = Body(data, ("drafting_unit_id", "issue_date", *DOCUMENT_VALUES))
    body.check()
    doc = register.register_paper(db.session, account, data)
    return committed(lambda: _detail(doc), 201, url_for("api.get_document", api_document_id=doc.id))


# -- incoming documents ------------------------------------------------------------------------------


@bp.get("/incoming")
def list_incoming() -> Response:
    """Incoming documents of the bodies the caller sees, and those it was directed to handle: urgent first."""
    account = api_account()
    scope = orgs_in_scope(db.session, account, Permission.VIEW_DOCUMENTS)
    if not scope:
        raise PermissionDenied()
    query = Query()
    page, per_page = query.paging()
    query.organisations(scope)  # checks that a chosen body is one the caller sees
    status = query.choice("status", IncomingStatus)
    query.check()
    chosen = to_id(query.args.get("organisation_id"))
    statement = incoming.incoming_list(db.session, account, receiving_body_id=chosen, status=status)
    result: Page[IncomingDocument] = paginate(db.session, statement, page, per_page, count_limit=None)
    return jsonify(page_json(result.items, result.number, result.total, per_page, incoming_json))


@bp.post("/incoming")
def receive_incoming() -> Response:
    """A document from outside the service: its PDF and what it carries, as ``multipart/form-data``; the
    server checks its signatures ("Kiểm tra ký số") and keeps the report."""
    account = api_account()
    ensure(db.session, account, Permission.RECEIVE_DOCUMENTS)
    if request.mimetype != "multipart/form-data":
        raise BadRequest("Gửi tệp PDF và thông tin văn bản đến dạng multipart/form-data.")
    form = request.form
    unknown = (set(form) | set(request.files)) - {"organisation_id", "file", *OUTSIDE_VALUES}
    if unknown:
        raise ValidationFailed(dict.fromkeys(unknown, "Không có trường này."))
    upload = request.files.get("file")
    values = {name: form[name] for name in OUTSIDE_VALUES if name in form}
    received = incoming.receive_outside(
        db.session,
        account,
        _receiving_body(form.get("organisation_id")),
        values,
        upload,  # an empty one is refused as no file chosen
        upload.filename if upload is not None else None,
        _settings(),
    )
    return committed(
        lambda: incoming_detail_json(received), 201, url_for("api.get_incoming", api_incoming_id=received.id)
    )


def _receiving_body(raw: str | None) -> int:
    body_id = to_id(raw)
    if body_id is None:
        raise ValidationFailed({"organisation_id": "Bắt buộc: id của cơ quan nhận (số nguyên từ 1)."})
    return body_id


@bp.get("/incoming/<int:api_incoming_id>")
def get_incoming(api_incoming_id: int) -> Response:
    """An incoming document with the server's "Kiểm tra ký số" report, one line per signature, and its timeline."""
    return jsonify(incoming_detail_json(incoming.get_incoming(db.session, api_account(), api_incoming_id)))


@bp.get("/incoming/<int:api_incoming_id>/file")
def download_incoming_file(api_incoming_id: int) -> Response:
    received = incoming.get_incoming(db.session, api_account(), api_incoming_id)
    if received.stored is None:
        raise NotFound("Văn bản đến này không có tệp (bản giấy).")
    return _pdf(received.stored.content, received.filename or "van-ban-den.pdf")


def _incoming_step(
    api_incoming_id: int, permission: Permission, step: Callable[[IncomingDocument], object]
) -> Response:
    """``step`` on the incoming document, found with ``permission`` at its receiving body before the body is read."""
    received = incoming.get_incoming(db.session, api_account(), api_incoming_id, permission)
    step(received)
    return committed(lambda: incoming_detail_json(received))


@bp.post("/incoming/<int:api_incoming_id>/register")
def register_incoming(api_incoming_id: int) -> Response:
    """Enter it in the incoming register (an arrival number); only when its signatures were found valid."""
    return _incoming_step(
        api_incoming_id,
        Permission.RECEIVE_DOCUMENTS,
        lambda received: incoming.register(db.session, api_account(), received),
    )


@bp.post("/incoming/<int:api_incoming_id>/return")
def return_incoming(api_incoming_id: int) -> Response:
    """Return it to its sender, not registered, with the reason (``comment``, required)."""

    def return_it(received: IncomingDocument) -> None:
        body = Body(json_body(), ("comment",))
        comment = body.text("comment", required=True)
        body.check()
        incoming.return_to_sender(db.session, api_account(), received, comment)

    return _incoming_step(api_incoming_id, Permission.RECEIVE_DOCUMENTS, return_it)


@bp.post("/incoming/<int:api_incoming_id>/direction")
def direct_incoming(api_incoming_id: int) -> Response:
    """The head's direction of a registered document: handler, deadline (``YYYY-MM-DD``) and what to do."""

    def direct(received: IncomingDocument) -> None:
        body = Body(json_body(), ("handler_id", "handle_by", "direction"))
        handler_id = body.integer("handler_id")
        handle_by = body.text("handle_by")
        direction = body.text("direction")
        body.check()
        incoming.direct(db.session, api_account(), received, handler_id, handle_by, direction)

    return _incoming_step(api_incoming_id, Permission.DIRECT_DOCUMENTS, direct)


@bp.post("/incoming/<int:api_incoming_id>/recall-confirmation")
def confirm_incoming_recall(api_incoming_id: int) -> Response:
    """The receiving clerk confirms seeing that the sender recalled it (nothing is deleted)."""
    return _incoming_step(
        api_incoming_id,
        Permission.RECEIVE_DOCUMENTS,
        lambda received: incoming.confirm_recall(db.session, api_account(), received),
    )


# -- the report ----------------------------------------------------------------------------------------


@bp.get("/report")
def document_report() -> Response:
    """The seeds' targets for an issuing body and period (``from``, ``to``: ``YYYY-MM-DD``, both included)."""
    account = api_account()
    ensure(db.session, account, Permission.VIEW_DOCUMENT_REPORT)
    query = Query()
    query.refuse_empty("organisation_id", "from", "to")
    unit_id = to_id(query.args.get("organisation_id"))
    if unit_id is None:
        query.fail("organisation_id", "Bắt buộc: id của cơ quan ban hành (số nguyên từ 1).")
    period = None
    try:
        period = report.clean_period(query.args)
    except ValidationFailed as failure:
        for name, message in failure.field_errors.items():
            query.fail(name, message)
    query.check()
    assert unit_id is not None and period is not None  # else query.check() refused the query
    return jsonify(report.unit_report(db.session, account, unit_id, *period, _settings()).as_dict())
