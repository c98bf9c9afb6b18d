"""The expiry board, the expiry reminders and the token returns still to be made to the CA.

Reads the registry and records reminders; registering certificates and tokens is
:mod:`certsvc.registry.registration`, revoking certificates and moving tokens :mod:`certsvc.registry.service`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from certsvc.audit.service import SYSTEM, Actor, record
from certsvc.core.workdays import WorkCalendar
from certsvc.registry.models import Certificate, ExpiryReminder, TokenReturn
from certsvc.registry.service import in_register, not_renewed, open_returns
from certsvc.timeutil import to_vietnam

__all__ = ["BoardRow", "ReturnRow", "ExpiryBoard", "pending_returns", "expiry_board", "record_expiry_reminders"]


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


def _live(now: datetime) -> ColumnElement[bool]:
    return or_(Certificate.revoked_at.is_(None), Certificate.revoked_at > now)


def pending_returns(
    session: Session,
    now: datetime,
    token_ids: Collection[int] | None = None,
    *,
    calendar: WorkCalendar,
) -> list[ReturnRow]:
    """The open token returns (of ``token_ids`` when given), with working days left on ``calendar`` and
    whether overdue."""
    today = to_vietnam(now).date()
    return [
        ReturnRow(r, calendar.working_days_between(today, r.due_on), today > r.due_on)
        for r in open_returns(session, token_ids)
    ]


def expiry_board(
    session: Session,
    org_ids: Collection[int],
    now: datetime,
    windows: Sequence[int] = (30, 60, 90),
    *,
    calendar: WorkCalendar,
) -> ExpiryBoard:
    """Certificates of ``org_ids`` that are neither revoked nor renewed, expiring within the largest
    window or already expired; and the open token returns of those units (working days on ``calendar``)."""
    windows = sorted(windows)
    certs = list(
        session.scalars(
            select(Certificate)
            .where(
                Certificate.organisation_id.in_(set(org_ids)),
                _live(now),
                not_renewed(),
                in_register(),
                Certificate.not_after <= now + timedelta(days=windows[-1]),
            )
            .options(
                selectinload(Certificate.holder),
                selectinload(Certificate.organisation),
                selectinload(Certificate.token),
            )
            .order_by(Certificate.not_after, Certificate.id)
        )
    )
    reminders: dict[int, list[ExpiryReminder]] = {}
    if certs:
        for reminder in session.scalars(
            select(ExpiryReminder)
            .where(ExpiryReminder.certificate_id.in_([c.id for c in certs]))
            .order_by(ExpiryReminder.recorded_at)
        ):
            reminders.setdefault(reminder.certificate_id, []).append(reminder)
    today = to_vietnam(now).date()
    buckets: dict[int, list[BoardRow]] = {days: [] for days in windows}
    expired: list[BoardRow] = []
    for cert in certs:
        row = BoardRow(cert, (to_vietnam(cert.not_after).date() - today).days, tuple(reminders.get(cert.id, ())))
        if now > cert.not_after:
            expired.append(row)
        else:
            window = next(days for days in windows if cert.not_after <= now + timedelta(days=days))
            buckets[window].append(row)
    returns = [
        row
        for row in pending_returns(session, now, calendar=calendar)
        if row.token_return.token.organisation_id in org_ids
    ]
    return ExpiryBoard(windows=[(days, buckets[days]) for days in windows], expired=expired[::-1], returns=returns)


def record_expiry_reminders(
    session: Session,
    now: datetime,
    *,
    thresholds: Sequence[int],
    actor: Actor = SYSTEM,
) -> list[ExpiryReminder]:
    """Record, once per certificate and threshold, that a certificate came within one of ``thresholds``
    (days, :attr:`~certsvc.registry.service.RegistrySettings.reminder_thresholds`) of its expiry; one
    audit entry for the run when any is new.

    Only the tightest threshold reached counts (a certificate first seen 20 days before expiry gets
    the 30-day reminder, not also the 60- and 90-day ones). Revoked, expired and renewed certificates
    (those with a successor) get none.
    """
    thresholds = sorted(thresholds)
    candidates = list(
        session.scalars(
            select(Certificate)
            .where(
                _live(now),
                not_renewed(),
                in_register(),
                Certificate.not_after >= now,
                Certificate.not_after <= now + timedelta(days=thresholds[-1]),
            )
            .order_by(Certificate.not_after, Certificate.id)
        )
    )
    done: dict[int, set[int]] = {}
    if candidates:
        for cert_id, days in session.execute(
            select(ExpiryReminder.certificate_id, ExpiryReminder.threshold_days).where(
                ExpiryReminder.certificate_id.in_([c.id for c in candidates])
            )
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
        record(
            session,
            actor,
            "certificate.expiry_reminders",
            "certificate",
            None,
            {"reminders": [[r.certificate_id, r.threshold_days] for r in recorded]},
        )
    return recorded
