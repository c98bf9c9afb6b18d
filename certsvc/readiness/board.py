"""The readiness board: can each unit sign digitally today?

Per unit, the organisation's token and the head's token first, then every other holder of a valid personal
certificate; for each, the last check report, its result and failing checks with their hints, the certificate's
expiry, the token's state, and for the organisation's token its custody keeper (MẬT: only to whoever may see the
unit's custody register).

A unit is **sẵn sàng** (:attr:`UnitState.READY`) when its organisation token and its head's token each passed a
check with a verified test signature within ``check_days`` and neither certificate expires within
``warning_days``; otherwise :attr:`UnitBoard.missing` says what is missing, in words, and the state names the most
serious gap. The board reads a fixed number of queries whatever the number of units.

Filtering by state or failing check needs every unit's state: a server process works them out once and keeps
them under the database's readiness version (renewed by triggers on any change of what decides them, migration
0013) until the first moment the passing of time changes one (a check growing too old, a certificate coming
within the warning period or expiring).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Result,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    case,
    func,
    null,
    or_,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.sql.elements import Null

from certsvc.accounts.models import Account, Role, RoleAssignment
from certsvc.config import setting_default, setting_value
from certsvc.core.csvcells import excel_csv
from certsvc.core.enums import LabelledEnum
from certsvc.core.records import to_id
from certsvc.custody.models import keeper_names
from certsvc.documents.models import OutgoingDocument
from certsvc.errors import NotFound, PermissionDenied, ValidationFailed
from certsvc.orgs.models import Organisation
from certsvc.orgs.tree import OrgTree
from certsvc.people.models import Person
from certsvc.policy import Permission, orgs_in_scope
from certsvc.readiness.models import CheckedToken, CheckReport, CheckStatus, GoLive, ReadinessVersion
from certsvc.registry.models import Certificate, Token, TokenKind, TokenState
from certsvc.timeutil import format_vietnam, to_vietnam, utcnow
from token_agent.health import CHECK_IDS

__all__ = [
    "ReadinessSettings",
    "UnitState",
    "HolderRole",
    "LastCheck",
    "HolderRow",
    "UnitBoard",
    "Board",
    "BoardFilter",
    "clean_filter",
    "readiness_board",
    "board_csv",
]

#: Token states in which a token can sign.
_USABLE = frozenset({TokenState.ACTIVE})
#: A check counts as passed when nothing failed (a warning, say the certificate expires soon, is still a pass).
_PASSED = (CheckStatus.PASS, CheckStatus.WARN)


@dataclass(frozen=True)
class ReadinessSettings:
    """``CERTSVC_READINESS_CHECK_DAYS`` and the registry's ``CERTSVC_EXPIRY_WARNING_DAYS``."""

    #: A token counts as working when a check with a verified test signature passed within this many days.
    check_days: int = setting_default("CERTSVC_READINESS_CHECK_DAYS")
    #: A certificate this close to its expiry keeps its unit from being ready.
    warning_days: int = setting_default("CERTSVC_EXPIRY_WARNING_DAYS")

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> ReadinessSettings:
        return cls(
            check_days=setting_value(config, "CERTSVC_READINESS_CHECK_DAYS"),
            warning_days=setting_value(config, "CERTSVC_EXPIRY_WARNING_DAYS"),
        )


class UnitState(LabelledEnum):
    """A unit's readiness, by its most serious gap."""

    READY = "ready", "Sẵn sàng"
    INCOMPLETE = "incomplete", "Thiếu chứng thư số hoặc thiết bị"
    FAILING = "failing", "Thiết bị kiểm tra không đạt"
    UNCHECKED = "unchecked", "Chưa kiểm tra ký thử gần đây"
    EXPIRING = "expiring", "Chứng thư số sắp hết hạn"

    @property
    def tone(self) -> str:
        return "ok" if self is UnitState.READY else "warn" if self is UnitState.EXPIRING else "bad"


#: Most serious first: a unit's state is the first of these any of its gaps has.
_SEVERITY_ORDER = (UnitState.INCOMPLETE, UnitState.FAILING, UnitState.UNCHECKED, UnitState.EXPIRING)


class HolderRole(LabelledEnum):
    ORGANISATION = "organisation", "Thiết bị của cơ quan"
    HEAD = "head", "Thủ trưởng đơn vị"
    HOLDER = "holder", "Cá nhân có chứng thư số"


@dataclass(frozen=True)
class LastCheck:
    """The newest check of a token: when, what it found, and whether its test signature was verified."""

    checked_token_id: int
    report_id: int
    checked_at: datetime
    status: CheckStatus
    failing: tuple[dict[str, str], ...]
    test_signature_ok: bool

    def as_dict(self) -> dict:
        return {
            "checked_token_id": self.checked_token_id,
            "report_id": self.report_id,
            "checked_at": self.checked_at.isoformat(),
            "status": self.status.value,
            "failing_checks": list(self.failing),
            "test_signature_verified": self.test_signature_ok,
        }


@dataclass(frozen=True)
class HolderRow:
    """One line of a unit: a certificate (or the lack of one) and the token it is on."""

    role: HolderRole
    holder_name: str
    person_id: int | None
    certificate_id: int | None
    certificate_serial: str | None
    not_after: datetime | None
    token_id: int | None
    token_serial: str | None
    token_state: TokenState | None
    last_check: LastCheck | None
    #: When a check with a verified test signature last passed.
    last_good_check: datetime | None
    #: What keeps this line from counting as working, in words; empty when it works.
    problems: tuple[str, ...]
    #: Custody keeper of an organisation token; None when nobody keeps it or the viewer may not know.
    keeper_name: str | None = None
    #: MẬT details (token serial, keeper) are withheld from this viewer.
    secret_hidden: bool = False
    #: Whether the holder approved (signed) a document in the period: None when not a personal certificate.
    signs: bool | None = None
    failing_ids: frozenset[str] = field(default_factory=frozenset)
    gap: UnitState | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "role": self.role.value,
            "holder_name": self.holder_name,
            "person_id": self.person_id,
            "certificate_id": self.certificate_id,
            "certificate_serial": self.certificate_serial,
            "not_after": self.not_after.isoformat() if self.not_after else None,
            "token_serial": self.token_serial,
            "token_state": self.token_state.value if self.token_state else None,
            "last_check": self.last_check.as_dict() if self.last_check else None,
            "last_good_check": self.last_good_check.isoformat() if self.last_good_check else None,
            "problems": list(self.problems),
            "keeper_name": self.keeper_name,
            "secret_hidden": self.secret_hidden,
            "signs_in_period": self.signs,
        }


@dataclass(frozen=True)
class UnitBoard:
    unit_id: int
    unit_name: str
    depth: int
    go_live_on: date | None
    rows: tuple[HolderRow, ...]

    @property
    def key_rows(self) -> tuple[HolderRow, ...]:
        return tuple(r for r in self.rows if r.role is not HolderRole.HOLDER)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(problem for row in self.key_rows for problem in row.problems)

    @property
    def state(self) -> UnitState:
        return _state(self.rows)

    @property
    def failing_ids(self) -> frozenset[str]:
        return frozenset(check for row in self.rows for check in row.failing_ids)

    def as_dict(self) -> dict:
        return {
            "unit_id": self.unit_id,
            "unit_name": self.unit_name,
            "state": self.state.value,
            "state_label": self.state.label,
            "missing": list(self.missing),
            "go_live_on": self.go_live_on.isoformat() if self.go_live_on else None,
            "rows": [row.as_dict() for row in self.rows],
        }


def _state(rows: tuple[HolderRow, ...]) -> UnitState:
    """The most serious gap of a unit's organisation and head lines, or READY."""
    gaps = {row.gap for row in rows if row.role is not HolderRole.HOLDER}
    return next((state for state in _SEVERITY_ORDER if state in gaps), UnitState.READY)


@dataclass(frozen=True)
class BoardFilter:
    unit_id: int | None = None
    state: UnitState | None = None
    failing_check: str | None = None


#: Units per page of the board's page (the CSV and the API have them all).
UNITS_PER_PAGE = 10


@dataclass(frozen=True)
class Board:
    #: The units shown: those the filter kept, one page of them when a page was asked for.
    units: tuple[UnitBoard, ...]
    settings: ReadinessSettings
    as_of: datetime
    #: Units per state: among all the unit filter kept when a state or check filter made the board work out
    #: every unit's state (or every unit is shown), else among the units shown (see ``counted_all``).
    counts: Mapping[UnitState, int]
    #: Units the filters kept, on every page.
    total: int
    page: int = 1
    pages: int = 1
    counted_all: bool = True
    #: The check ids the failing-check filter offers (token_agent's, see :mod:`token_agent.health`).
    check_ids: tuple[str, ...] = CHECK_IDS

    def count(self, state: UnitState) -> int:
        return self.counts.get(state, 0)


def clean_filter(raw: Mapping[str, object]) -> BoardFilter:
    """The board's filters from query parameters: ``unit`` (id), ``state`` and ``check`` (a check id)."""
    errors: dict[str, str] = {}
    unit_raw, state_raw, check_raw = (str(raw.get(name) or "").strip() for name in ("unit", "state", "check"))
    unit_id = to_id(unit_raw) if unit_raw else None
    if unit_raw and unit_id is None:
        errors["unit"] = "Đơn vị không hợp lệ."
    state = None
    if state_raw:
        try:
            state = UnitState(state_raw)
        except ValueError:
            errors["state"] = "Trạng thái không hợp lệ."
    if len(check_raw) > 64 or not all(c.isalnum() or c in "._" for c in check_raw):
        errors["check"] = "Mã kiểm tra không hợp lệ."
    if errors:
        raise ValidationFailed(errors)
    return BoardFilter(unit_id=unit_id, state=state, failing_check=check_raw or None)


class _CertificateFacts(NamedTuple):
    """The columns of a certificate the board reads (read as columns: loading records costs more than the rest)."""

    id: int
    serial_hex: str
    not_after: datetime
    kind: TokenKind
    holder_id: int | None
    organisation_id: int


class _TokenFacts(NamedTuple):
    id: int
    serial: str
    state: TokenState


@dataclass(frozen=True)
class _Held:
    """A valid certificate of a unit, its holder's name, the token it is on, and whether its holder signs
    documents (None when not asked, or for the organisation's certificate)."""

    certificate: _CertificateFacts
    holder_name: str
    token: _TokenFacts | None
    signs: bool | None

    @classmethod
    def of(cls, row: Sequence) -> _Held:
        """From a row of :func:`_certificates`."""
        certificate_id, serial, not_after, kind, holder, unit, name, token_id, token_serial, token_state, signs = row
        token = _TokenFacts(token_id, token_serial, token_state) if token_id is not None else None
        return cls(
            _CertificateFacts(certificate_id, serial, not_after, kind, holder, unit),
            name or "",
            token,
            None if signs is None else bool(signs),
        )


@dataclass
class _Facts:
    """What the queries found, by key."""

    heads: dict[int, list[tuple[int, str]]]
    certificates: dict[int, list[_Held]]
    last: dict[int, LastCheck]
    #: Failing check ids of the newest check of each of a unit's tokens, by unit.
    failing_by_unit: dict[int, set[str]]
    last_good: dict[int, datetime]
    keepers: dict[int, str | None]
    go_live: dict[int, date]


#: The statements of the board, built once: parameters ``units`` (organisation ids), ``now`` and ``since``.
_UNITS: BindParameter[int] = bindparam("units", expanding=True)

_IS_HEAD = RoleAssignment.role == Role.UNIT_HEAD
_ENABLED = Account.is_disabled.is_(False)

#: The people who head the units.
_HEAD_PEOPLE = (
    select(Account.person_id)
    .join(RoleAssignment, RoleAssignment.account_id == Account.id)
    .where(_IS_HEAD, _ENABLED, RoleAssignment.organisation_id.in_(_UNITS))
)

#: The units with their go-live dates and heads: one row per head, and one with no head for a unit without one.
_UNITS_AND_HEADS = (
    select(Organisation.id, GoLive.go_live_on, Person.id, Person.full_name)
    .outerjoin(GoLive, GoLive.organisation_id == Organisation.id)
    .outerjoin(RoleAssignment, and_(RoleAssignment.organisation_id == Organisation.id, _IS_HEAD))
    .outerjoin(Account, and_(Account.id == RoleAssignment.account_id, _ENABLED))
    .outerjoin(Person, Person.id == Account.person_id)
    .where(Organisation.id.in_(_UNITS))
    .order_by(Person.full_name, Person.id)
)


def _certificates(which: ColumnElement[bool], signs: ColumnElement[bool | None] | Null) -> Select:
    """The valid certificates of the units that ``which`` selects, with their holder's name and token, and
    ``signs``.

    The name and the token are looked up per certificate (by primary key): a join lets PostgreSQL read the whole
    person and token tables for the few certificates of one page."""

    def of_token(column: InstrumentedAttribute) -> ScalarSelect:
        return select(column).where(Token.id == Certificate.token_id).scalar_subquery()

    return (
        select(
            Certificate.id,
            Certificate.serial_hex,
            Certificate.not_after,
            Certificate.kind,
            Certificate.holder_id,
            Certificate.organisation_id,
            select(Person.full_name).where(Person.id == Certificate.holder_id).scalar_subquery(),
            Certificate.token_id,
            of_token(Token.serial),
            of_token(Token.state),
            signs,
        )
        .where(
            Certificate.organisation_id.in_(_UNITS),
            which,
            Certificate.revoked_at.is_(None),
            Certificate.entered_in_error_at.is_(None),
            Certificate.not_after > bindparam("now"),
        )
        .order_by(Certificate.not_after.desc(), Certificate.id)
    )


_SIGNING_CERTIFICATE = aliased(Certificate)
#: Whether the holder of a certificate approved a document ``since`` with any of their certificates: the
#: complement of the documents report's idle signers (:mod:`certsvc.documents.report`).
_HOLDER_SIGNS = (
    select(OutgoingDocument.id)
    .join(_SIGNING_CERTIFICATE, _SIGNING_CERTIFICATE.id == OutgoingDocument.personal_certificate_id)
    .where(
        _SIGNING_CERTIFICATE.holder_id == Certificate.holder_id,
        OutgoingDocument.approved_at >= bindparam("since"),
    )
    .exists()
)

#: Every valid certificate of the units shown: the organisation's, the heads' and every other holder's.
_SHOWN_CERTIFICATES = _certificates(
    Certificate.kind.in_((TokenKind.ORGANISATION, TokenKind.PERSONAL)),
    case((Certificate.kind == TokenKind.PERSONAL, _HOLDER_SIGNS)),
)
#: Only what decides the states: the organisation's certificates and the heads'.
_KEY_CERTIFICATES = _certificates(
    or_(
        Certificate.kind == TokenKind.ORGANISATION,
        and_(Certificate.kind == TokenKind.PERSONAL, Certificate.holder_id.in_(_HEAD_PEOPLE)),
    ),
    null(),
)

_PER_TOKEN = (
    select(
        func.max(CheckedToken.id).label("id"),
        func.max(
            case(
                (
                    and_(CheckedToken.test_signature_ok.is_(True), CheckedToken.status.in_(_PASSED)),
                    CheckReport.checked_at,
                )
            )
        ).label("good"),
    )
    .join(Token, Token.id == CheckedToken.token_id)
    .join(CheckReport, CheckReport.id == CheckedToken.report_id)
    .where(Token.organisation_id.in_(_UNITS))
    .group_by(CheckedToken.token_id)
    .subquery()
)
#: The newest check of every token of the units, with when a check with a verified test signature last passed.
_CHECKS = (
    select(
        CheckedToken.token_id,
        CheckedToken.id,
        CheckedToken.report_id,
        CheckReport.checked_at,
        CheckedToken.status,
        CheckedToken.failing_checks,
        CheckedToken.test_signature_ok,
        Token.organisation_id,
        _PER_TOKEN.c.good,
    )
    .join(_PER_TOKEN, _PER_TOKEN.c.id == CheckedToken.id)
    .join(CheckReport, CheckReport.id == CheckedToken.report_id)
    .join(Token, Token.id == CheckedToken.token_id)
)


def _checks(rows: Result) -> tuple[dict[int, LastCheck], dict[int, datetime], dict[int, set[str]]]:
    """From the rows of ``_CHECKS``: the newest check and when a check with a verified test signature last
    passed, by token; and the failing check ids of those newest checks, by unit."""
    last: dict[int, LastCheck] = {}
    good: dict[int, datetime] = {}
    failing: dict[int, set[str]] = defaultdict(set)
    for token_id, checked_id, report_id, checked_at, status, checks, signature_ok, unit, good_at in rows:
        last[token_id] = LastCheck(checked_id, report_id, checked_at, status, tuple(checks), signature_ok)
        if good_at is not None:
            good[token_id] = good_at
        failing[unit] |= {check["id"] for check in checks}
    return last, good, failing


def _facts(
    session: Session,
    units: frozenset[int],
    secret_scope: set[int],
    settings: ReadinessSettings,
    now: datetime,
    *,
    shown: bool,
) -> _Facts:
    """What decides the units' states: their heads, the organisation's and the heads' certificates, the checks;
    and their go-live dates.

    For units ``shown`` on the board, also every other holder of a valid personal certificate and who of them
    signs. The statements are built once and read as plain rows (columns, not records)."""
    session.flush()  # the plain connection does not flush what the session holds, as ``session.execute`` would
    connection = session.connection()
    ids = {"units": list(units)}
    heads: dict[int, list[tuple[int, str]]] = defaultdict(list)
    go_live: dict[int, date] = {}
    for org_id, go_live_on, person_id, name in connection.execute(_UNITS_AND_HEADS, ids):
        if person_id is not None:
            heads[org_id].append((person_id, name))
        if go_live_on is not None:
            go_live[org_id] = go_live_on
    since = now - timedelta(days=settings.check_days)
    certificates: dict[int, list[_Held]] = defaultdict(list)
    for row in connection.execute(
        _SHOWN_CERTIFICATES if shown else _KEY_CERTIFICATES, {**ids, "now": now, "since": since}
    ):
        held = _Held.of(row)
        certificates[held.certificate.organisation_id].append(held)
    org_tokens = [
        held.token.id
        for unit, rows in certificates.items()
        if unit in secret_scope
        for held in rows
        if held.certificate.kind is TokenKind.ORGANISATION and held.token is not None
    ]
    keepers = keeper_names(session, org_tokens) if org_tokens else {}
    last, last_good, failing_by_unit = _checks(connection.execute(_CHECKS, ids))
    return _Facts(
        heads=heads,
        certificates=certificates,
        last=last,
        failing_by_unit=failing_by_unit,
        last_good=last_good,
        keepers=keepers,
        go_live=go_live,
    )


def _row(
    role: HolderRole,
    name: str,
    held: _Held | None,
    facts: _Facts,
    settings: ReadinessSettings,
    now: datetime,
    *,
    secret: bool = False,
    hidden: bool = False,
) -> HolderRow:
    """The line of one certificate; what it lacks is only a gap for the organisation's and the head's."""
    if held is None:
        what = "chứng thư số của cơ quan" if role is HolderRole.ORGANISATION else "chứng thư số cá nhân"
        return HolderRow(
            role=role,
            holder_name=name,
            person_id=None,
            certificate_id=None,
            certificate_serial=None,
            not_after=None,
            token_id=None,
            token_serial=None,
            token_state=None,
            last_check=None,
            last_good_check=None,
            problems=(f"{name}: chưa có {what} còn hiệu lực.",),
            gap=UnitState.INCOMPLETE,
        )
    certificate, token = held.certificate, held.token
    last = facts.last.get(token.id) if token else None
    good = facts.last_good.get(token.id) if token else None
    problems: list[tuple[UnitState, str]] = []
    if token is None:
        problems.append((UnitState.INCOMPLETE, f"{name}: chứng thư số chưa gắn với thiết bị nào trong sổ."))
    elif token.state not in _USABLE:
        problems.append((UnitState.FAILING, f"{name}: thiết bị đang ở trạng thái «{token.state.label}»."))
    if last is not None and last.status is CheckStatus.FAIL:
        hints = "; ".join(check["message"] for check in last.failing if check.get("status") == "FAIL")
        problems.append((UnitState.FAILING, f"{name}: lần kiểm tra gần nhất không đạt ({hints})."))
    elif token is not None and (good is None or good < now - timedelta(days=settings.check_days)):
        problems.append(
            (
                UnitState.UNCHECKED,
                f"{name}: chưa có lần kiểm tra ký thử đạt trong {settings.check_days} ngày qua."
                if good is None
                else f"{name}: lần kiểm tra ký thử đạt gần nhất đã quá {settings.check_days} ngày "
                f"({format_vietnam(good)}).",
            )
        )
    if certificate.not_after - now < timedelta(days=settings.warning_days):
        problems.append(
            (
                UnitState.EXPIRING,
                f"{name}: chứng thư số hết hạn ngày {to_vietnam(certificate.not_after):%d/%m/%Y}.",
            )
        )
    counted = role is not HolderRole.HOLDER
    return HolderRow(
        role=role,
        holder_name=name,
        person_id=certificate.holder_id,
        certificate_id=certificate.id,
        certificate_serial=certificate.serial_hex,
        not_after=certificate.not_after,
        token_id=token.id if token else None,
        token_serial=None if hidden or token is None else token.serial,
        token_state=token.state if token else None,
        last_check=last,
        last_good_check=good,
        problems=tuple(text for _, text in problems),
        keeper_name=facts.keepers.get(token.id) if secret and token and not hidden else None,
        secret_hidden=hidden,
        signs=held.signs,
        failing_ids=frozenset(check["id"] for check in last.failing) if last else frozenset(),
        gap=next((state for state in _SEVERITY_ORDER if counted and any(s is state for s, _ in problems)), None),
    )


def _unit_rows(
    unit_id: int, facts: _Facts, settings: ReadinessSettings, now: datetime, secret_scope: set[int]
) -> tuple[HolderRow, ...]:
    certificates = facts.certificates.get(unit_id, [])
    organisation = next((h for h in certificates if h.certificate.kind is TokenKind.ORGANISATION), None)
    hidden = unit_id not in secret_scope
    rows = [
        _row(
            HolderRole.ORGANISATION,
            "Thiết bị của cơ quan",
            organisation,
            facts,
            settings,
            now,
            secret=True,
            hidden=hidden,
        )
    ]
    personal: dict[int, _Held] = {}
    for held in certificates:
        if held.certificate.kind is TokenKind.PERSONAL and held.certificate.holder_id is not None:
            personal.setdefault(held.certificate.holder_id, held)
    heads = facts.heads.get(unit_id, [])
    if not heads:
        rows.append(
            HolderRow(
                role=HolderRole.HEAD,
                holder_name="Thủ trưởng đơn vị",
                person_id=None,
                certificate_id=None,
                certificate_serial=None,
                not_after=None,
                token_id=None,
                token_serial=None,
                token_state=None,
                last_check=None,
                last_good_check=None,
                problems=("Chưa có tài khoản thủ trưởng đơn vị.",),
                gap=UnitState.INCOMPLETE,
            )
        )
    for person_id, head_name in heads:
        rows.append(_row(HolderRole.HEAD, head_name, personal.pop(person_id, None), facts, settings, now))
    for held in sorted(personal.values(), key=lambda h: (h.holder_name, h.certificate.id)):
        rows.append(_row(HolderRole.HOLDER, held.holder_name, held, facts, settings, now))
    return tuple(rows)


@dataclass(frozen=True)
class _UnitSummary:
    """What the board's filters ask of a unit: its state and the failing check ids of its tokens' newest checks."""

    state: UnitState
    failing: frozenset[str]


@dataclass(frozen=True)
class _Summaries:
    """Every unit's summary as worked out at ``as_of`` from the data of one readiness version; true until
    ``until``, when the passing of time changes a state."""

    units: Mapping[int, _UnitSummary]
    as_of: datetime
    until: datetime


#: Summaries worked out lately, by readiness version and settings; bounded, since tests open many databases.
_SUMMARIES: OrderedDict[tuple[str, ReadinessSettings], _Summaries] = OrderedDict()
_SUMMARIES_KEPT = 8
_SUMMARIES_LOCK = threading.Lock()


def _turning_point(facts: _Facts, settings: ReadinessSettings, now: datetime) -> datetime:
    """The first moment after ``now`` when time alone changes a state of the units of ``facts``: a passed check
    grows too old, a certificate comes within the warning period or expires."""
    moments = [good + timedelta(days=settings.check_days) for good in facts.last_good.values()]
    for rows in facts.certificates.values():
        for held in rows:
            not_after = held.certificate.not_after
            moments += (not_after - timedelta(days=settings.warning_days), not_after)
    return min((moment for moment in moments if moment > now), default=datetime.max.replace(tzinfo=UTC))


def _unit_summaries(
    session: Session, tree: OrgTree, units: frozenset[int], settings: ReadinessSettings, now: datetime
) -> Mapping[int, _UnitSummary]:
    """The summary of each of ``units``: kept by this process under the readiness version, else worked out for
    every unit of ``tree``.

    The version is read before the rows: a change after it renews the version, so rows kept under a version are
    never older than it."""
    version = session.scalar(select(ReadinessVersion.version))
    key = (version or "", settings)
    with _SUMMARIES_LOCK:
        kept = _SUMMARIES.get(key)
    if kept is not None and kept.as_of <= now < kept.until and units <= kept.units.keys():
        return kept.units
    everyone = frozenset(tree.parent)
    facts = _facts(session, everyone, set(), settings, now, shown=False)
    summaries = _Summaries(
        units={
            unit: _UnitSummary(
                _state(_unit_rows(unit, facts, settings, now, set())), frozenset(facts.failing_by_unit.get(unit, ()))
            )
            for unit in everyone
        },
        as_of=now,
        until=_turning_point(facts, settings, now),
    )
    if version is not None:
        with _SUMMARIES_LOCK:
            _SUMMARIES[key] = summaries
            _SUMMARIES.move_to_end(key)
            while len(_SUMMARIES) > _SUMMARIES_KEPT:
                _SUMMARIES.popitem(last=False)
    return summaries.units


def readiness_board(
    session: Session,
    by: Account,
    settings: ReadinessSettings,
    wanted: BoardFilter = BoardFilter(),
    *,
    page: int | None = None,
) -> Board:
    """The board of every unit where ``by`` holds VIEW_READINESS (one unit when the filter names it), filtered;
    one page of :data:`UNITS_PER_PAGE` units when ``page`` is given (the states of all are worked out first).

    404 for a unit that does not exist, 403 for one outside the viewer's reach."""
    scope = frozenset(orgs_in_scope(session, by, Permission.VIEW_READINESS))
    if not scope:
        raise PermissionDenied()
    tree = OrgTree.load(session)
    if wanted.unit_id is not None:
        if wanted.unit_id not in tree.parent:
            raise NotFound("Không có đơn vị này.")
        if wanted.unit_id not in scope:
            raise PermissionDenied()
        scope = frozenset({wanted.unit_id})
    now = utcnow()
    secret_scope = orgs_in_scope(session, by, Permission.VIEW_CUSTODY)
    places = tree.in_tree_order(scope)
    counts: dict[UnitState, int] = {}
    kept = list(places)
    if wanted.state is not None or wanted.failing_check is not None:
        # Filtering needs every unit's state; the facts are then read for the units shown only.
        summaries = _unit_summaries(session, tree, scope, settings, now)
        for place in places:
            state = summaries[place.id].state
            counts[state] = counts.get(state, 0) + 1
        kept = [
            place
            for place in places
            if (wanted.state is None or summaries[place.id].state is wanted.state)
            and (wanted.failing_check is None or wanted.failing_check in summaries[place.id].failing)
        ]
    pages = max(1, -(-len(kept) // UNITS_PER_PAGE)) if page is not None else 1
    number = min(max(page or 1, 1), pages)
    shown = kept[(number - 1) * UNITS_PER_PAGE : number * UNITS_PER_PAGE] if page is not None else kept
    shown_ids = frozenset(place.id for place in shown)
    facts = _facts(session, shown_ids, secret_scope, settings, now, shown=True)
    units = tuple(
        UnitBoard(
            unit_id=place.id,
            unit_name=place.name,
            depth=place.depth,
            go_live_on=facts.go_live.get(place.id),
            rows=_unit_rows(place.id, facts, settings, now, secret_scope),
        )
        for place in shown
    )
    if not counts:
        for unit in units:
            counts[unit.state] = counts.get(unit.state, 0) + 1
    return Board(
        units=units,
        settings=settings,
        as_of=now,
        counts=counts,
        total=len(kept),
        page=number,
        pages=pages,
        counted_all=len(shown) == len(places) or wanted.state is not None or wanted.failing_check is not None,
    )


def _when(moment: datetime | None) -> str:
    return format_vietnam(moment) if moment else ""


def board_csv(board: Board) -> bytes:
    """The board for Excel: one line per certificate (or missing one) of each unit."""
    header = [
        "Đơn vị",
        "Trạng thái đơn vị",
        "Ngày triển khai",
        "Vai trò",
        "Người giữ / chủ thể",
        "Số hiệu chứng thư số",
        "Hết hạn",
        "Thiết bị",
        "Trạng thái thiết bị",
        "Kiểm tra gần nhất",
        "Kết quả",
        "Kiểm tra không đạt",
        "Ký thử đạt gần nhất",
        "Người quản lý thiết bị",
        "Có ký văn bản trong kỳ",
        "Còn thiếu",
    ]
    rows: list[list[object]] = []
    for unit in board.units:
        for row in unit.rows:
            last = row.last_check
            rows.append(
                [
                    unit.unit_name,
                    unit.state.label,
                    f"{unit.go_live_on:%d/%m/%Y}" if unit.go_live_on else "",
                    row.role.label,
                    row.holder_name,
                    row.certificate_serial or "",
                    f"{to_vietnam(row.not_after):%d/%m/%Y}" if row.not_after else "",
                    "MẬT" if row.secret_hidden else row.token_serial or "",
                    row.token_state.label if row.token_state else "",
                    _when(last.checked_at) if last else "",
                    last.status.label if last else "Chưa kiểm tra",
                    "; ".join(f"{c['id']}: {c.get('hint') or c['message']}" for c in last.failing) if last else "",
                    _when(row.last_good_check),
                    row.keeper_name or "",
                    "" if row.signs is None else "Có" if row.signs else "Không",
                    "; ".join(row.problems),
                ]
            )
    return excel_csv(header, rows)
