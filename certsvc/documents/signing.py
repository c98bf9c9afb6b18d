"""The server's check of every signed file it receives, before anything changes (issue 12).

- :func:`approve_upload`: the proposed signer's upload of the prepared file signed with the personal token
  (``token-agent sign --role approve``);
- :func:`issue_upload`: the clerk's upload of the approved file with number, date and the organisation's
  signature (``--role issue``);
- :func:`appendix_upload`: an appendix signed with the organisation's key top right (``--role appendix``).

Each upload must be exactly the file the server handed out plus one new revision holding the one expected
signature (the bytes start with the stored version, the signature covers the whole file, and nothing but
the signature's form field changed), judged TOTAL_PASSED by the process's warm verifier
(:mod:`certsvc.documents.verification`), made with a certificate of the registry that fits the step, on
the right day, and (for the organisation's key) by the token's current keeper in the custody register.

A refused upload raises :class:`SignatureRefused`, whose code names the check that failed. Nothing it
brought is kept: the session is rolled back, then the refusal alone is audited and committed, so that the
evidence stays although the step did not happen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date

from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    FormUpdatingRule,
    GenericFieldModificationRule,
    ModificationLevel,
    SigFieldCreationRule,
    SigFieldModificationRule,
    StandardDiffPolicy,
)
from pyhanko.sign.diff_analysis.constants import ACROFORM_EXEMPT_STRICT_COMPARISON
from pyhanko.sign.diff_analysis.policy_api import DiffResult
from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.documents import files, verification
from certsvc.documents.models import (
    DocumentEvent,
    DocumentFile,
    FileKind,
    NumberEntry,
    NumberState,
    OutgoingDocument,
)
from certsvc.documents.register import vietnam_today
from certsvc.documents.transitions import OBJECT_TYPE, Action, apply_transition, check_transition
from certsvc.errors import CertsvcError, Conflict, ValidationFailed
from certsvc.orgs.names import place_name
from certsvc.registry.models import Certificate, TokenKind
from certsvc.registry.tokens import custody_keeper_id, kept_in_custody_register
from certsvc.timeutil import to_vietnam, utcnow
from token_agent import signing as agent
from token_agent.errors import DocumentError
from token_agent.verification import DocumentReport, Modification, SignatureKind, SignatureReport, open_pdf

__all__ = ["SignatureRefused", "approve_upload", "issue_upload", "appendix_upload"]

#: The steps' names in the audit entry of a refusal.
_APPROVE, _ISSUE, _APPENDIX = "approve", "issue", "appendix"
_FILENAME_LENGTH = 255

#: pyHanko's default policy for what may change after a signature, applied to the revision that signs: the
#: first signature of a file also sets /SigFlags (signatures exist, append only), which that policy expects set.
_SIGNING_REVISION_POLICY = StandardDiffPolicy(
    global_rules=DEFAULT_DIFF_POLICY.global_rules,
    form_rule=FormUpdatingRule(
        field_rules=[SigFieldCreationRule(), SigFieldModificationRule(), GenericFieldModificationRule()],
        ignored_acroform_keys={*ACROFORM_EXEMPT_STRICT_COMPARISON, "/SigFlags"},
    ),
)


class SignatureRefused(CertsvcError):
    """An uploaded signed file failed one of the server's checks; ``code`` names the check."""

    code = "signature_refused"
    http_status = 422


def _checked_file(content: bytes) -> None:
    """The checks of any PDF upload (size, "%PDF-"), as a refusal of the signed file."""
    try:
        files.read_pdf_upload(content, "file")
    except ValidationFailed as error:
        raise SignatureRefused(error.field_errors.get("file", error.message), code="not_pdf") from None


@contextmanager
def _audited_refusal(
    session: Session, by: Account, doc: OutgoingDocument, step: str, content: bytes, filename: str
) -> Iterator[None]:
    """Turn a refusal inside into: rollback, one audit entry of the refusal, commit, and the refusal raised."""
    document_id, actor = doc.id, Actor.of(by)
    try:
        yield
    except SignatureRefused as refusal:
        session.rollback()
        record(
            session,
            actor,
            "document.signature_refused",
            OBJECT_TYPE,
            document_id,
            {
                "step": step,
                "code": refusal.code,
                "message": refusal.message,
                "filename": filename[:_FILENAME_LENGTH],
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
            },
        )
        session.commit()
        raise


def _stored(doc: OutgoingDocument, kind: FileKind, appendix: int | None = None) -> DocumentFile:
    version = files.latest(doc, kind, appendix)
    if version is None:
        raise Conflict(f"Văn bản chưa có tệp «{kind.label}».", code="file_missing")
    return version


def _open_upload(content: bytes, handed_out: bytes) -> PdfFileReader:
    """A reader on ``content`` once it is known to be ``handed_out`` plus exactly one revision."""
    _checked_file(content)
    if len(content) <= len(handed_out) or not content.startswith(handed_out):
        raise SignatureRefused(
            "Tệp tải lên không phải là tệp hệ thống đã giao để ký (tệp của văn bản khác, hoặc tệp đã bị sửa): "
            "hãy tải tệp về và ký lại, không sửa tệp.",
            code="not_handed_out_file",
        )
    try:
        reader = open_pdf(content)
        # the last revision starts after the handed-out bytes, the one before it within them
        last = reader.xrefs.total_revisions - 1
        one_more = last >= 1 and (
            reader.xrefs.get_startxref_for_revision(last - 1)
            < len(handed_out)
            <= reader.xrefs.get_startxref_for_revision(last)
        )
    except (DocumentError, PdfError, ValueError, KeyError) as exc:
        raise SignatureRefused(f"Không đọc được tệp đã ký: {exc}", code="unreadable_pdf") from None
    if not one_more:
        raise SignatureRefused(
            "Tệp đã ký phải là tệp được giao cộng đúng một lần ký, không thêm lần cập nhật nào khác.",
            code="extra_revisions",
        )
    return reader


def _report(session: Session, reader: PdfFileReader, earlier: int) -> tuple[DocumentReport, SignatureReport]:
    """The verifier's report and its one new signature (after ``earlier`` signatures of the handed-out file)."""
    try:
        report = verification.verify(session, reader)
    except DocumentError as exc:
        raise SignatureRefused(exc.message, code="unreadable_pdf") from None
    if len(report.signatures) != earlier + 1:
        raise SignatureRefused(
            f"Tệp phải có đúng {earlier + 1} chữ ký số; tệp này có {len(report.signatures)}.", code="signature_count"
        )
    return report, report.signatures[earlier]


def _judged(signature: SignatureReport, field: str, who: str) -> SignatureReport:
    """``signature``, if it is a signature in ``field`` that the verifier passed and that covers the whole file."""
    if signature.kind is not SignatureKind.SIGNATURE or signature.field_name != field:
        raise SignatureRefused(f"Chữ ký mới phải ở trường «{field}» ({who}).", code="wrong_field")
    if not signature.intact or not signature.valid:
        raise SignatureRefused(f"Chữ ký số {who} không còn nguyên vẹn: tệp đã bị sửa sau khi ký.", code="tampered")
    if signature.revoked:
        raise SignatureRefused(
            f"Chứng thư số {who} đã bị thu hồi (theo danh sách thu hồi).", code="certificate_revoked"
        )
    if not signature.chain_trusted:
        raise SignatureRefused(
            f"Chứng thư số {who} không do tổ chức cung cấp dịch vụ chứng thực tin cậy cấp (không chuỗi đến chứng thư "
            "gốc đã cấu hình).",
            code="untrusted_chain",
        )
    if not signature.passed:
        raise SignatureRefused(
            f"Chữ ký số {who} không hợp lệ ({signature.verdict}, {signature.sub_indication}).", code="signature_invalid"
        )
    if signature.coverage != "ENTIRE_FILE":
        raise SignatureRefused(f"Chữ ký số {who} không bao trùm toàn bộ tệp.", code="not_whole_file")
    return signature


def _only_the_signature_changed(reader: PdfFileReader) -> None:
    """The new revision fills signature fields and nothing else (the signature covers it, but a signer could
    have slipped other changes into the revision it signs)."""
    try:
        result = _SIGNING_REVISION_POLICY.review_file(reader, reader.xrefs.total_revisions - 2)
    except (PdfError, ValueError, KeyError) as exc:
        raise SignatureRefused(f"Không đọc được tệp đã ký: {exc}", code="unreadable_pdf") from None
    if not isinstance(result, DiffResult) or result.modification_level > ModificationLevel.FORM_FILLING:
        raise SignatureRefused("Lần ký còn sửa nội dung khác ngoài chữ ký: tệp đã bị sửa.", code="not_handed_out_file")


def _certificate(session: Session, signature: SignatureReport, kind: TokenKind, who: str, on: date) -> Certificate:
    """The registry's record of the signature's certificate, if it fits: kind, in force, valid on the day."""
    cert = session.scalar(select(Certificate).where(Certificate.sha256 == signature.certificate_sha256))
    if cert is None or cert.entered_in_error_at is not None:
        raise SignatureRefused(
            f"Chứng thư số {who} không có trong sổ quản lý chứng thư số của hệ thống.",
            code="certificate_not_registered",
        )
    if cert.kind is not kind:
        raise SignatureRefused(
            f"Chứng thư số {who} là chứng thư «{cert.kind.label}», không phải «{kind.label}».", code="wrong_kind"
        )
    if cert.revoked_at is not None:
        raise SignatureRefused(f"Chứng thư số {who} đã bị thu hồi.", code="certificate_revoked")
    moment = signature.signing_time
    if moment is None:
        raise SignatureRefused(f"Chữ ký số {who} không ghi thời điểm ký.", code="signing_time")
    if not cert.not_before <= moment <= cert.not_after:
        raise SignatureRefused(f"Chứng thư số {who} không còn hiệu lực vào thời điểm ký.", code="certificate_expired")
    if to_vietnam(moment).date() != on:
        raise SignatureRefused(
            f"Chữ ký số {who} được ký ngày {to_vietnam(moment):%d/%m/%Y}, không phải ngày {on:%d/%m/%Y}.",
            code="signing_date",
        )
    return cert


def _of_the_issuing_body(
    session: Session, by: Account, doc: OutgoingDocument, signature: SignatureReport
) -> Certificate:
    """The organisation certificate of the document's issuing body that made ``signature``, used by its keeper.

    A token in the custody register is used only by the person who keeps it now (a clerk who handed it over
    yesterday no longer does); a token outside the register, by any clerk of the body (checked before).
    """
    entry = _number(doc)
    cert = _certificate(session, signature, TokenKind.ORGANISATION, "của cơ quan", entry.issue_date)
    if cert.organisation_id != doc.issuing_body_id:
        raise SignatureRefused(
            f"Chứng thư số của cơ quan không phải của {doc.issuing_body.name}.", code="wrong_organisation"
        )
    token = cert.token
    if (
        token is not None
        and kept_in_custody_register(session, token)
        and custody_keeper_id(session, token) != by.person_id
    ):
        raise SignatureRefused(
            "Theo sổ theo dõi thiết bị lưu khóa bí mật, bạn không phải người đang giữ thiết bị của cơ quan: "
            "người đang giữ thiết bị mới được ký phát hành.",
            code="not_keeper",
        )
    return cert


def _number(doc: OutgoingDocument) -> NumberEntry:
    entry = doc.number_entry
    if entry is None:  # a NUMBERED document always has its entry; refuse clearly should the data say otherwise
        raise Conflict("Văn bản chưa được lấy số.", code="wrong_status")
    return entry


def _field_values(reader: PdfFileReader) -> dict[str, str]:
    """The text form fields' values by name (a missing or malformed form gives none)."""
    try:
        fields = reader.root["/AcroForm"]["/Fields"]
        values = {}
        for ref in fields:
            field = ref.get_object()
            # Text fields only: a signature field's value is the signature itself, long to parse and not wanted.
            if field.get("/FT") == "/Tx" and "/V" in field and "/T" in field:
                values[str(field["/T"])] = str(field["/V"])
        return values
    except (PdfError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _number_and_date(reader: PdfFileReader, doc: OutgoingDocument) -> None:
    """The number and date fields hold exactly what the register gave."""
    entry = _number(doc)
    values = _field_values(reader)
    wanted = {
        agent.NUMBER_FIELD: (agent.format_number(entry.symbol), "wrong_number", "Số, ký hiệu"),
        agent.DATE_FIELD: (
            agent.format_date_line(place_name(doc.issuing_body), entry.issue_date),
            "wrong_date",
            "Địa danh, ngày tháng",
        ),
    }
    for field, (value, code, label) in wanted.items():
        found = values.get(field)
        if found != value:
            raise SignatureRefused(
                f"Trường «{label}» ghi «{found or ''}», không phải «{value}» như sổ đăng ký đã cấp.", code=code
            )


def approve_upload(
    session: Session,
    by: Account,
    doc: OutgoingDocument,
    content: bytes,
    filename: str,
    *,
    via: Mapping[str, object] | None = None,
) -> DocumentEvent:
    """The proposed signer's signed file: stored as the APPROVED version and the document approved.

    ``via`` (here and in the other uploads) says how the file came when not by the page's upload, for the
    step's audit entry: ``{"agent_job": <job id>, "agent_id": <signing agent id>}`` for the signing agent."""
    check_transition(session, by, doc, Action.APPROVE)  # role, proposed signer, status: before the file
    with _audited_refusal(session, by, doc, _APPROVE, content, filename):
        reader = _open_upload(content, files.content(_stored(doc, FileKind.PREPARED)))
        _, personal = _report(session, reader, earlier=0)
        _judged(personal, agent.PERSONAL_FIELD, "cá nhân")
        _only_the_signature_changed(reader)
        cert = _certificate(session, personal, TokenKind.PERSONAL, "cá nhân", vietnam_today())
        if cert.holder_id != doc.signer_id:
            raise SignatureRefused(
                "Chữ ký số cá nhân không phải của người được đề xuất ký văn bản.", code="wrong_signer"
            )
    version = files.add_version(session, by, doc, FileKind.APPROVED, content, filename)
    doc.personal_certificate_id = cert.id
    doc.approved_at = utcnow()
    return apply_transition(
        session,
        by,
        doc,
        Action.APPROVE,
        details={"certificate": cert.serial_hex, "sha256": version.sha256, **(via or {})},
    )


def issue_upload(
    session: Session,
    by: Account,
    doc: OutgoingDocument,
    content: bytes,
    filename: str,
    *,
    via: Mapping[str, object] | None = None,
) -> DocumentEvent:
    """The clerk's file with number, date and the organisation's signature: stored as ISSUED, the number used."""
    check_transition(session, by, doc, Action.ISSUE)
    with _audited_refusal(session, by, doc, _ISSUE, content, filename):
        entry = _number(doc)
        reader = _open_upload(content, files.content(_stored(doc, FileKind.APPROVED)))
        report, organisation = _report(session, reader, earlier=1)
        personal = report.signatures[0]
        if personal.field_name != agent.PERSONAL_FIELD or not personal.passed:
            raise SignatureRefused("Chữ ký số cá nhân không còn hợp lệ sau khi ký phát hành.", code="personal_changed")
        if personal.modification is not Modification.FORM_FILLING:
            raise SignatureRefused(
                "Sau chữ ký số cá nhân, tệp bị sửa nhiều hơn việc điền số, ngày và ký của cơ quan.",
                code="personal_changed",
            )
        if personal.signing_time is None or to_vietnam(personal.signing_time).date() != entry.issue_date:
            raise SignatureRefused(
                f"Chữ ký số cá nhân không được ký vào ngày ban hành {entry.issue_date:%d/%m/%Y}.", code="signing_date"
            )
        _judged(organisation, agent.ORGANISATION_FIELD, "của cơ quan")
        cert = _of_the_issuing_body(session, by, doc, organisation)
        _number_and_date(reader, doc)
    version = files.add_version(session, by, doc, FileKind.ISSUED, content, filename)
    doc.organisation_certificate_id = cert.id
    doc.issued_at = utcnow()
    entry.state = NumberState.USED
    return apply_transition(
        session,
        by,
        doc,
        Action.ISSUE,
        details={"number": entry.symbol, "certificate": cert.serial_hex, "sha256": version.sha256, **(via or {})},
    )


def appendix_upload(
    session: Session,
    by: Account,
    doc: OutgoingDocument,
    appendix_no: int,
    content: bytes,
    filename: str,
    *,
    via: Mapping[str, object] | None = None,
) -> DocumentFile:
    """An appendix signed top right with the organisation's key, on the issue date, by the token's keeper:
    stored as its APPENDIX_ISSUED version (the document's status does not change)."""
    check_transition(session, by, doc, Action.SIGN_APPENDIX)
    with _audited_refusal(session, by, doc, _APPENDIX, content, filename):
        reader = _open_upload(content, files.content(_stored(doc, FileKind.APPENDIX_DRAFT, appendix_no)))
        _, signature = _report(session, reader, earlier=0)
        # No review of the signing revision here: pyHanko's rules cannot compare a draft without a form with
        # the revision that creates its first field. The signature covers the whole file, and the file
        # starts with the draft as stored.
        _judged(signature, agent.TOP_RIGHT_FIELD, "của cơ quan")
        cert = _of_the_issuing_body(session, by, doc, signature)
    version = files.add_version(session, by, doc, FileKind.APPENDIX_ISSUED, content, filename, appendix=appendix_no)
    apply_transition(
        session,
        by,
        doc,
        Action.SIGN_APPENDIX,
        details={"appendix": appendix_no, "certificate": cert.serial_hex, "sha256": version.sha256, **(via or {})},
    )
    return version
