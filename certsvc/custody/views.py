"""Pages of the custody register. Thin: permissions from :mod:`certsvc.policy`, rules from
:mod:`certsvc.custody.service`, :mod:`~certsvc.custody.entries` and :mod:`~certsvc.custody.handovers`.

Custody items are "MẬT": to anyone without VIEW_CUSTODY (or RECORD_CUSTODY to change
them) at the token's unit they do not exist, so every refusal here is a 404. One page is open to
anyone, signed in or not: the one a printed minute's QR code links to, which shows what that paper
prints and only when the link's entry number and hash match (:func:`check_printed`). Each view of a
handover, each view and download of a minute, and each download of the yearly book is audited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from certsvc.accounts.actors import actor_names
from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.config import setting_value
from certsvc.core.sql import one_of_ids
from certsvc.custody import book, entries, handovers, service
from certsvc.custody.chain import EntryCheck, check_entry
from certsvc.custody.facts import Fact, hashed_facts, printed_facts
from certsvc.custody.forms import HINTS, EventForm, HandoverForm, LossForm, ReceiveForm, mark_required
from certsvc.custody.minutes import MINUTE_KINDS, minutes_filename, minutes_pdf
from certsvc.custody.models import (
    CustodyEvent,
    CustodyEventKind,
    Handover,
    HandoverStatus,
    PermissionKind,
    keeper_ids,
)
from certsvc.custody.yearbook import book_csv, book_pdf
from certsvc.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from certsvc.extensions import db
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.policy import Permission, can, may_act_on_token, orgs_in_scope
from certsvc.registry.models import Token, TokenState
from certsvc.timeutil import to_vietnam, utcnow
from certsvc.ui import onceonly
from certsvc.ui.forms import ServiceForm, apply_field_errors
from certsvc.ui.navigation import NavLink
from certsvc.ui.work import WorkItem, count_of

bp = Blueprint("custody", __name__, url_prefix="/custody")
NAV_LINKS = (
    NavLink(
        "Sổ theo dõi thiết bị",
        "custody.index",
        Permission.VIEW_CUSTODY,
        "Thiết bị lưu khóa bí mật (MẬT): người giữ, bàn giao, kiểm kê, báo mất",
    ),
)

_HASH = re.compile(r"[0-9a-f]{64}")

#: What a custody form's service call gives back (an entry, a loss report, a handover).
_Result = TypeVar("_Result")
#: The form of a custody page.
_Form = TypeVar("_Form", bound=ServiceForm)


def _hidden(org_id: int, permission: Permission = Permission.VIEW_CUSTODY) -> None:
    """MẬT: whoever lacks the permission at the unit is told the item does not exist."""
    if not can(db.session, current_user, permission, org_id):
        raise NotFound("Không tìm thấy.")


def _token(token_id: int, permission: Permission = Permission.VIEW_CUSTODY) -> Token:
    return service.get_token(db.session, current_user, token_id, permission)


def _entry(entry_seq: int) -> CustodyEvent:
    event = db.session.get(CustodyEvent, entry_seq)
    if event is None:
        raise NotFound("Không tìm thấy mục sổ.")
    _hidden(event.organisation_id)
    return event


def _audit(action: str, object_type: str, object_id: object, details: dict) -> None:
    record(db.session, Actor.of(current_user), action, object_type, object_id, details)
    db.session.commit()


def _people(org_id: int) -> list[tuple[str, str]]:
    return _choices(service.unit_people(db.session, org_id))


def _choices(people: list[Person]) -> list[tuple[str, str]]:
    return [("", "— Chọn —")] + [(str(p.id), f"{p.full_name} — {p.position or 'cán bộ'}") for p in people]


@bp.get("/")
@login_required
def index():
    if not orgs_in_scope(db.session, current_user, Permission.VIEW_CUSTODY):
        raise PermissionDenied()
    tokens = service.custody_tokens(db.session, current_user)
    keepers = keeper_ids(db.session, [t.id for t in tokens])
    names = {
        p.id: p.full_name
        for p in db.session.scalars(select(Person).where(Person.id.in_([k for k in keepers.values() if k])))
    }
    return render_template(
        "custody/index.html",
        tokens=tokens,
        keepers=keepers,
        names=names,
        lost=[t for t in tokens if t.state is TokenState.LOST],
        pending=service.pending_for(db.session, current_user),
        units=db.session.scalars(
            select(Organisation)
            .where(Organisation.id.in_({t.organisation_id for t in tokens}))
            .order_by(Organisation.name)
        ).all(),
        year=to_vietnam(utcnow()).year,
    )


@bp.get("/tokens/<int:token_id>")
@login_required
def view_token(token_id: int):
    token = _token(token_id)
    pending = [
        h for h in service.handovers_of(db.session, token) if service.effective_status(h) is HandoverStatus.PENDING
    ]
    return render_template(
        "custody/token.html",
        token=token,
        events=service.events_of(db.session, token),
        keeper=service.current_keeper(db.session, token),
        pending=pending,
        summary=book.summary,
        happened_at=book.happened_at,
        minute_kinds=MINUTE_KINDS,
        certificate=service.certificate_of(db.session, token),
        can_record=may_act_on_token(
            db.session, current_user, token.organisation_id, keeper_ids(db.session, [token.id]).get(token.id)
        ),
    )


def _form_page(
    token_id: int,
    form_class: type[_Form],
    title: str,
    act: Callable[[Account, Token, dict[str, object]], _Result],
    done: Callable[[_Result], tuple[str, str]],
    prepare: Callable[[_Form, Token], None] = lambda form, token: None,
    submit: str = "Ghi vào sổ",
):
    """A custody form: permission first (404), then the service; refused input answers 400, an event the
    token's state does not allow (a token destroyed while still in use) 409, both on the form as it was filled."""
    token = _token(token_id, Permission.RECORD_CUSTODY)
    form = form_class()
    prepare(form, token)
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        if sent := onceonly.sent_before(db.session, current_user.id):
            return sent
        try:
            result = act(current_user, token, form.raw())
        except ValidationFailed as failure:
            db.session.rollback()
            apply_field_errors(form, failure)
        except Conflict as conflict:
            db.session.rollback()
            form.form_errors.append(conflict.message)
            status = 409
        else:
            message, target = done(result)
            onceonly.remember(db.session, target)
            db.session.commit()
            flash(message, "success")
            return redirect(target)
    return render_template(
        "custody/form.html",
        form=form,
        token=token,
        title=title,
        hints=HINTS,
        submit=submit,
        form_token=onceonly.new_token(),
    ), status


def _unit_people(*names: str) -> Callable[[ServiceForm, Token], None]:
    def prepare(form: ServiceForm, token: Token) -> None:
        for name in names:
            getattr(form, name).choices = _people(token.organisation_id)

    return prepare


def _to_token(event: CustodyEvent) -> tuple[str, str]:
    return (
        f"Đã ghi mục số {event.seq} vào sổ theo dõi: {event.kind.label}.",
        url_for("custody.view_token", token_id=event.token_id),
    )


@bp.route("/tokens/<int:token_id>/receive", methods=["GET", "POST"])
@login_required
def receive(token_id: int):
    return _form_page(
        token_id,
        ReceiveForm,
        "Ghi sổ: nhận thiết bị từ tổ chức cung cấp dịch vụ",
        lambda by, token, raw: entries.receive(db.session, by, token, raw),
        _to_token,
        _unit_people("keeper_id"),
    )


def _prepare_event(kind: CustodyEventKind) -> Callable[[EventForm, Token], None]:
    def prepare(form: EventForm, token: Token) -> None:
        form.for_kind(kind)
        if "keeper_id" in form:
            _unit_people("keeper_id")(form, token)

    return prepare


@bp.route("/tokens/<int:token_id>/event", methods=["GET", "POST"])
@login_required
def record_event(token_id: int):
    """The plain event form of one kind, named by ``kind`` in the address (or, as every form field, posted);
    without one, the choice of kinds."""
    kind = entries.event_form_kind(request.values.get("kind"))
    if kind is None:
        token = _token(token_id, Permission.RECORD_CUSTODY)
        status = 400 if request.method == "POST" else 200
        kinds = [(kind, entries.event_refusal(kind, token.state)) for kind in entries.EVENT_FORM_KINDS]
        return render_template("custody/event_kind.html", token=token, kinds=kinds), status
    return _form_page(
        token_id,
        EventForm,
        f"Ghi sổ: {kind.label}",
        lambda by, token, raw: entries.record_event(db.session, by, token, {**raw, "kind": kind.value}),
        _to_token,
        _prepare_event(kind),
    )


def _loss_done(report: entries.LossReport) -> tuple[str, str]:
    draft = (
        "Đã lập dự thảo đề nghị thu hồi chứng thư số (Mẫu 05)."
        if report.revocation_request is not None
        else "Chưa lập được đề nghị thu hồi tự động: cán bộ đơn vị lập đề nghị thu hồi (Mẫu 05)."
    )
    return (
        f"Đã báo mất thiết bị (mục số {report.event.seq}); thiết bị chuyển sang «Bị mất». {draft} "
        "Cơ quan đầu mối đã thấy thông báo này.",
        url_for("custody.view_entry", entry_seq=report.event.seq),
    )


def _prepare_loss(form: ServiceForm, token: Token) -> None:
    heads = service.unit_heads(db.session, token.organisation_id)
    form.head_id.choices = _choices(heads)
    if request.method == "GET" and heads:
        me = current_user.person
        form.head_id.data = str((me if me in heads else heads[0]).id)


@bp.route("/tokens/<int:token_id>/lost", methods=["GET", "POST"])
@login_required
def report_lost(token_id: int):
    return _form_page(
        token_id,
        LossForm,
        "Báo mất thiết bị lưu khóa bí mật",
        lambda by, token, raw: entries.report_loss(db.session, by, token, raw),
        _loss_done,
        _prepare_loss,
        submit="Báo mất ngay",
    )


def _prepare_handover(settings: service.CustodySettings) -> Callable[[ServiceForm, Token], None]:
    def prepare(form: ServiceForm, token: Token) -> None:
        _unit_people("giver_id", "receiver_id")(form, token)
        form.witness_id.choices = _choices(service.witness_candidates(db.session, token.organisation_id, current_user))
        if settings.witness_required:
            mark_required(form, ["witness_id"])
        keeper = service.current_keeper(db.session, token)
        if request.method == "GET" and keeper is not None:
            form.giver_id.data = str(keeper.id)
            form.condition.data = "Hoạt động bình thường"

    return prepare


@bp.route("/tokens/<int:token_id>/handover", methods=["GET", "POST"])
@login_required
def new_handover(token_id: int):
    settings = service.CustodySettings.from_config(current_app.config)
    return _form_page(
        token_id,
        HandoverForm,
        "Lập biên bản bàn giao thiết bị lưu khóa bí mật",
        lambda by, token, raw: handovers.start_handover(db.session, by, token, raw, settings),
        lambda handover: (
            "Đã lập biên bản bàn giao; chờ bên giao và bên nhận xác nhận.",
            url_for("custody.view_handover", handover_id=handover.id),
        ),
        _prepare_handover(settings),
        "Lập biên bản, chờ hai bên xác nhận",
    )


def _handover(handover_id: int, permission: Permission = Permission.VIEW_CUSTODY) -> Handover:
    return service.get_handover(db.session, current_user, handover_id, permission)


@bp.get("/handovers/<int:handover_id>")
@login_required
def view_handover(handover_id: int):
    handover = _handover(handover_id)
    _audit("custody.handover_viewed", "token", handover.token_id, {"handover": handover.id})
    return render_template(
        "custody/handover.html",
        handover=handover,
        status=service.effective_status(handover),
        me=current_user.person_id,
        can_approve=can(db.session, current_user, Permission.APPROVE_HANDOVER, handover.organisation_id),
    )


def _handover_action(
    handover_id: int, act: Callable[[Session, Account, Handover], CustodyEvent | None], permission: Permission
) -> BaseResponse:
    handover = _handover(handover_id, permission)
    event = act(db.session, current_user, handover)
    db.session.commit()
    if event is not None:
        flash(
            f"Đã hoàn tất bàn giao; mục số {event.seq} đã ghi vào sổ theo dõi. Người giữ mới: "
            f"{handover.receiver.full_name}.",
            "success",
        )
    else:
        flash("Đã ghi nhận.", "success")
    return redirect(url_for("custody.view_handover", handover_id=handover.id))


@bp.post("/handovers/<int:handover_id>/confirm")
@login_required
def confirm_handover(handover_id: int):
    # The witness may only see the register: he confirms all the same.
    return _handover_action(handover_id, handovers.confirm_handover, Permission.VIEW_CUSTODY)


@bp.post("/handovers/<int:handover_id>/approve")
@login_required
def approve_handover(handover_id: int):
    return _handover_action(handover_id, handovers.approve_handover, Permission.RECORD_CUSTODY)


@bp.get("/entries/<int:entry_seq>")
@login_required
def view_entry(entry_seq: int):
    event = _entry(entry_seq)
    if event.kind in MINUTE_KINDS:
        _audit("custody.minutes_viewed", "token", event.token_id, {"entry": event.seq})
    return render_template(
        "custody/entry.html",
        event=event,
        facts=_all_facts(event),
        has_minutes=event.kind in MINUTE_KINDS,
        check=check_entry(db.session, event.hash),
    )


def _all_facts(event: CustodyEvent) -> list[Fact]:
    """Every value the entry's hash covers (when and by whom it was written: the template's)."""
    return hashed_facts(event, event.keeper.full_name if event.keeper else "Không có")


def _check_url(event: CustodyEvent) -> str:
    """The link a minute's QR code holds: this service's address (``CERTSVC_PUBLIC_URL``, else the one the
    minute was printed from), the entry number and its hash."""
    public = setting_value(current_app.config, "CERTSVC_PUBLIC_URL")
    link = url_for("custody.check_printed", entry_seq=event.seq, printed_hash=event.hash, _external=not public)
    return public + link if public else link


@bp.get("/entries/<int:entry_seq>/minutes.pdf")
@login_required
def minutes(entry_seq: int):
    event = _entry(entry_seq)
    if event.kind not in MINUTE_KINDS:
        raise NotFound("Mục sổ này không có biên bản.")
    pdf = minutes_pdf(event, _check_url(event))
    _audit("custody.minutes_downloaded", "token", event.token_id, {"entry": event.seq, "hash": event.hash})
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{minutes_filename(event)}"'
    return response


def _book(org_id: int, year: int):
    _hidden(org_id)
    org = db.session.get(Organisation, org_id)
    if org is None or not 2000 <= year <= 2100:
        raise NotFound("Không tìm thấy.")
    return org, book.book_events(db.session, org_id, year)


def _download(content: bytes, mimetype: str, filename: str, org_id: int, year: int) -> Response:
    _audit("custody.book_downloaded", "organisation", org_id, {"year": year, "file": filename})
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/units/<int:org_id>/book-<int:year>.pdf")
@login_required
def book_as_pdf(org_id: int, year: int):
    org, events = _book(org_id, year)
    return _download(
        book_pdf(org, year, events, utcnow(), actor_names(db.session, events)),
        "application/pdf",
        f"so-theo-doi-{year}.pdf",
        org_id,
        year,
    )


@bp.get("/units/<int:org_id>/book-<int:year>.csv")
@login_required
def book_as_csv(org_id: int, year: int):
    _, events = _book(org_id, year)
    return _download(
        book_csv(events, actor_names(db.session, events)).encode("utf-8"),
        "text/csv",
        f"so-theo-doi-{year}.csv",
        org_id,
        year,
    )


@bp.get("/verify")
@login_required
def verify():
    if not can(db.session, current_user, Permission.VIEW_CUSTODY):
        raise PermissionDenied()
    typed = request.args.get("hash", "")
    if not typed.strip():
        return render_template("custody/verify.html", typed="", error=None, check=None)
    match = _HASH.search("".join(typed.split()).lower())
    if match is None:
        error = "Mã băm gồm 64 ký tự 0–9, a–f như in dưới mã QR của biên bản. Kiểm tra lại chữ đã nhập."
        return render_template("custody/verify.html", typed=typed, error=error, check=None), 400
    check = check_entry(db.session, match.group(0))
    if check.event is not None and not can(
        db.session, current_user, Permission.VIEW_CUSTODY, check.event.organisation_id
    ):
        check = EntryCheck(None, False)
    return render_template(
        "custody/verify.html",
        typed=typed,
        error=None,
        check=check,
        printed=match.group(0),
        facts=_all_facts(check.event) if check.event is not None else [],
    )


@bp.get("/check/<int:entry_seq>/<printed_hash>")
def check_printed(entry_seq: int, printed_hash: str):
    """The page a minute's QR code opens, for anyone holding the paper (the CA, an inspector) and without
    signing in: when the entry number and hash match an intact entry that has a minute, what the paper prints
    of it (every fact the minute carries, nothing else of the register); otherwise only that they do not match.
    Whoever sees the unit's register sees every fact of any entry and a link to it."""
    check = check_entry(db.session, printed_hash) if _HASH.fullmatch(printed_hash) else EntryCheck(None, False)
    event = check.event if check.intact and check.event is not None and check.event.seq == entry_seq else None
    insider = event is not None and can(db.session, current_user, Permission.VIEW_CUSTODY, event.organisation_id)
    if event is None or not (insider or event.kind in MINUTE_KINDS):
        return render_template("custody/check.html", event=None, facts=[], entry_seq=entry_seq), 404
    # A signed-in reader is recorded. Someone without an account learns only that the paper in their hands
    # matches, and what it prints: not recorded, so that following a link cannot fill the audit log.
    if current_user.is_authenticated:
        details = {"entry": event.seq, "link": True}
        record(db.session, Actor.of(current_user), "custody.minutes_viewed", "token", event.token_id, details)
        db.session.commit()
    return render_template(
        "custody/check.html",
        event=event,
        facts=_all_facts(event) if insider else printed_facts(event),
        paper=MINUTE_KINDS[event.kind][0] if event.kind in MINUTE_KINDS else event.kind.label,
        insider=insider,
        entry_seq=entry_seq,
    )


# --- the home page's work list ---------------------------------------------------------------------


def _open_handovers(session: Session, account: Account):
    """Pending handovers, not yet expired, of the units whose register ``account`` sees."""
    return select(Handover).where(
        Handover.status == HandoverStatus.PENDING,
        Handover.expires_at > utcnow(),
        one_of_ids(Handover.organisation_id, orgs_in_scope(session, account, Permission.VIEW_CUSTODY)),
    )


def handover_work(session: Session, account: Account) -> list[WorkItem]:
    """Handovers waiting for ``account``: its own confirmation as giver, receiver or witness, and the unit
    head's approval when the handover asked for it."""
    if not can(session, account, Permission.VIEW_CUSTODY):
        return []
    me = account.person_id
    unconfirmed = or_(
        and_(Handover.giver_id == me, Handover.giver_confirmed_at.is_(None)),
        and_(Handover.receiver_id == me, Handover.receiver_confirmed_at.is_(None)),
        and_(Handover.witness_id == me, Handover.witness_confirmed_at.is_(None)),
    )
    to_approve = _open_handovers(session, account).where(
        one_of_ids(Handover.organisation_id, orgs_in_scope(session, account, Permission.APPROVE_HANDOVER)),
        Handover.permission_kind == PermissionKind.APPROVAL,
        Handover.approved_at.is_(None),
    )
    board = url_for("custody.index")
    return [
        WorkItem(
            "Sổ theo dõi thiết bị",
            "Biên bản bàn giao chờ bạn xác nhận",
            count_of(session, _open_handovers(session, account).where(unconfirmed))[0],
            board,
        ),
        WorkItem(
            "Sổ theo dõi thiết bị",
            "Biên bản bàn giao chờ thủ trưởng phê duyệt",
            count_of(session, to_approve)[0],
            board,
        ),
    ]


WORK_ITEMS = (handover_work,)
