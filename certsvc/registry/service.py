"""Rules of the certificate and token registries.

Every function that changes something writes exactly one audit entry in the caller's
transaction; the caller commits, or rolls back on an error. Functions taking ``by`` check
:data:`Permission.MANAGE_REGISTRY` at the organisation concerned when ``by`` is an
account; a system :class:`Actor` (demo, command line) is trusted.

Settings (warning days, reminder thresholds, the work calendar) are required parameters: this
module never reads the app config. The edges (pages, API, commands, the demo) build a
:class:`RegistrySettings` from their app's config and pass the values the rules need.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Generic, TypeVar

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.sql.elements import ColumnElement

from certsvc.accounts.models import Account
from certsvc.audit.service import SYSTEM, Actor, record
from certsvc.config import WORK_CALENDAR, setting_default, setting_value
from certsvc.core.enums import LabelledEnum
from certsvc.core.records import get_record, to_id
from certsvc.core.validation import FieldCollector, FieldError, bounded_day, clean_text
from certsvc.core.workdays import WorkCalendar
from certsvc.errors import Conflict, ValidationFailed
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.people.service import name_matches
from certsvc.policy import Permission, ensure, orgs_in_scope
from certsvc.registry.certificates import ParsedCertificate, parse_certificate
from certsvc.registry.models import Certificate, ExpiryReminder, Token, TokenEvent, TokenKind, TokenReturn, TokenState
from certsvc.registry.tokens import change_state, first_event, move
from certsvc.timeutil import VIETNAM_TZ, to_vietnam, utcnow

__all__ = [
    "CertificateStatus", "RETURN_WORKING_DAYS", "RECOVERABLE", "RegistrySettings",
    "get_certificate", "get_token", "get_or_create_token", "register_certificate", "revoke_certificate",
    "due_back_message",
    "recover_token", "transition_token", "certificate_status", "status_clause", "Page", "find_certificates",
    "find_tokens", "BoardRow", "ReturnRow", "ExpiryBoard", "expiry_board", "record_expiry_reminders",
    "open_returns", "register_upload", "record_past_revocation", "holder_choices", "predecessor_choices",
    "certificates_on", "replacements_of", "pending_returns", "mark_entered_in_error", "in_register",
]

T = TypeVar("T")

#: After a revocation the managing body returns the token to the CA within this many working days.
RETURN_WORKING_DAYS = 5
#: States from which putting a token back in service counts as a recovery (Mẫu 06).
RECOVERABLE = frozenset({TokenState.PIN_LOCKED, TokenState.DAMAGED})
#: States in which a token cannot carry a newly issued certificate.
_UNUSABLE = frozenset({TokenState.LOST, TokenState.RETURNED, TokenState.DESTROYED})


@dataclass(frozen=True)
class RegistrySettings:
    """``CERTSVC_EXPIRY_WARNING_DAYS``, ``CERTSVC_REMINDER_DAYS`` and the work calendar (holidays)."""

    #: How close to its expiry a certificate counts as "expiring", in days.
    warning_days: int = setting_default("CERTSVC_EXPIRY_WARNING_DAYS")
    #: Days before expiry at which a reminder is recorded, largest first.
    reminder_thresholds: tuple[int, ...] = setting_default("CERTSVC_REMINDER_DAYS")
    calendar: WorkCalendar = WorkCalendar()

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> RegistrySettings:
        """From the app's config, checked by :func:`certsvc.config.setting_value`; the calendar is the one
        :func:`certsvc.config.load_config` built (the package's alone when missing)."""
        calendar = config.get(WORK_CALENDAR)
        return cls(warning_days=setting_value(config, "CERTSVC_EXPIRY_WARNING_DAYS"),
                   reminder_thresholds=setting_value(config, "CERTSVC_REMINDER_DAYS"),
                   calendar=calendar if isinstance(calendar, WorkCalendar) else cls.calendar)


class CertificateStatus(LabelledEnum):
    """Where a certificate stands at a given moment."""

    VALID = "valid", "Còn hiệu lực"
    EXPIRING = "expiring", "Sắp hết hạn"
    EXPIRED = "expired", "Đã hết hạn"
    REVOKED = "revoked", "Đã thu hồi"

    @property
    def tone(self) -> str:
        """The badge colour: ok, warn or bad."""
        return {"valid": "ok", "expiring": "warn"}.get(self.value, "bad")


def certificate_status(cert: Certificate, now: datetime, *, warn_days: int) -> CertificateStatus:
    """Revoked once ``revoked_at`` has come; expired after ``not_after`` (the last valid moment);
    expiring when ``not_after`` is at most ``warn_days`` (:attr:`RegistrySettings.warning_days`) ahead."""
    if cert.revoked_at is not None and cert.revoked_at <= now:
        return CertificateStatus.REVOKED
    if now > cert.not_after:
        return CertificateStatus.EXPIRED
    if cert.not_after <= now + timedelta(days=warn_days):
        return CertificateStatus.EXPIRING
    return CertificateStatus.VALID


def status_clause(status: CertificateStatus, now: datetime, *, warn_days: int) -> ColumnElement[bool]:
    """The SQL condition equivalent to ``certificate_status(...) == status``."""
    revoked = and_(Certificate.revoked_at.is_not(None), Certificate.revoked_at <= now)
    if status is CertificateStatus.REVOKED:
        return revoked
    live = or_(Certificate.revoked_at.is_(None), Certificate.revoked_at > now)
    horizon = now + timedelta(days=warn_days)
    if status is CertificateStatus.EXPIRED:
        return and_(live, Certificate.not_after < now)
    if status is CertificateStatus.EXPIRING:
        return and_(live, Certificate.not_after >= now, Certificate.not_after <= horizon)
    return and_(live, Certificate.not_after > horizon)


def _vietnam_day(moment: datetime) -> date:
    return to_vietnam(moment).date()


def _authorise(session: Session, by: Account | Actor, organisation_id: int) -> Actor:
    """The audit actor for ``by``, once an account is found to manage the registry at the organisation."""
    if isinstance(by, Actor):
        return by
    ensure(session, by, Permission.MANAGE_REGISTRY, organisation_id)
    return Actor.of(by)


def get_certificate(session: Session, certificate_id: object) -> Certificate:
    return get_record(session, Certificate, certificate_id, "Không tìm thấy chứng thư số này.")


def get_token(session: Session, token_id: object) -> Token:
    return get_record(session, Token, token_id, "Không tìm thấy thiết bị lưu khóa bí mật này.")


def _clean_serial(value: object) -> str:
    serial = clean_text(str(value or ""), required=True, max_length=64)
    if not serial.replace("-", "").replace("_", "").isalnum():
        raise FieldError("Số sê-ri thiết bị chỉ gồm chữ, số, dấu gạch.")
    return serial


def _find_or_new_token(
    session: Session, serial: str, *, kind: TokenKind, organisation_id: int, holder_id: int | None,
    model: str | None,
) -> tuple[Token, bool]:
    """The token with ``serial`` if it may take this certificate, else a new ACTIVE one (not yet added)."""
    token = session.scalar(select(Token).where(Token.serial == serial))
    if token is None:
        return Token(serial=serial, model=model, kind=kind, organisation_id=organisation_id,
                     holder_id=holder_id if kind is TokenKind.PERSONAL else None, state=TokenState.ACTIVE,
                     is_secret=kind is TokenKind.ORGANISATION, recoveries=0, replacements=0), True
    if token.organisation_id != organisation_id:
        raise ValidationFailed({"token_serial": f"Thiết bị {serial} do {token.organisation.name} quản lý."})
    if token.kind is not kind:
        raise ValidationFailed({"token_serial": f"Thiết bị {serial} là thiết bị loại «{token.kind.label}»."})
    if token.state in _UNUSABLE:
        raise ValidationFailed({"token_serial": f"Thiết bị {serial} đang ở trạng thái «{token.state.label}»."})
    if token.holder_id is not None and holder_id is not None and token.holder_id != holder_id:
        raise ValidationFailed({"token_serial": f"Thiết bị {serial} là thiết bị cá nhân của {token.holder.full_name}: "
                                                "chỉ người được cấp giữ và sử dụng."})
    return token, False


def get_or_create_token(
    session: Session, by: Account | Actor, serial: str, *, kind: TokenKind, organisation_id: int,
    holder_id: int | None = None, model: str | None = None,
) -> Token:
    """The token with ``serial`` (it must belong to the organisation and be of ``kind``), or a new
    one in service (ACTIVE); a new token writes one audit entry."""
    actor = _authorise(session, by, organisation_id)
    fields = FieldCollector({"serial": serial, "model": model})
    serial = fields.take("serial", _clean_serial)
    model = fields.take("model", lambda v: clean_text(v, max_length=100))
    fields.raise_if_failed()
    token, created = _find_or_new_token(session, serial, kind=kind, organisation_id=organisation_id,
                                        holder_id=holder_id, model=model)
    if created:
        session.add(token)
        first_event(session, actor, token, "Ghi nhận thiết bị vào sổ theo dõi.")
        record(session, actor, "token.registered", "token", token.id,
               {"serial": token.serial, "kind": kind.value, "organisation_id": organisation_id})
    return token


def _check_registration(
    session: Session, parsed: ParsedCertificate, kind: TokenKind, organisation_id: int, holder_id: int | None,
    predecessor: Certificate | None,
) -> None:
    errors: dict[str, str] = {}
    if session.get(Organisation, organisation_id) is None:
        errors["organisation_id"] = "Đơn vị không tồn tại."
    if holder_id is not None and session.get(Person, holder_id) is None:
        errors["holder_id"] = "Người được cấp không tồn tại."
    if kind is TokenKind.PERSONAL and holder_id is None:
        errors["holder_id"] = "Chứng thư cá nhân phải có người được cấp."
    same = session.scalar(select(Certificate).where(or_(
        Certificate.sha256 == parsed.sha256,
        and_(Certificate.issuer_dn == parsed.issuer_dn, Certificate.serial_hex == parsed.serial_hex))))
    if same is not None:
        errors["file"] = f"Chứng thư số này đã có trong sổ theo dõi (số hiệu {same.serial_hex}, {same.subject_cn})."
    if predecessor is not None and predecessor.successor is not None:
        errors["predecessor_id"] = (
            f"Chứng thư {predecessor.serial_hex} đã được thay bằng chứng thư {predecessor.successor.serial_hex}."
        )
    if errors:
        raise ValidationFailed(errors)


def register_certificate(
    session: Session, by: Account | Actor, parsed: ParsedCertificate, *, kind: TokenKind, organisation_id: int,
    holder_id: int | None = None, token_serial: str | None = None, predecessor: Certificate | None = None,
) -> Certificate:
    """Record a certificate the CA issued, with one audit entry.

    Refuses one already registered (same SHA-256, or same issuer and serial). Links it to the token
    ``token_serial``, creating that token (ACTIVE, "MẬT" for an organisation token) when unknown; with
    no serial, a renewal stays on its predecessor's token. A new token that takes over from the
    predecessor's token records which token it replaced. ``predecessor`` is the certificate this one
    renews or replaces: it must not have a successor already.
    """
    actor = _authorise(session, by, organisation_id)
    _check_registration(session, parsed, kind, organisation_id, holder_id, predecessor)
    try:
        cert, token, created = _register(session, actor, parsed, kind, organisation_id, holder_id, token_serial,
                                         predecessor)
    except IntegrityError:  # registered at the same moment by someone else
        raise ValidationFailed(
            {"file": "Chứng thư số hoặc thiết bị này vừa được đăng ký: tải lại trang để kiểm tra."}) from None
    record(session, actor, "certificate.registered", "certificate", cert.id, {
        "serial": cert.serial_hex, "sha256": cert.sha256, "subject": cert.subject_dn, "kind": kind.value,
        "organisation_id": organisation_id, "holder_id": holder_id,
        "token": token.serial if token else None, "token_created": created,
        "predecessor_id": predecessor.id if predecessor else None,
    })
    return cert


def _register(
    session: Session, actor: Actor, parsed: ParsedCertificate, kind: TokenKind, organisation_id: int,
    holder_id: int | None, token_serial: str | None, predecessor: Certificate | None,
) -> tuple[Certificate, Token | None, bool]:
    """The writes of :func:`register_certificate`: the token (found, put in service or created) and the certificate."""
    token, created = None, False
    if token_serial is not None and str(token_serial).strip():
        fields = FieldCollector({"token_serial": token_serial})
        serial = fields.take("token_serial", _clean_serial)
        fields.raise_if_failed()
        token, created = _find_or_new_token(session, serial, kind=kind, organisation_id=organisation_id,
                                            holder_id=holder_id, model=None)
    elif predecessor is not None and predecessor.token is not None and predecessor.token.state not in _UNUSABLE:
        token = predecessor.token
    if created:
        old = predecessor.token if predecessor is not None else None
        if old is not None:
            token.replaces, token.replacements = old, old.replacements + 1
        session.add(token)
        first_event(session, actor, token, f"Nhận thiết bị kèm chứng thư số {parsed.serial_hex}.")
    elif token is not None and token.state is TokenState.IN_STOCK:
        move(session, actor, token, TokenState.ACTIVE, f"Cấp phát kèm chứng thư số {parsed.serial_hex}.")
    cert = Certificate(
        serial_hex=parsed.serial_hex, subject_dn=parsed.subject_dn, subject_cn=parsed.common_name,
        subject_uid=parsed.uid, issuer_dn=parsed.issuer_dn,
        not_before=parsed.not_before, not_after=parsed.not_after,
        key_usage=", ".join(parsed.key_usage)[:255] or None, sha1=parsed.sha1, sha256=parsed.sha256,
        der=parsed.der, kind=kind, organisation_id=organisation_id, holder_id=holder_id, token=token,
        predecessor=predecessor,
    )
    session.add(cert)
    session.flush()
    return cert, token, created


def holder_choices(session: Session, org_ids: Collection[int]) -> list[Person]:
    """People who may be named holder of a certificate of ``org_ids``: the active staff of those units."""
    return list(session.scalars(
        select(Person).where(Person.organisation_id.in_(set(org_ids)), Person.is_active)
        .options(selectinload(Person.organisation)).order_by(Person.full_name, Person.id)))


def predecessor_choices(session: Session, org_ids: Collection[int]) -> list[Certificate]:
    """Certificates of ``org_ids`` that a new one may renew or replace: not yet succeeded."""
    return list(session.scalars(
        select(Certificate).where(Certificate.organisation_id.in_(set(org_ids)), _not_renewed(), in_register())
        .order_by(Certificate.subject_cn, Certificate.not_after)))


def _choice_in(ids: Collection[int], message: str, *, required: bool):
    def clean(value: object) -> int | None:
        if value in (None, ""):
            if required:
                raise FieldError(message)
            return None
        number = to_id(value)
        if number not in ids:
            raise FieldError(message)
        return number
    return clean


def _clean_kind(value: object) -> TokenKind:
    try:
        return TokenKind(str(value or ""))
    except ValueError:
        raise FieldError("Chọn loại chứng thư.") from None


def register_upload(session: Session, by: Account, raw: Mapping[str, object], data: bytes) -> Certificate:
    """The upload form: register the certificate in ``data`` for the unit, holder, token and predecessor
    chosen in ``raw`` (each within the units ``by`` manages). Every problem is reported at once."""
    manageable = orgs_in_scope(session, by, Permission.MANAGE_REGISTRY)
    fields = FieldCollector(raw)
    org_id = fields.take("organisation_id", _choice_in(manageable, "Chọn đơn vị bạn quản lý.", required=True))
    kind = fields.take("kind", _clean_kind)
    holders = {p.id for p in holder_choices(session, manageable)}
    holder_id = fields.take("holder_id", _choice_in(holders, "Chọn người được cấp trong danh sách.", required=False))
    earlier = {c.id for c in predecessor_choices(session, manageable)}
    predecessor_id = fields.take("predecessor_id", _choice_in(earlier, "Chọn chứng thư trong danh sách.",
                                                              required=False))
    fields.take("token_serial", lambda v: _clean_serial(v) if str(v or "").strip() else None)
    try:
        parsed = parse_certificate(data)
    except ValidationFailed as failure:
        fields.fail("file", failure.field_errors["file"])
    fields.raise_if_failed()
    return register_certificate(
        session, by, parsed, kind=kind, organisation_id=org_id, holder_id=holder_id,
        token_serial=fields.values["token_serial"],
        predecessor=session.get(Certificate, predecessor_id) if predecessor_id else None,
    )


def record_past_revocation(
    session: Session, by: Account | Actor, certificate: Certificate, *, revoked_on: date | None, reason: str,
    calendar: WorkCalendar, now: datetime | None = None,
) -> None:
    """Record a revocation the CA has already made, dated ``revoked_on`` (Vietnam calendar, today or
    earlier): it took effect now when dated today, else at the start of that day. ``calendar`` as for
    :func:`revoke_certificate`."""
    now = now or utcnow()
    if revoked_on is None or revoked_on > _vietnam_day(now):
        raise ValidationFailed({"revoked_on": "Ghi ngày thu hồi, không muộn hơn hôm nay."})
    try:
        bounded_day(revoked_on)
    except FieldError as error:
        raise ValidationFailed({"revoked_on": str(error)}) from None
    moment = now if revoked_on == _vietnam_day(now) else (
        datetime.combine(revoked_on, time(0), VIETNAM_TZ).astimezone(UTC))
    revoke_certificate(session, by, certificate, revoked_at=moment, reason=reason, calendar=calendar)


def mark_entered_in_error(session: Session, by: Account | Actor, certificate: Certificate, reason: str) -> None:
    """Mark a certificate record entered in error (one audit entry): kept, never deleted, but out of the
    lists, boards, reminders and requests (see :func:`in_register`). Once only."""
    actor = _authorise(session, by, certificate.organisation_id)
    fields = FieldCollector({"reason": reason})
    reason = fields.take("reason", lambda v: clean_text(v, required=True, max_length=255))
    fields.raise_if_failed()
    # Compare-and-set: of two people marking the record at once, one does.
    marked = session.execute(
        update(Certificate).where(Certificate.id == certificate.id, Certificate.entered_in_error_at.is_(None))
        .values(entered_in_error_at=utcnow(), entered_in_error_reason=reason))
    if marked.rowcount != 1:
        raise Conflict(f"Chứng thư {certificate.serial_hex} đã được đánh dấu ghi nhầm từ trước.",
                       code="already_entered_in_error")
    record(session, actor, "certificate.entered_in_error", "certificate", certificate.id, {
        "serial": certificate.serial_hex, "subject": certificate.subject_dn, "reason": reason})


def in_register() -> ColumnElement[bool]:
    """The certificates the registry counts: not marked entered in error."""
    return Certificate.entered_in_error_at.is_(None)


def certificates_on(session: Session, token: Token) -> list[Certificate]:
    """The certificates a token has carried, oldest first."""
    return list(session.scalars(select(Certificate).where(Certificate.token_id == token.id, in_register())
                                .order_by(Certificate.not_before, Certificate.id)))


def replacements_of(session: Session, token: Token) -> list[Token]:
    """The tokens that took over from ``token``."""
    return list(session.scalars(select(Token).where(Token.replaces_id == token.id).order_by(Token.id)))


def open_returns(session: Session, token_ids: Collection[int] | None = None) -> list[TokenReturn]:
    """Token returns not yet made, earliest due first (of ``token_ids`` when given)."""
    query = select(TokenReturn).where(TokenReturn.returned_at.is_(None))
    if token_ids is not None:
        query = query.where(TokenReturn.token_id.in_(set(token_ids)))
    return list(session.scalars(query.order_by(TokenReturn.due_on, TokenReturn.id)))


def due_back_message(token: Token) -> str:
    """Why a token with an open return to the CA (its certificate revoked) is not recovered."""
    return (f"Chứng thư số trên thiết bị «{token.serial}» đã bị thu hồi: thiết bị phải nộp lại cơ quan cấp, "
            "không khôi phục.")


def revoke_certificate(
    session: Session, by: Account | Actor, certificate: Certificate, *, revoked_at: datetime, reason: str,
    calendar: WorkCalendar,
) -> None:
    """Mark the certificate revoked (one audit entry) and, if its token is still out, open the token's
    return to the CA, due :data:`RETURN_WORKING_DAYS` working days (on ``calendar``) after the revocation date."""
    actor = _authorise(session, by, certificate.organisation_id)
    fields = FieldCollector({"reason": reason})
    reason = fields.take("reason", lambda v: clean_text(v, required=True, max_length=255))
    if revoked_at is None or revoked_at.tzinfo is None:
        fields.fail("revoked_at", "Thời điểm thu hồi không hợp lệ.")
    else:
        # The token's return is counted in working days from this date: it must be a plausible one.
        try:
            bounded_day(_vietnam_day(revoked_at))
        except FieldError as error:
            fields.fail("revoked_at", str(error))
    fields.raise_if_failed()
    if certificate.revoked_at is not None:
        raise Conflict(f"Chứng thư {certificate.serial_hex} đã thu hồi từ trước.", code="already_revoked")
    certificate.revoked_at, certificate.revocation_reason = revoked_at, reason
    token_return = None
    token = certificate.token
    if token is not None and token.state not in {TokenState.RETURNED, TokenState.DESTROYED} \
            and not open_returns(session, [token.id]):
        due = calendar.add_working_days(_vietnam_day(revoked_at), RETURN_WORKING_DAYS)
        token_return = TokenReturn(token=token, certificate=certificate, due_on=due)
        session.add(token_return)
    session.flush()
    record(session, actor, "certificate.revoked", "certificate", certificate.id, {
        "serial": certificate.serial_hex, "revoked_at": revoked_at.isoformat(), "reason": reason,
        "token_return_due": token_return.due_on.isoformat() if token_return else None,
    })


def recover_token(session: Session, by: Account | Actor, token: Token, reason: str) -> None:
    """Put a PIN-locked or damaged token back in service (ACTIVE): one event, one audit entry, recoveries + 1."""
    actor = _authorise(session, by, token.organisation_id)
    if token.state not in RECOVERABLE:
        raise Conflict(f"Chỉ khôi phục được thiết bị đang «{TokenState.PIN_LOCKED.label}» hoặc "
                       f"«{TokenState.DAMAGED.label}»; thiết bị {token.serial} đang «{token.state.label}».",
                       code="token_not_recoverable")
    if open_returns(session, [token.id]):
        raise Conflict(due_back_message(token), code="token_being_returned")
    token.recoveries += 1
    change_state(session, actor, token, TokenState.ACTIVE, reason, action="token.recovered",
                 details={"recoveries": token.recoveries})


def transition_token(session: Session, by: Account | Actor, token: Token, to: TokenState, reason: str) -> TokenEvent:
    """Any allowed state change, with one audit entry. Back to ACTIVE from PIN_LOCKED or DAMAGED is a
    recovery; to RETURNED closes the token's open returns to the CA."""
    actor = _authorise(session, by, token.organisation_id)
    if to is TokenState.ACTIVE and token.state in RECOVERABLE:
        recover_token(session, actor, token, reason)
        return token.events[-1]
    closing = open_returns(session, [token.id]) if to is TokenState.RETURNED else []
    event = change_state(session, actor, token, to, reason,
                         details={"returns_closed": [r.id for r in closing]} if closing else None)
    for token_return in closing:
        token_return.returned_at = event.occurred_at or utcnow()
    session.flush()
    return event


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a filtered list."""

    items: list[T]
    page: int
    pages: int
    total: int


def _page(rows: Sequence[T], page: int, per_page: int) -> Page[T]:
    pages = max(1, math.ceil(len(rows) / per_page))
    page = min(max(page, 1), pages)
    return Page(items=list(rows[(page - 1) * per_page: page * per_page]), page=page, pages=pages, total=len(rows))


def _text_matches(query: str, *values: str | None) -> bool:
    return any(value and name_matches(query, value) for value in values)


def find_certificates(
    session: Session, org_ids: Collection[int], *, now: datetime, warn_days: int,
    status: CertificateStatus | None = None, query: str = "", page: int = 1, per_page: int = 50,
) -> Page[Certificate]:
    """Certificates of ``org_ids`` in ``status`` (see :func:`certificate_status` for ``warn_days``), whose
    holder name, CN, serial or UID contains ``query``; soonest expiry first."""
    statement = (select(Certificate).where(Certificate.organisation_id.in_(set(org_ids)), in_register())
                 .options(selectinload(Certificate.holder), selectinload(Certificate.organisation),
                          selectinload(Certificate.token), selectinload(Certificate.successor))
                 .order_by(Certificate.not_after, Certificate.id))
    if status is not None:
        statement = statement.where(status_clause(status, now, warn_days=warn_days))
    rows = list(session.scalars(statement))
    if query.strip():
        rows = [c for c in rows if _text_matches(query, c.holder.full_name if c.holder else None, c.subject_cn,
                                                 c.serial_hex, c.subject_uid)]
    return _page(rows, page, per_page)


def find_tokens(
    session: Session, org_ids: Collection[int], *, state: TokenState | None = None, kind: TokenKind | None = None,
    query: str = "", page: int = 1, per_page: int = 50,
) -> Page[Token]:
    """Tokens of ``org_ids`` in ``state`` and of ``kind``, whose serial, model or holder contains ``query``."""
    statement = (select(Token).where(Token.organisation_id.in_(set(org_ids)))
                 .options(selectinload(Token.holder), selectinload(Token.organisation), selectinload(Token.replaces))
                 .order_by(Token.serial))
    if state is not None:
        statement = statement.where(Token.state == state)
    if kind is not None:
        statement = statement.where(Token.kind == kind)
    rows = list(session.scalars(statement))
    if query.strip():
        rows = [t for t in rows if _text_matches(query, t.serial, t.model, t.holder.full_name if t.holder else None)]
    return _page(rows, page, per_page)


@dataclass(frozen=True)
class BoardRow:
    """A certificate on the expiry board, with the days left and the reminders recorded for it."""

    certificate: Certificate
    days_left: int
    reminders: tuple[ExpiryReminder, ...]


@dataclass(frozen=True)
class ReturnRow:
    """A token return to the CA that is still to be made."""

    token_return: TokenReturn
    #: Working days from today to the due date (0 on the due day, negative once overdue).
    working_days_left: int
    overdue: bool


@dataclass(frozen=True)
class ExpiryBoard:
    #: (days, rows) for each window: certificates expiring within 30, then 31–60, then 61–90 days.
    windows: list[tuple[int, list[BoardRow]]]
    expired: list[BoardRow]
    returns: list[ReturnRow]


def _not_renewed() -> ColumnElement[bool]:
    renewal = aliased(Certificate)
    return ~exists().where(renewal.predecessor_id == Certificate.id)


def _live(now: datetime) -> ColumnElement[bool]:
    return or_(Certificate.revoked_at.is_(None), Certificate.revoked_at > now)


def pending_returns(
    session: Session, now: datetime, token_ids: Collection[int] | None = None, *, calendar: WorkCalendar,
) -> list[ReturnRow]:
    """The open token returns (of ``token_ids`` when given), with working days left on ``calendar`` and
    whether overdue."""
    today = _vietnam_day(now)
    return [ReturnRow(r, calendar.working_days_between(today, r.due_on), today > r.due_on)
            for r in open_returns(session, token_ids)]


def expiry_board(
    session: Session, org_ids: Collection[int], now: datetime, windows: Sequence[int] = (30, 60, 90), *,
    calendar: WorkCalendar,
) -> ExpiryBoard:
    """Certificates of ``org_ids`` that are neither revoked nor renewed, expiring within the largest
    window or already expired; and the open token returns of those units (working days on ``calendar``)."""
    windows = sorted(windows)
    certs = list(session.scalars(
        select(Certificate)
        .where(Certificate.organisation_id.in_(set(org_ids)), _live(now), _not_renewed(), in_register(),
               Certificate.not_after <= now + timedelta(days=windows[-1]))
        .options(selectinload(Certificate.holder), selectinload(Certificate.organisation),
                 selectinload(Certificate.token))
        .order_by(Certificate.not_after, Certificate.id)))
    reminders: dict[int, list[ExpiryReminder]] = {}
    if certs:
        for reminder in session.scalars(select(ExpiryReminder)
                                        .where(ExpiryReminder.certificate_id.in_([c.id for c in certs]))
                                        .order_by(ExpiryReminder.recorded_at)):
            reminders.setdefault(reminder.certificate_id, []).append(reminder)
    today = _vietnam_day(now)
    buckets: dict[int, list[BoardRow]] = {days: [] for days in windows}
    expired: list[BoardRow] = []
    for cert in certs:
        row = BoardRow(cert, (_vietnam_day(cert.not_after) - today).days, tuple(reminders.get(cert.id, ())))
        if now > cert.not_after:
            expired.append(row)
        else:
            window = next(days for days in windows if cert.not_after <= now + timedelta(days=days))
            buckets[window].append(row)
    returns = [row for row in pending_returns(session, now, calendar=calendar)
               if row.token_return.token.organisation_id in org_ids]
    return ExpiryBoard(windows=[(days, buckets[days]) for days in windows], expired=expired[::-1], returns=returns)


def record_expiry_reminders(
    session: Session, now: datetime, *, thresholds: Sequence[int], actor: Actor = SYSTEM,
) -> list[ExpiryReminder]:
    """Record, once per certificate and threshold, that a certificate came within one of ``thresholds``
    (days, :attr:`RegistrySettings.reminder_thresholds`) of its expiry; one audit entry for the run when
    any is new.

    Only the tightest threshold reached counts (a certificate first seen 20 days before expiry gets
    the 30-day reminder, not also the 60- and 90-day ones). Revoked, expired and renewed certificates
    (those with a successor) get none.
    """
    thresholds = sorted(thresholds)
    candidates = list(session.scalars(
        select(Certificate)
        .where(_live(now), _not_renewed(), in_register(), Certificate.not_after >= now,
               Certificate.not_after <= now + timedelta(days=thresholds[-1]))
        .order_by(Certificate.not_after, Certificate.id)))
    done: dict[int, set[int]] = {}
    if candidates:
        for cert_id, days in session.execute(
            select(ExpiryReminder.certificate_id, ExpiryReminder.threshold_days)
            .where(ExpiryReminder.certificate_id.in_([c.id for c in candidates]))
        ):
            done.setdefault(cert_id, set()).add(days)
    recorded: list[ExpiryReminder] = []
    for cert in candidates:
        threshold = next(days for days in thresholds if cert.not_after <= now + timedelta(days=days))
        if any(days <= threshold for days in done.get(cert.id, ())):
            continue
        reminder = ExpiryReminder(certificate_id=cert.id, threshold_days=threshold, recorded_at=now)
        session.add(reminder)
        recorded.append(reminder)
    if recorded:
        session.flush()
        record(session, actor, "certificate.expiry_reminders", "certificate", None,
               {"reminders": [[r.certificate_id, r.threshold_days] for r in recorded]})
    return recorded
