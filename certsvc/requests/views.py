"""Pages of certificate requests: the unit's list, drafting per type, the request page with its
timeline and buttons, the focal office's queue with bulk accept/return. Batches have their pages in
:mod:`certsvc.requests.batch_views`, on this blueprint.

Thin: permissions from :mod:`certsvc.policy` (checked before any input is read), rules from
:mod:`certsvc.requests.service` and :mod:`certsvc.requests.batches`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.core.paging import Page, page_from
from certsvc.core.records import to_id
from certsvc.core.sql import inlined, one_of_ids
from certsvc.errors import CertsvcError, NotFound, PermissionDenied, ValidationFailed
from certsvc.extensions import db
from certsvc.orgs.tree import OrgTree, TreePlace
from certsvc.people.models import Person
from certsvc.people.views import PERSON_PAGE
from certsvc.policy import Permission, can, ensure, orgs_in_scope, request_subject_units
from certsvc.registry.models import Certificate
from certsvc.registry.service import RegistrySettings
from certsvc.requests import attachments, batches, checks, followups, listing, service
from certsvc.requests.fields import UNIT_LETTER, SubmissionLimits, display_value, refused_sending, spec_of
from certsvc.requests.listing import QUEUE_STATUSES, RequestFilter
from certsvc.requests.models import CertificateRequest, RequestEvent, RequestStatus, RequestType
from certsvc.requests.replacement import new_certificate_type, replacement_fields
from certsvc.requests.transitions import ACTION_LABELS, PAGE_ACTIONS, action_permissions
from certsvc.ui import onceonly
from certsvc.ui.downloads import stored_file_download
from certsvc.ui.navigation import NavLink
from certsvc.ui.work import WorkItem, count_of

bp = Blueprint("requests", __name__, url_prefix="/requests")
NAV_LINKS = (
    NavLink(
        "Đề nghị",
        "requests.list_requests",
        Permission.VIEW_REQUESTS,
        "Đề nghị cấp mới, gia hạn, thay đổi thông tin, thu hồi chứng thư số, khôi phục thiết bị",
    ),
    NavLink(
        "Tiếp nhận",
        "requests.queue",
        Permission.REVIEW_REQUESTS,
        "Đề nghị các đơn vị gửi cơ quan đầu mối: tiếp nhận hoặc trả lại",
    ),
    NavLink(
        "Đợt tổng hợp",
        "requests.list_batches",
        Permission.MANAGE_BATCHES,
        "Tổng hợp đề nghị, công văn và phụ lục gửi cơ quan cấp chứng thư số",
    ),
)


def _limits() -> SubmissionLimits:
    return SubmissionLimits.from_config(current_app.config)


def _scope(permission: Permission) -> set[int]:
    return orgs_in_scope(db.session, current_user, permission)


def _units(scope: set[int]) -> tuple[TreePlace, ...]:
    """The units of ``scope`` in tree order: the filter's and the form's drop-down."""
    return OrgTree.load(db.session).in_tree_order(scope)


def _errors_of(error: CertsvcError) -> dict[str, str]:
    if isinstance(error, checks.SubmissionRefused):
        return {"_": "Đề nghị chưa thể gửi: xem các vướng mắc bên dưới."}
    if isinstance(error, ValidationFailed):
        return error.field_errors
    return {"_": error.message}


#: The query-string arguments of the request filters: page links keep them.
FILTER_ARGS = ("q", "organisation_id", "request_type", "status", "min_age_days")


def _filtered(scope: set[int], default_status: RequestStatus | None, statuses=None):
    """The page of requests the query string asks for, or (empty page, errors, 400) when it is not valid."""
    errors: dict[str, str] = {}
    number = page_from(request.args, errors)
    try:
        filters = RequestFilter.parse(request.args, scope, default_status)
    except ValidationFailed as failure:
        errors.update(failure.field_errors)
    if errors:
        return Page(items=[], number=number, total=0), errors, 400
    return listing.page_listed(db.session, scope, filters, statuses, page=number), {}, 200


def _unit_options(tree: OrgTree, scope: set[int]) -> Markup:
    """The ``<option>``s of the unit filter, the chosen one selected.

    A focal office serves hundreds of units: the options are built once per tree and scope, and
    only the chosen one is marked per page.
    """
    options = tree.memo(
        ("requests.unit_options", frozenset(scope)),
        lambda: "".join(
            f'<option value="{unit.id}">{"— " * unit.depth}{escape(unit.name)}</option>'
            for unit in tree.in_tree_order(scope)
        ),
    )
    chosen = to_id(request.args.get("organisation_id"))
    if chosen in scope:
        options = options.replace(f'<option value="{chosen}">', f'<option value="{chosen}" selected>', 1)
    return Markup(options)


def _list_context(scope: set[int], endpoint: str) -> dict:
    """What both list templates need besides the rows: the filter choices and the pager's link."""
    return dict(
        unit_options=_unit_options(OrgTree.load(db.session), scope),
        types=RequestType,
        filter_endpoint=endpoint,
        filter_args={name: request.args[name] for name in FILTER_ARGS if name in request.args},
    )


# --- the unit's pages -----------------------------------------------------------------------------


@bp.get("/")
@login_required
def list_requests():
    scope = _scope(Permission.VIEW_REQUESTS)
    if not scope:
        raise PermissionDenied()
    rows, errors, status = _filtered(scope, None)
    return render_template(
        "requests/list.html",
        rows=rows,
        errors=errors,
        statuses=RequestStatus,
        can_draft=can(db.session, current_user, Permission.DRAFT_REQUESTS),
        **_list_context(scope, "requests.list_requests"),
    ), status


def _current_information(kind: RequestType, req: CertificateRequest | None, values: dict) -> dict[str, str | None]:
    """For an information change, the registry's current values shown beside the new ones."""
    unit = req.organisation_id if req is not None else to_id(values.get("organisation_id"))
    if kind is not RequestType.CHANGE or unit is None:
        return {}
    return service.change_current_information(db.session, unit, values.get("certificate_serial"))


def _form_page(kind: RequestType, req: CertificateRequest | None, values: dict, errors: dict, status: int):
    return render_template(
        "requests/form.html",
        spec=spec_of(kind),
        kind=kind,
        req=req,
        values=values,
        errors=errors,
        current=_current_information(kind, req, values),
        unit_letter=UNIT_LETTER,
        hints=_limits().hints(),
        units=_units(_scope(Permission.DRAFT_REQUESTS)) if req is None else [],
        form_token=onceonly.new_token() if req is None else None,
    ), status


@bp.route("/new/<request_type>", methods=["GET", "POST"])
@login_required
def new_request(request_type: str):
    ensure(db.session, current_user, Permission.DRAFT_REQUESTS)
    kind = service.parse_type(request_type)
    if request.method == "GET":
        units = _units(_scope(Permission.DRAFT_REQUESTS))
        only = units[0] if len(units) == 1 else None
        defaults = {"organisation_id": only.id, "unit_name": only.name} if only else {}
        # A link may prefill fields by name (the person page's "revoke" sets the reason); checked when saved.
        defaults |= {f.name: request.args[f.name] for f in spec_of(kind).all_fields if f.name in request.args}
        about = _about_certificate(request.args.get("certificate_id"), units)
        defaults |= about | _replacing_certificate(kind, request.args.get("certificate_id"), about)
        return _form_page(kind, None, defaults, {}, 200)
    if sent := onceonly.sent_before(db.session, current_user.id):
        return sent
    values = request.form.to_dict()
    try:
        created = service.create_draft(db.session, current_user, values.get("organisation_id"), kind, values, _limits())
    except ValidationFailed as failure:
        db.session.rollback()
        return _form_page(kind, None, values, failure.field_errors, 400)
    target = onceonly.remember(db.session, url_for("requests.view_request", request_id=created.id))
    db.session.commit()
    flash(f"Đã lưu dự thảo số {created.id}. {next_step(created)}", "success")
    return redirect(target)


def _about_certificate(certificate_id: object, units: tuple[TreePlace, ...]) -> dict[str, object]:
    """The form's values for a request about the registry's certificate ``certificate_id`` (the "Đề nghị
    thu hồi / gia hạn" buttons of its page): its serial, and the unit that files requests about it. Nothing
    for a certificate none of ``units`` may name, so that the form tells nothing of it."""
    cert_id = to_id(certificate_id)
    cert = db.session.get(Certificate, cert_id) if cert_id is not None else None
    if cert is None:
        return {}
    for unit in units:
        if cert.organisation_id in request_subject_units(db.session, unit.id):
            return {"organisation_id": unit.id, "unit_name": unit.name, "certificate_serial": cert.serial_hex}
    return {}


def _replacing_certificate(kind: RequestType, certificate_id: object, about: dict[str, object]) -> dict[str, object]:
    """The new-certificate form's values for a certificate to be replaced (the readiness board's click when its key
    is missing or it was revoked): what the registry knows of its holder or unit. Only when ``about`` (see
    :func:`_about_certificate`) shows the certificate may be named, and ``kind`` is the request that replaces it."""
    cert = db.session.get(Certificate, to_id(certificate_id) or 0) if about else None
    if cert is None or new_certificate_type(cert) is not kind:
        return {}
    return replacement_fields(cert)


#: Statuses from which the unit sends a request: its page lists what blocks sending.
_UNSENT = (RequestStatus.DRAFT, RequestStatus.APPROVED, RequestStatus.RETURNED)


def _request_page(req: CertificateRequest, errors: dict | None = None, status: int = 200):
    spec = spec_of(req.request_type)
    unsent = req.status in _UNSENT
    problems = checks.submission_problems(db.session, req, _limits(), current_user) if unsent else []
    return render_template(
        "requests/view.html",
        req=req,
        spec=spec,
        display_value=display_value,
        action_label=ACTION_LABELS.get,
        problems=problems,
        unit_letter_missing=checks.UNIT_LETTER_MISSING,
        unsendable=refused_sending(req.request_type, req.data) if unsent else None,
        transitions=service.available_transitions(db.session, current_user, req),
        can_edit=service.can_edit(db.session, current_user, req),
        can_record_outcome=req.status is RequestStatus.SENT
        and can(db.session, current_user, Permission.MANAGE_BATCHES, req.organisation_id),
        can_view_batch=req.batch is not None
        and can(db.session, current_user, Permission.VIEW_BATCHES, req.batch.focal_office_id),
        status_note=_status_note(req),
        may_view_registry=req.issued_certificate is not None
        and can(db.session, current_user, Permission.VIEW_REGISTRY, req.issued_certificate.organisation_id),
        current=_current_information(req.request_type, req, req.data),
        urgent=service.is_urgent(req),
        may_attach=req.status in attachments.ATTACHABLE and service.may_change(db.session, current_user, req),
        max_attachment_mb=attachments.MAX_ATTACHMENT_BYTES // (1024 * 1024),
        errors=errors or {},
    ), status


#: Statuses whose reason stays on the request's page until it moves on.
_EXPLAINED_STATUSES = frozenset({RequestStatus.RETURNED, RequestStatus.REJECTED, RequestStatus.CANCELLED})


def _status_note(req: CertificateRequest) -> RequestEvent | None:
    """The step that put a returned, rejected or cancelled request where it is, when it gave a reason: shown
    until the request is sent again, whatever edits came after (the drafter fixes what the reason says)."""
    if req.status not in _EXPLAINED_STATUSES:
        return None
    moved = next(
        (e for e in reversed(req.events) if e.to_status is req.status and e.from_status is not req.status), None
    )
    return moved if moved is not None and moved.comment else None


@bp.get("/<int:request_id>")
@login_required
def view_request(request_id: int):
    req = service.get_request(db.session, request_id)
    service.ensure_can_view(db.session, current_user, req)
    return _request_page(req)


@bp.route("/<int:request_id>/edit", methods=["GET", "POST"])
@login_required
def edit_request(request_id: int):
    req = service.get_request(db.session, request_id)
    service.ensure_can_change(db.session, current_user, req)
    if request.method == "GET":
        return _form_page(req.request_type, req, dict(req.data), {}, 200)
    values = request.form.to_dict()
    try:
        service.update_request(db.session, current_user, req, values, _limits())
    except ValidationFailed as failure:
        db.session.rollback()
        return _form_page(req.request_type, req, values, failure.field_errors, 400)
    db.session.commit()
    flash(f"Đã lưu nội dung đề nghị số {req.id}. {next_step(req)}", "success")
    return redirect(url_for("requests.view_request", request_id=req.id))


def attempt(change, failed, done: str, target: str, *, also: Callable[[Any], None] | None = None):
    """Run ``change``; commit, say ``done`` (and what ``also`` says of the change's result) and go to
    ``target``; or roll back and let ``failed(errors, status)`` answer.

    Refusals of permission stay 403 (the error page); other refusals show on the page that was posted.
    """
    try:
        result = change()
    except CertsvcError as failure:
        if failure.http_status == 403:
            raise
        db.session.rollback()
        return failed(_errors_of(failure), failure.http_status)
    db.session.commit()
    flash(done, "success")
    if also is not None:
        also(result)
    return redirect(target)


def _on_request_page(request_id: int):
    return lambda errors, status: _request_page(service.get_request(db.session, request_id), errors, status)


@bp.post("/<int:request_id>/act/<action>")
@login_required
def act(request_id: int, action: str):
    req = service.get_request(db.session, request_id)
    if action not in PAGE_ACTIONS:
        raise NotFound("Không có thao tác này.")
    permissions = action_permissions(action)
    if not any(can(db.session, current_user, p, req.organisation_id) for p in permissions):
        raise PermissionDenied()
    comment = request.form.get("comment")
    return attempt(
        lambda: service.take_action(db.session, current_user, req, action, comment, _limits()),
        _on_request_page(request_id),
        f"Đề nghị số {req.id}: đã thực hiện «{ACTION_LABELS[action]}».",
        url_for("requests.view_request", request_id=req.id),
    )


@bp.post("/<int:request_id>/outcome")
@login_required
def record_outcome(request_id: int):
    req = service.get_request(db.session, request_id)
    ensure(db.session, current_user, Permission.MANAGE_BATCHES, req.organisation_id)
    upload = request.files.get("certificate_file")
    content = upload.read() if upload else None
    calendar = RegistrySettings.from_config(current_app.config).calendar
    return attempt(
        lambda: batches.record_outcome(db.session, current_user, req, request.form, content, calendar=calendar),
        _on_request_page(request_id),
        f"Đã ghi kết quả đề nghị số {req.id}.",
        url_for("requests.view_request", request_id=req.id),
        also=_tell_cancelled_recoveries,
    )


def _change_attachments(request_id: int, change: Callable[[CertificateRequest], object], done: str):
    """Attach or remove a file (the service asks whether the account may change the request); back to its page."""
    req = service.get_request(db.session, request_id)
    return attempt(
        lambda: change(req),
        _on_request_page(request_id),
        f"{done} đề nghị số {req.id}.",
        url_for("requests.view_request", request_id=req.id),
    )


@bp.post("/<int:request_id>/attachments")
@login_required
def add_attachment(request_id: int):
    return _change_attachments(
        request_id,
        lambda req: attachments.add_attachment(
            db.session, current_user, req, request.files.get("file"), request.form.get("description")
        ),
        "Đã đính kèm tệp vào",
    )


@bp.post("/<int:request_id>/attachments/<int:attachment_id>/remove")
@login_required
def remove_attachment(request_id: int, attachment_id: int):
    return _change_attachments(
        request_id,
        lambda req: attachments.remove_attachment(db.session, current_user, req, attachment_id),
        "Đã gỡ tệp đính kèm khỏi",
    )


@bp.get("/<int:request_id>/attachments/<int:attachment_id>")
@login_required
def attachment(request_id: int, attachment_id: int):
    req = service.get_request(db.session, request_id)
    file = attachments.download(db.session, current_user, req, attachment_id)
    return stored_file_download(file.content, file.filename, file.media_type)


@PERSON_PAGE.add
def _person_follow_ups(person: Person) -> dict[str, object]:
    """The revocation or information change the person's certificates need, for the person's page: the form
    offered to those who draft requests, the open request shown to those who may see it."""
    return {
        "follow_ups": followups.person_follow_ups(db.session, person),
        "may_draft_requests": can(db.session, current_user, Permission.DRAFT_REQUESTS),
        "may_view_request": lambda req: can(db.session, current_user, Permission.VIEW_REQUESTS, req.organisation_id),
    }


@bp.get("/follow-ups")
@login_required
def follow_ups():
    """The unit's certificates whose holder left or moved, with the request each needs."""
    ensure(db.session, current_user, Permission.DRAFT_REQUESTS)
    return render_template(
        "requests/follow_ups.html",
        follow_ups=followups.unit_follow_ups(db.session, _scope(Permission.DRAFT_REQUESTS)),
        may_draft_requests=True,
        may_view_request=lambda req: can(db.session, current_user, Permission.VIEW_REQUESTS, req.organisation_id),
    )


def _tell_cancelled_recoveries(result: batches.OutcomeResult) -> None:
    """A recorded revocation cancels the token's open recovery requests: say which."""
    if result.cancelled_recoveries:
        numbers = ", ".join(f"số {number}" for number in result.cancelled_recoveries)
        flash(
            f"Đề nghị khôi phục thiết bị {numbers} đã tự động hủy: chứng thư số trên thiết bị đã bị thu hồi, "
            "thiết bị phải nộp lại cơ quan cấp.",
            "warning",
        )


# --- the focal office's queue ---------------------------------------------------------------------


def _queue_page(errors: dict | None = None, status: int = 200):
    scope = listing.review_scope(db.session, current_user)
    rows, filter_errors, filter_status = _filtered(scope, RequestStatus.SUBMITTED, QUEUE_STATUSES)
    return render_template(
        "requests/queue.html",
        rows=rows,
        errors={**filter_errors, **(errors or {})},
        statuses=QUEUE_STATUSES,
        selected=set(request.form.getlist("request_ids")),
        reason=request.form.get("reason", ""),
        **_list_context(scope, "requests.queue"),
    ), max(status, filter_status)


@bp.get("/queue")
@login_required
def queue():
    ensure(db.session, current_user, Permission.REVIEW_REQUESTS)
    return _queue_page()


@bp.post("/queue/bulk")
@login_required
def bulk_review():
    ensure(db.session, current_user, Permission.REVIEW_REQUESTS)
    ids = request.form.getlist("request_ids")
    action = request.form.get("action", "")
    try:
        events = service.bulk_review(db.session, current_user, ids, action, request.form.get("reason"))
    except CertsvcError as failure:
        db.session.rollback()
        return _queue_page(_errors_of(failure), failure.http_status if failure.http_status != 403 else 400)
    db.session.commit()
    done = "tiếp nhận" if action == "accept" else "trả lại"
    flash(f"Đã {done} {len(events)} đề nghị.", "success")
    # Back to the queue with its filters, and only those: any other argument would reach url_for as one
    # of its own options (_external, _anchor).
    filters: dict[str, Any] = {name: request.args[name] for name in FILTER_ARGS if name in request.args}
    return redirect(url_for("requests.queue", **filters))


# --- the home page's work list ---------------------------------------------------------------------

#: The work list's heading of the request lines (the batch pages add theirs under it too).
REQUESTS_WORK = "Đề nghị chứng thư số"

#: What happens to a request the unit has just saved, by the status it was saved in.
_NEXT_STEPS = {
    RequestStatus.DRAFT: "Bước tiếp theo: thủ trưởng đơn vị phê duyệt và gửi đầu mối.",
    RequestStatus.RETURNED: "Bước tiếp theo: thủ trưởng đơn vị gửi lại đầu mối.",
}


def next_step(req: CertificateRequest) -> str:
    """The sentence the flash after saving a request ends with: who acts next."""
    return _NEXT_STEPS.get(req.status, "")


def _waiting(session: Session, units: set[int], status: RequestStatus) -> int:
    """How many requests of ``units`` are in ``status``: one count."""
    if not units:
        return 0
    r = CertificateRequest
    query = select(r).where(one_of_ids(r.organisation_id, units), r.status == inlined(status, r.status.type))
    return count_of(session, query)[0]


def request_work(session: Session, account: Account) -> list[WorkItem]:
    """The unit's requests that wait for ``account``: drafts to approve and approved ones to send (the unit
    head), returned ones to fix and send again (drafter and head), certificates of people who left or moved
    (drafter), the focal office's queue and its urgent revocations to send at once, outside a batch."""
    heads = orgs_in_scope(session, account, Permission.APPROVE_REQUESTS)
    drafters = orgs_in_scope(session, account, Permission.DRAFT_REQUESTS)
    unit = heads | drafters
    senders = orgs_in_scope(session, account, Permission.MANAGE_BATCHES)
    urgent_sends = (
        count_of(
            session,
            select(CertificateRequest).where(
                one_of_ids(CertificateRequest.organisation_id, senders),
                CertificateRequest.status == RequestStatus.ACCEPTED,
                service.urgent_revocation(),
            ),
        )[0]
        if senders
        else 0
    )
    listed = partial(url_for, "requests.list_requests")
    return [
        WorkItem(
            REQUESTS_WORK,
            "Dự thảo chờ phê duyệt",
            _waiting(session, heads, RequestStatus.DRAFT),
            listed(status="draft"),
        ),
        WorkItem(
            REQUESTS_WORK,
            "Đã phê duyệt, chờ gửi đầu mối",
            _waiting(session, heads, RequestStatus.APPROVED),
            listed(status="approved"),
        ),
        WorkItem(
            REQUESTS_WORK,
            "Bị trả lại, cần sửa và gửi lại",
            _waiting(session, unit, RequestStatus.RETURNED),
            listed(status="returned"),
        ),
        WorkItem(
            REQUESTS_WORK,
            "Cán bộ nghỉ việc, chuyển công tác: chứng thư số cần đề nghị",
            count_of(
                session,
                followups.needing_follow_up(followups.of_units(drafters), followups.without_open_request()),
            )[0]
            if drafters
            else 0,
            url_for("requests.follow_ups"),
        ),
        WorkItem(
            REQUESTS_WORK,
            "Thu hồi khẩn đã tiếp nhận: gửi ngay cơ quan cấp",
            urgent_sends,
            url_for("requests.queue", status="accepted", request_type="revocation"),
            urgent=urgent_sends,
        ),
        WorkItem(
            REQUESTS_WORK,
            "Chờ cơ quan đầu mối tiếp nhận",
            _waiting(session, listing.review_scope(session, account), RequestStatus.SUBMITTED),
            url_for("requests.queue", status="submitted"),
        ),
    ]


WORK_ITEMS = (request_work,)
