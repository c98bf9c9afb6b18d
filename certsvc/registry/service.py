"""Rules of the certificate and token registries.

Every function that changes something writes exactly one audit entry in the caller's
transaction; the caller commits, or rolls back on an error. Functions taking ``by`` check
:data:`Permission.MANAGE_REGISTRY` at the organisation concerned when ``by`` is an
account; a system :class:`Actor` (demo, command line) is trusted.

Registering certificates and their tokens is :mod:`certsvc.registry.registration`; the lists are
:mod:`certsvc.registry.listing`, the expiry board and reminders :mod:`certsvc.registry.expiry`.

Settings (warning days, reminder thresholds, the work calendar) are required parameters: no rule
of the registry reads the app config. The edges (pages, API, commands, the demo) build a
:class:`RegistrySettings` from their app's config and pass the values the rules need.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import cast

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.config import WORK_CALENDAR, setting_default, setting_value
from certsvc.core.enums import LabelledEnum
from certsvc.core.records import get_record
from certsvc.core.validation import FieldCollector, FieldError, bounded_day, clean_text
from certsvc.core.workdays import WorkCalendar
from certsvc.errors import Conflict, ValidationFailed
from certsvc.policy import Permission, ensure
from certsvc.registry.models import Certificate, Token, TokenEvent, TokenReturn, TokenState
from certsvc.registry.tokens import change_state
from certsvc.timeutil import VIETNAM_TZ, to_vietnam, utcnow

__all__ = [
    "CertificateStatus",
    "RETURN_WORKING_DAYS",
    "RECOVERABLE",
    "RegistrySettings",
    "get_certificate",
    "get_token",
    "revoke_certificate",
    "due_back_message",
    "recover_token",
    "transition_token",
    "certificate_status",
    "status_clause",
    "open_returns",
    "record_past_revocation",
    "certificates_on",
    "replacements_of",
    "mark_entered_in_error",
    "in_register",
    "not_renewed",
    "authorise",
]

#: After a revocation the managing body returns the token to the CA within this many working days.
RETURN_WORKING_DAYS = 5
#: States from which putting a token back in service counts as a recovery (Mẫu 06).
RECOVERABLE = frozenset({TokenState.PIN_LOCKED, TokenState.DAMAGED})


@dataclass(frozen=True)
class RegistrySettings:
    """``CERTSVC_EXPIRY_WARNING_DAYS``, ``CERTSVC_REMINDER_DAYS`` and the work calendar (holidays)."""

    #: How close to its expiry a certificate counts as "expiring", in days.
    warning_days: int = setting_default("CERTSVC_EXPIRY_WARNING_DAYS")
    #: Days before expiry at which a reminder is recorded, largest first.
    reminder_thresholds: tuple[int, ...] = setting_default("CERTSVC_REMINDER_DAYS")
    calendar: WorkCalendar = field(default_factory=WorkCalendar)

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> RegistrySettings:
        """From the app's config, checked by :func:`certsvc.config.setting_value`; the calendar is the one
        :func:`certsvc.config.load_config` built (the package's alone when missing)."""
        calendar = config.get(WORK_CALENDAR)
        return cls(
            warning_days=setting_value(config, "CERTSVC_EXPIRY_WARNING_DAYS"),
            reminder_thresholds=setting_value(config, "CERTSVC_REMINDER_DAYS"),
            calendar=calendar if isinstance(calendar, WorkCalendar) else WorkCalendar(),
        )


class CertificateStatus(LabelledEnum):
    """Where a certificate stands at a given moment."""

    VALID = "valid", "Còn hiệu lực"
    EXPIRING = "expiring", "Sắp hết hạn"
    EXPIRED = "expired", "Đã hết hạn"
    REVOKED = "revoked", "Đã thu hồi"

    @property
    def tone(self) -> str:
        """The badge colour: ok, warn or bad."""
        return {CertificateStatus.VALID: "ok", CertificateStatus.EXPIRING: "warn"}.get(self, "bad")


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


def authorise(session: Session, by: Account | Actor, organisation_id: int) -> Actor:
    """The audit actor for ``by``, once an account is found to manage the registry at the organisation."""
    if isinstance(by, Actor):
        return by
    ensure(session, by, Permission.MANAGE_REGISTRY, organisation_id)
    return Actor.of(by)


def get_certificate(session: Session, certificate_id: object) -> Certificate:
    return get_record(session, Certificate, certificate_id, "Không tìm thấy chứng thư số này.")


def get_token(session: Session, token_id: object) -> Token:
    return get_record(session, Token, token_id, "Không tìm thấy thiết bị lưu khóa bí mật này.")


def record_past_revocation(
    session: Session,
    by: Account | Actor,
    certificate: Certificate,
    *,
    revoked_on: date | None,
    reason: str,
    calendar: WorkCalendar,
    now: datetime | None = None,
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
    moment = (
        now if revoked_on == _vietnam_day(now) else (datetime.combine(revoked_on, time(0), VIETNAM_TZ).astimezone(UTC))
    )
    revoke_certificate(session, by, certificate, revoked_at=moment, reason=reason, calendar=calendar)


def _clean_reason(value: str | None) -> str:
    return clean_text(value, required=True, max_length=255)


def mark_entered_in_error(session: Session, by: Account | Actor, certificate: Certificate, reason: str) -> None:
    """Mark a certificate record entered in error (one audit entry): kept, never deleted, but out of the
    lists, boards, reminders and requests (see :func:`in_register`). Once only."""
    actor = authorise(session, by, certificate.organisation_id)
    fields = FieldCollector({"reason": reason})
    cleaned_reason = fields.take("reason", _clean_reason)
    fields.raise_if_failed()
    # Compare-and-set: of two people marking the record at once, one does.
    marked = cast(
        CursorResult,
        session.execute(
            update(Certificate)
            .where(Certificate.id == certificate.id, Certificate.entered_in_error_at.is_(None))
            .values(entered_in_error_at=utcnow(), entered_in_error_reason=cleaned_reason)
        ),
    )
    if marked.rowcount != 1:
        raise Conflict(
            f"Chứng thư {certificate.serial_hex} đã được đánh dấu ghi nhầm từ trước.", code="already_entered_in_error"
        )
    record(
        session,
        actor,
        "certificate.entered_in_error",
        "certificate",
        certificate.id,
        {"serial": certificate.serial_hex, "subject": certificate.subject_dn, "reason": cleaned_reason},
    )


def in_register() -> ColumnElement[bool]:
    """The certificates the registry counts: not marked entered in error."""
    return Certificate.entered_in_error_at.is_(None)


def certificates_on(session: Session, token: Token) -> list[Certificate]:
    """The certificates a token has carried, oldest first."""
    return list(
        session.scalars(
            select(Certificate)
            .where(Certificate.token_id == token.id, in_register())
            .order_by(Certificate.not_before, Certificate.id)
        )
    )


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
    return (
        f"Chứng thư số trên thiết bị «{token.serial}» đã bị thu hồi: thiết bị phải nộp lại cơ quan cấp, "
        "không khôi phục."
    )


def revoke_certificate(
    session: Session,
    by: Account | Actor,
    certificate: Certificate,
    *,
    revoked_at: datetime,
    reason: str,
    calendar: WorkCalendar,
) -> None:
    """Mark the certificate revoked (one audit entry) and, if its token is still out, open the token's
    return to the CA, due :data:`RETURN_WORKING_DAYS` working days (on ``calendar``) after the revocation date."""
    actor = authorise(session, by, certificate.organisation_id)
    fields = FieldCollector({"reason": reason})
    cleaned_reason = fields.take("reason", _clean_reason)
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
    certificate.revoked_at, certificate.revocation_reason = revoked_at, cleaned_reason
    token_return = None
    token = certificate.token
    if (
        token is not None
        and token.state not in {TokenState.RETURNED, TokenState.DESTROYED}
        and not open_returns(session, [token.id])
    ):
        due = calendar.add_working_days(_vietnam_day(revoked_at), RETURN_WORKING_DAYS)
        token_return = TokenReturn(token=token, certificate=certificate, due_on=due)
        session.add(token_return)
    session.flush()
    record(
        session,
        actor,
        "certificate.revoked",
        "certificate",
        certificate.id,
        {
            "serial": certificate.serial_hex,
            "revoked_at": revoked_at.isoformat(),
            "reason": cleaned_reason,
            "token_return_due": token_return.due_on.isoformat() if token_return else None,
        },
    )


def recover_token(session: Session, by: Account | Actor, token: Token, reason: str) -> None:
    """Put a PIN-locked or damaged token back in service (ACTIVE): one event, one audit entry, recoveries + 1."""
    actor = authorise(session, by, token.organisation_id)
    if token.state not in RECOVERABLE:
        raise Conflict(
            f"Chỉ khôi phục được thiết bị đang «{TokenState.PIN_LOCKED.label}» hoặc "
            f"«{TokenState.DAMAGED.label}»; thiết bị {token.serial} đang «{token.state.label}».",
            code="token_not_recoverable",
        )
    if open_returns(session, [token.id]):
        raise Conflict(due_back_message(token), code="token_being_returned")
    token.recoveries += 1
    change_state(
        session,
        actor,
        token,
        TokenState.ACTIVE,
        reason,
        action="token.recovered",
        details={"recoveries": token.recoveries},
    )


def transition_token(session: Session, by: Account | Actor, token: Token, to: TokenState, reason: str) -> TokenEvent:
    """Any allowed state change, with one audit entry. Back to ACTIVE from PIN_LOCKED or DAMAGED is a
    recovery; to RETURNED closes the token's open returns to the CA."""
    actor = authorise(session, by, token.organisation_id)
    if to is TokenState.ACTIVE and token.state in RECOVERABLE:
        recover_token(session, actor, token, reason)
        return token.events[-1]
    closing = open_returns(session, [token.id]) if to is TokenState.RETURNED else []
    event = change_state(
        session, actor, token, to, reason, details={"returns_closed": [r.id for r in closing]} if closing else None
    )
    for token_return in closing:
        token_return.returned_at = event.occurred_at or utcnow()
    session.flush()
    return event


def not_renewed() -> ColumnElement[bool]:
    """Certificates that no other certificate renews (none names them as its predecessor)."""
    renewal = aliased(Certificate)
    return ~exists().where(renewal.predecessor_id == Certificate.id)
