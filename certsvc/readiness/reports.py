"""Receiving token check reports: the one entry point the agent upload, the upload page and the visit form use.

A report is the JSON of ``token-agent check --json`` (schema ``token-agent.check/1``, see
:mod:`token_agent.health`). It is read within bounds, each token it names is matched against the token
registry by serial and each certificate against the certificate registry by its SHA-256 thumbprint; what the
registries do not know is kept and flagged. A passed test signature counts only when the signature it carries
verifies here with the registered certificate's public key; one that does not verify means the report was
forged or altered, and it is refused whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.core.validation import FieldError, clean_text, text_problem
from certsvc.errors import PermissionDenied, ValidationFailed
from certsvc.policy import Permission, can
from certsvc.readiness.models import CheckedToken, CheckReport, CheckStatus, ReportSource
from certsvc.registry.models import Certificate, Token
from certsvc.timeutil import utcnow
from token_agent.health import SCHEMA, TEST_SIGNATURE_PREFIX, SignatureEvidence, verify_evidence

__all__ = ["MAX_REPORT_BYTES", "store_report", "recent_reports", "ParsedToken", "parse_report"]

#: A report of a few tokens is a few tens of kilobytes; anything much larger is not one.
MAX_REPORT_BYTES = 256 * 1024
MAX_TOKENS = 32
MAX_RESULTS = 200
#: How far the time inside a test signature's data may lie from the report's ``checked_at``.
SIGNATURE_TIME_TOLERANCE = dt.timedelta(hours=1)
#: A report cannot be from the future (beyond a PC clock's plausible drift), nor from before the service.
CLOCK_DRIFT = dt.timedelta(hours=1)
EARLIEST = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)

FIELD = "file"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX = re.compile(r"^(?:[0-9a-f]{2})*$")
#: SKIP below PASS: a token some of whose checks could not run but none failed has passed; SKIP only if nothing ran.
_SEVERITY = {CheckStatus.SKIP: -1, CheckStatus.PASS: 0, CheckStatus.WARN: 1, CheckStatus.FAIL: 2}


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed({FIELD: message}, "Tệp kết quả kiểm tra không hợp lệ.")


def _text(value: object, where: str, max_length: int, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise _refuse(f"{where}: thiếu hoặc không phải chuỗi ký tự.")
    if len(value) > max_length:
        raise _refuse(f"{where}: dài quá {max_length} ký tự.")
    if problem := text_problem(value):
        raise _refuse(f"{where}: {problem}")
    return value


def _status(value: object, where: str) -> CheckStatus:
    try:
        return CheckStatus(str(value))
    except ValueError:
        raise _refuse(f"{where}: trạng thái không hợp lệ.") from None


def _worst(statuses: Sequence[CheckStatus]) -> CheckStatus:
    return max(statuses, key=_SEVERITY.__getitem__, default=CheckStatus.PASS)


def _hex(value: object, where: str, max_bytes: int) -> bytes:
    if not isinstance(value, str) or len(value) > 2 * max_bytes or not _HEX.match(value) or not value:
        raise _refuse(f"{where}: không phải chuỗi hex hợp lệ.")
    return bytes.fromhex(value)


@dataclass(frozen=True)
class ParsedResult:
    """One check of a token as the report states it."""

    id: str
    status: CheckStatus
    message: str
    hint: str
    certificate_sha256: str
    evidence: SignatureEvidence | None


@dataclass(frozen=True)
class ParsedToken:
    """One token of a report, read and bounded; nothing matched yet."""

    label: str
    serial: str
    results: tuple[ParsedResult, ...]

    @property
    def status(self) -> CheckStatus:
        return _worst([r.status for r in self.results])

    @property
    def certificate_sha256(self) -> str | None:
        """The thumbprint of the (first) certificate the checks name."""
        return next((r.certificate_sha256 for r in self.results if r.certificate_sha256), None)

    @property
    def failing(self) -> list[dict[str, str]]:
        return [
            {"id": r.id, "status": r.status.value, "message": r.message, "hint": r.hint}
            for r in self.results
            if r.status in (CheckStatus.FAIL, CheckStatus.WARN)
        ]

    @property
    def test_signature(self) -> ParsedResult | None:
        """The passed ``cert.test_signature`` check, if the report claims one."""
        return next((r for r in self.results if r.id == "cert.test_signature" and r.status is CheckStatus.PASS), None)


@dataclass(frozen=True)
class ParsedReport:
    checked_at: dt.datetime
    general: tuple[ParsedResult, ...]
    tokens: tuple[ParsedToken, ...]

    @property
    def status(self) -> CheckStatus:
        return _worst([*(r.status for r in self.general), *(t.status for t in self.tokens)])


def _result(raw: object, where: str) -> ParsedResult:
    if not isinstance(raw, Mapping):
        raise _refuse(f"{where}: không phải một kết quả kiểm tra.")
    check_id = _text(raw.get("id"), where, 64, required=True)
    where = f"{where} ({check_id})"
    thumbprint = _text(raw.get("certificate_sha256"), where, 64).lower()
    if thumbprint and not _HEX64.match(thumbprint):
        raise _refuse(f"{where}: dấu vân tay chứng thư số không hợp lệ.")
    evidence = None
    if (raw_evidence := raw.get("evidence")) is not None:
        if not isinstance(raw_evidence, Mapping):
            raise _refuse(f"{where}: dữ liệu ký thử không hợp lệ.")
        evidence = SignatureEvidence(
            signed_data=_hex(raw_evidence.get("signed_data"), where, 512),
            signature=_hex(raw_evidence.get("signature"), where, 1024),
        )
    return ParsedResult(
        id=check_id,
        status=_status(raw.get("status"), where),
        message=_text(raw.get("message"), where, 1000),
        hint=_text(raw.get("hint"), where, 1000),
        certificate_sha256=thumbprint,
        evidence=evidence,
    )


def _results(raw: object, where: str) -> tuple[ParsedResult, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_RESULTS:
        raise _refuse(f"{where}: danh sách kết quả không hợp lệ (tối đa {MAX_RESULTS}).")
    return tuple(_result(item, f"{where}, mục {n}") for n, item in enumerate(raw, 1))


def _checked_at(raw: object, now: dt.datetime) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(_text(raw, "checked_at", 40, required=True))
    except ValueError:
        raise _refuse("Thời điểm kiểm tra (checked_at) không hợp lệ.") from None
    if when.tzinfo is None:
        raise _refuse("Thời điểm kiểm tra (checked_at) thiếu múi giờ.")
    when = when.astimezone(dt.UTC)
    if not EARLIEST <= when <= now + CLOCK_DRIFT:
        raise _refuse("Thời điểm kiểm tra (checked_at) nằm ngoài khoảng hợp lý.")
    return when


def parse_report(raw: bytes, now: dt.datetime) -> ParsedReport:
    """Read a report within bounds; ValidationFailed (field ``file``) on anything that is not one."""
    if not raw:
        raise _refuse("Tệp rỗng.")
    if len(raw) > MAX_REPORT_BYTES:
        raise _refuse(f"Tệp lớn quá {MAX_REPORT_BYTES // 1024} KB.")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _refuse("Không đọc được nội dung JSON của tệp.") from None
    if not isinstance(document, dict):
        raise _refuse("Tệp không phải kết quả của lệnh token-agent check --json.")
    if document.get("schema") != SCHEMA:
        raise _refuse(f"Tệp không theo lược đồ {SCHEMA}.")
    tokens = document.get("tokens")
    if not isinstance(tokens, list) or not 1 <= len(tokens) <= MAX_TOKENS:
        raise _refuse(f"Tệp phải có từ 1 đến {MAX_TOKENS} thiết bị.")
    parsed = []
    for n, token in enumerate(tokens, 1):
        if not isinstance(token, Mapping):
            raise _refuse(f"Thiết bị {n}: không hợp lệ.")
        where = f"Thiết bị {n}"
        parsed.append(
            ParsedToken(
                label=_text(token.get("label"), where, 64),
                serial=_text(token.get("serial"), where, 64),
                results=_results(token.get("results"), where),
            )
        )
    return ParsedReport(
        checked_at=_checked_at(document.get("checked_at"), now),
        general=_results(document.get("general", []), "Kiểm tra chung"),
        tokens=tuple(parsed),
    )


def _signature_verified(token: ParsedToken, certificate: Certificate | None, checked_at: dt.datetime) -> bool:
    """Whether the token's passed test signature is believed; raises when it is there and does not verify."""
    claimed = token.test_signature
    if claimed is None or claimed.evidence is None or certificate is None:
        return False
    if claimed.certificate_sha256 != certificate.sha256 or not _signed_when(claimed.evidence, checked_at):
        raise _forged(token)
    if not verify_evidence(x509.load_der_x509_certificate(certificate.der), claimed.evidence):
        raise _forged(token)
    return True


def _signed_when(evidence: SignatureEvidence, checked_at: dt.datetime) -> bool:
    """The signed data is the agent's: its prefix, then a time close to the report's."""
    if not evidence.signed_data.startswith(TEST_SIGNATURE_PREFIX):
        return False
    stamp = evidence.signed_data[len(TEST_SIGNATURE_PREFIX) :].split(b" ", 1)[0]
    try:
        signed_at = dt.datetime.fromisoformat(stamp.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return False
    return signed_at.tzinfo is not None and abs(signed_at - checked_at) <= SIGNATURE_TIME_TOLERANCE


def _forged(token: ParsedToken) -> ValidationFailed:
    return _refuse(
        f"Chữ ký thử của thiết bị {token.serial or token.label} không khớp chứng thư số đã đăng ký: "
        "kết quả kiểm tra bị từ chối."
    )


def store_report(
    session: Session, by: Account, raw: bytes, *, source: ReportSource, place: str | None = None
) -> CheckReport:
    """Keep a check report and what it says about each token; the caller commits.

    Refused (nothing written) when it is not a report, was already received, names a registered token of a
    unit ``by`` may not file for, or carries a test signature that does not verify.
    """
    if not can(session, by, Permission.RECORD_READINESS):
        raise PermissionDenied()
    now = utcnow()
    report = parse_report(raw, now)
    try:
        place = clean_text(place, max_length=200)
    except FieldError as error:
        raise ValidationFailed({"place": str(error)}) from None
    digest = hashlib.sha256(raw).hexdigest()
    if session.scalar(select(CheckReport.id).where(CheckReport.sha256 == digest)) is not None:
        raise _refuse("Kết quả kiểm tra này đã được gửi trước đây.")
    serials = {t.serial for t in report.tokens if t.serial}
    thumbprints = {t.certificate_sha256 for t in report.tokens if t.certificate_sha256}
    tokens = {t.serial: t for t in session.scalars(select(Token).where(Token.serial.in_(serials)))} if serials else {}
    certificates = (
        {
            c.sha256: c
            for c in session.scalars(
                select(Certificate).where(
                    Certificate.sha256.in_(thumbprints), Certificate.entered_in_error_at.is_(None)
                )
            )
        }
        if thumbprints
        else {}
    )
    units = [t.organisation_id for t in tokens.values()] + [c.organisation_id for c in certificates.values()]
    for unit in units:
        if not can(session, by, Permission.RECORD_READINESS, unit):
            raise PermissionDenied("Kết quả kiểm tra có thiết bị hoặc chứng thư số không thuộc đơn vị của bạn.")
    organisation_id = units[0] if units else by.person.organisation_id
    if not can(session, by, Permission.RECORD_READINESS, organisation_id):
        raise PermissionDenied()
    rows = []
    for position, parsed in enumerate(report.tokens):
        certificate = certificates.get(parsed.certificate_sha256 or "")
        by_serial = tokens.get(parsed.serial)
        # A token the registry knows under another serial is still the one its certificate is on: the test
        # signature proves that certificate's key is on the token checked.
        token_id = by_serial.id if by_serial else certificate.token_id if certificate else None
        unknown = (
            by_serial is None
            or (parsed.certificate_sha256 is not None and certificate is None)
            or (certificate is not None and certificate.token_id not in (None, by_serial.id))
        )
        rows.append(
            CheckedToken(
                position=position,
                token_serial=parsed.serial,
                token_label=parsed.label,
                token_id=token_id,
                certificate_sha256=parsed.certificate_sha256,
                certificate_id=certificate.id if certificate else None,
                status=parsed.status,
                failing_checks=parsed.failing,
                flagged_unknown=unknown,
                test_signature_ok=_signature_verified(parsed, certificate, report.checked_at),
            )
        )
    stored = CheckReport(
        raw=raw.decode("utf-8"),
        sha256=digest,
        schema=SCHEMA,
        checked_at=report.checked_at,
        received_at=now,
        uploaded_by_id=by.id,
        organisation_id=organisation_id,
        source=source,
        place=place,
        status=report.status,
        test_signature_verified=any(r.test_signature_ok for r in rows),
        tokens=rows,
    )
    session.add(stored)
    session.flush()
    record(
        session,
        Actor.of(by),
        "readiness.report_stored",
        "check_report",
        stored.id,
        {
            "sha256": digest,
            "source": source.value,
            "status": stored.status.value,
            "tokens": [r.token_serial for r in rows],
            "unknown": [r.token_serial for r in rows if r.flagged_unknown],
            "test_signature_verified": stored.test_signature_verified,
        },
    )
    return stored


def recent_reports(session: Session, by: Account, limit: int = 5) -> list[CheckReport]:
    """The last reports ``by`` sent, newest first ("Thiết bị ký số của tôi" shows them after a check)."""
    return list(
        session.scalars(
            select(CheckReport)
            .where(CheckReport.uploaded_by_id == by.id)
            .order_by(CheckReport.received_at.desc(), CheckReport.id.desc())
            .limit(limit)
        )
    )
