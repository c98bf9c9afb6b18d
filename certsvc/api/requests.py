"""API of certificate requests, their attachments and the request types' fields.

Thin, and checked as the pages check (certsvc.requests.views): the permission at the record's
organisation before the body is read; every change through certsvc.requests.service, and the attachments
through certsvc.requests.attachments (which the request page calls too).
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, request, url_for
from werkzeug.datastructures import FileStorage

from certsvc.api.common import BadRequest, Body, Query, committed, json_body, page_json
from certsvc.api.serializers import request_detail_json, request_json, request_type_json
from certsvc.api.views import api_account, bp
from certsvc.errors import NotFound, PermissionDenied, ValidationFailed
from certsvc.extensions import db
from certsvc.policy import Permission, can, ensure, orgs_in_scope
from certsvc.requests import attachments, checks, listing, service
from certsvc.requests.fields import REQUEST_TYPES, SubmissionLimits, spec_of
from certsvc.requests.listing import RequestFilter
from certsvc.requests.models import CertificateRequest, RequestStatus, RequestType
from certsvc.requests.transitions import ACTION_LABELS, PAGE_ACTIONS, action_permissions
from certsvc.ui.downloads import stored_file_download

__all__ = ["request_detail"]

_TYPES = {kind.value: kind for kind in RequestType}
#: Statuses in which the request page lists what blocks sending.
_CHECKED = (RequestStatus.DRAFT, RequestStatus.APPROVED, RequestStatus.RETURNED)
#: Names a certificate or token may be given by instead of its serial (see service.create_draft).
_REFERENCES = {"certificate_serial": "certificate_id", "token_serial": "token_id"}
#: Everything that allows some action of the request page.
_ACTING = frozenset(p for action in PAGE_ACTIONS for p in action_permissions(action))


def _limits() -> SubmissionLimits:
    return SubmissionLimits.from_config(current_app.config)


def _field_names(kind: RequestType) -> set[str]:
    names = {f.name for f in spec_of(kind).all_fields}
    return names | {_REFERENCES[name] for name in names if name in _REFERENCES}


def request_detail(req: CertificateRequest) -> dict:
    account = api_account()
    problems = checks.submission_problems(db.session, req, _limits(), account) if req.status in _CHECKED else []
    return request_detail_json(
        req,
        service.available_transitions(db.session, account, req),
        service.can_edit(db.session, account, req),
        problems,
    )


def _viewable(request_id: int) -> CertificateRequest:
    req = service.get_request(db.session, request_id)
    service.ensure_can_view(db.session, api_account(), req)
    return req


@bp.get("/request-types")
def list_request_types() -> Response:
    ensure(db.session, api_account(), Permission.VIEW_REQUESTS)
    hints = SubmissionLimits.from_config(current_app.config).hints()
    return jsonify(items=[request_type_json(spec, hints) for spec in REQUEST_TYPES.values()], total=len(REQUEST_TYPES))


@bp.get("/requests")
def list_requests() -> Response:
    scope = orgs_in_scope(db.session, api_account(), Permission.VIEW_REQUESTS)
    if not scope:
        raise PermissionDenied()
    query = Query()
    page, per_page = query.paging()
    query.refuse_empty("organisation_id", "type", "status", "min_age_days", "q")
    try:
        filters = RequestFilter.parse({**query.args.to_dict(), "request_type": query.args.get("type")}, scope)
    except ValidationFailed as failure:
        for name, message in failure.field_errors.items():
            query.fail("type" if name == "request_type" else name, message)
        filters = RequestFilter()
    query.check()
    result = listing.page_requests(db.session, scope, filters=filters, page=page, per_page=per_page)
    return jsonify(page_json(result.items, result.number, result.total, per_page, request_json))


@bp.post("/requests")
def create_request() -> Response:
    account = api_account()
    ensure(db.session, account, Permission.DRAFT_REQUESTS)
    body = Body(json_body(), ("organisation_id", "type", "fields"))
    organisation_id = body.integer("organisation_id")
    kind = body.text("type", required=True)
    request_type = _TYPES.get(kind or "")
    if kind is not None and request_type is None:
        body.fail("type", "Loại đề nghị không hợp lệ.")
    fields = body.form("fields", _field_names(request_type) if request_type is not None else None)
    body.check()
    assert organisation_id is not None and request_type is not None  # else body.check() refused the body
    created = service.create_draft(db.session, account, organisation_id, request_type, fields, _limits())
    return committed(lambda: request_detail(created), 201, url_for("api.get_request", api_request_id=created.id))


@bp.get("/requests/<int:api_request_id>")
def get_request(api_request_id: int) -> Response:
    return jsonify(request_detail(_viewable(api_request_id)))


@bp.patch("/requests/<int:api_request_id>")
def update_request(api_request_id: int) -> Response:
    """Change some fields: those sent replace the current values (null empties one); the rest stay."""
    req = service.get_request(db.session, api_request_id)
    service.ensure_can_change(db.session, api_account(), req)
    body = Body(json_body(), ("fields",))
    changes = body.form("fields", _field_names(req.request_type))
    body.check()
    values = {name: value for name, value in req.data.items() if _REFERENCES.get(name) not in changes}
    service.update_request(db.session, api_account(), req, {**values, **changes}, _limits())
    return committed(lambda: request_detail(req))


@bp.post("/requests/<int:api_request_id>/transitions")
def transition_request(api_request_id: int) -> Response:
    """One action of the request page; the transitions of GET /requests/{id} say which are open now."""
    account = api_account()
    req = service.get_request(db.session, api_request_id)
    if not any(can(db.session, account, p, req.organisation_id) for p in _ACTING):
        raise PermissionDenied()
    body = Body(json_body(), ("action", "comment"))
    action = body.text("action", required=True)
    comment = body.text("comment")
    if action is not None and action not in ACTION_LABELS:
        body.fail("action", "Không có thao tác này; các thao tác: " + ", ".join(sorted(PAGE_ACTIONS)) + ".")
    body.check()
    if action not in PAGE_ACTIONS:
        raise NotFound("Không có thao tác này.")
    if not any(can(db.session, account, p, req.organisation_id) for p in action_permissions(action)):
        raise PermissionDenied()
    service.take_action(db.session, account, req, action, comment, _limits())
    return committed(lambda: request_detail(req))


# -- attachments -------------------------------------------------------------------------------------------

#: The parts of an attachment's upload.
_ATTACHMENT_PARTS = ("file", "description")


def _attachment_upload() -> FileStorage | None:
    """The one file of an attachment's ``multipart/form-data`` (its ``file`` part), after refusing any other
    part but ``description``; None when no file was sent (the service says so under ``file``)."""
    if request.mimetype != "multipart/form-data":
        raise BadRequest(
            "Gửi tệp đính kèm dạng multipart/form-data: tệp ở phần «file», nội dung tệp (nếu có) ở phần «description»."
        )
    errors = {name: "Không có trường này." for name in (*request.form, *request.files) if name not in _ATTACHMENT_PARTS}
    if "file" in request.form:
        errors["file"] = "Phần «file» phải là một tệp (có tên tệp, filename)."
    if len(request.files.getlist("file")) > 1:
        errors["file"] = "Mỗi lần gửi một tệp."
    if len(request.form.getlist("description")) > 1 or "description" in request.files:
        errors["description"] = "Gửi một nội dung tệp, dạng chữ."
    if errors:
        raise ValidationFailed(errors)
    return request.files.get("file")


@bp.post("/requests/<int:api_request_id>/attachments")
def add_request_attachment(api_request_id: int) -> Response:
    """Attach one file (PDF, JPEG or PNG) while the unit may change the request: the request as it is now,
    with the new file's download path as Location."""
    account = api_account()
    req = service.get_request(db.session, api_request_id)
    service.ensure_can_change(db.session, account, req)  # before the body is read
    upload = _attachment_upload()
    added = attachments.add_attachment(db.session, account, req, upload, request.form.get("description"))
    location = url_for("api.download_request_attachment", api_request_id=req.id, api_attachment_id=added.id)
    return committed(lambda: request_detail(req), 201, location)


@bp.get("/requests/<int:api_request_id>/attachments/<int:api_attachment_id>")
def download_request_attachment(api_request_id: int, api_attachment_id: int) -> Response:
    """A current attachment's bytes, as a download under the name it was sent with."""
    req = service.get_request(db.session, api_request_id)
    file = attachments.download(db.session, api_account(), req, api_attachment_id)
    return stored_file_download(file.content, file.filename, file.media_type)


@bp.delete("/requests/<int:api_request_id>/attachments/<int:api_attachment_id>")
def remove_request_attachment(api_request_id: int, api_attachment_id: int) -> Response:
    """Take a file off the request (it stays in the record, marked removed): the request as it is now."""
    req = service.get_request(db.session, api_request_id)
    attachments.remove_attachment(db.session, api_account(), req, api_attachment_id)
    return committed(lambda: request_detail(req))
