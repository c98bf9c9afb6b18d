""" "Kiểm tra ký số": the server's check of every signature in a received file, kept as token_agent's report
(schema ``token-agent.verify/1``), and how pages show it — one line per signature or document timestamp, with
the reason in Vietnamese when it did not pass.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from certsvc.documents.verification import verify
from certsvc.errors import ValidationFailed
from token_agent.errors import DocumentError
from token_agent.reporting import to_jsonable
from token_agent.verification import SCHEMA, DocumentReport, SignatureKind, Verdict

__all__ = ["check_signatures", "refusal_reason", "SignatureCheck", "signature_checks"]

log = logging.getLogger("certsvc")


def check_signatures(session: Session, content: bytes) -> dict:
    """The server's report of every signature in ``content``, as stored (schema ``token-agent.verify/1``).

    A file the verifier cannot open (not a PDF, encrypted, broken) is ValidationFailed({"file": why})."""
    try:
        report = verify(session, content)
    except DocumentError as error:
        raise ValidationFailed({"file": error.message}, error.message) from None
    except Exception:
        # The file comes from outside: whatever the PDF library trips on is the file's fault, and the clerk
        # gets a reason, not an error page. Logged, since it is also a case token_agent should name.
        log.exception("signature check failed on an incoming file")
        message = "Không kiểm tra được chữ ký số: tệp PDF hỏng hoặc có cấu trúc không được hỗ trợ."
        raise ValidationFailed({"file": message}, message) from None
    return _stored(report)


def _stored(report: DocumentReport) -> dict:
    return {"schema": SCHEMA, **to_jsonable(report)}


def _signatures(verification: Mapping) -> list[Mapping]:
    return [s for s in verification.get("signatures", ()) if s.get("kind") == SignatureKind.SIGNATURE.value]


def refusal_reason(verification: Mapping | None) -> str | None:
    """Why a document with this report cannot be registered as a signed electronic document, or None."""
    if verification is None:
        return "Văn bản chưa được kiểm tra chữ ký số."
    if not _signatures(verification):
        return "Tệp không có chữ ký số (INDETERMINATE): không vào sổ như văn bản điện tử đã ký số được."
    verdict = verification.get("verdict")
    if verdict == Verdict.TOTAL_PASSED.value:
        return None
    failing = [
        f"{s.get('field_name')}: {s.get('verdict')}" + (f" / {s['sub_indication']}" if s.get("sub_indication") else "")
        for s in verification.get("signatures", ())
        if s.get("verdict") != Verdict.TOTAL_PASSED.value
    ]
    return f"Chữ ký số không hợp lệ ({verdict}): {'; '.join(failing)}."


@dataclass(frozen=True)
class SignatureCheck:
    """One line of "Kiểm tra ký số" as a page shows it, read from a stored report."""

    field_name: str
    is_timestamp: bool
    signer: str
    organisation: str
    signing_time: datetime | None
    #: The signed bytes are unchanged and the signature value verifies.
    intact: bool
    chain_trusted: bool
    revoked: bool
    changes: str
    verdict: str
    #: Why it is not TOTAL_PASSED, in Vietnamese; None when it passed.
    reason: str | None

    @property
    def tone(self) -> str:
        return {"TOTAL_PASSED": "ok", "INDETERMINATE": "warn"}.get(self.verdict, "bad")


#: What was changed after a signature (token_agent's Modification), as people say it.
_CHANGES = {
    "none": "Không thay đổi",
    "form_filling": "Chỉ điền số, ngày, thêm chữ ký (được phép)",
    "annotations": "Thêm ghi chú",
    "other": "Có thay đổi khác",
}
#: The sub-indications of ETSI EN 319 102-1 that token_agent reports, explained.
_REASONS = {
    "HASH_FAILURE": "Nội dung văn bản đã bị sửa sau khi ký.",
    "SIG_CRYPTO_FAILURE": "Giá trị chữ ký không khớp với chứng thư số.",
    "FORMAT_FAILURE": "Văn bản bị thay đổi sau khi ký theo cách chữ ký không cho phép, hoặc chữ ký sai cấu trúc.",
    "REVOKED": "Chứng thư số đã bị thu hồi trước thời điểm ký.",
    "REVOKED_NO_POE": "Chứng thư số đã bị thu hồi; không có bằng chứng chữ ký được tạo trước khi thu hồi.",
    "NO_CERTIFICATE_CHAIN_FOUND": "Không xác định được chuỗi chứng thực tới chứng thư gốc tin cậy.",
    "OUT_OF_BOUNDS_NO_POE": "Thời điểm ký nằm ngoài thời hạn hiệu lực của chứng thư số.",
    "EXPIRED": "Chứng thư số đã hết hạn.",
}


def signature_checks(verification: Mapping | None) -> list[SignatureCheck]:
    """The report's signatures and document timestamps, one line each, for the page."""
    checks = []
    for s in (verification or {}).get("signatures", ()):
        signer = s.get("signer") or {}
        name = signer.get("common_name") or "Không xác định (chữ ký sai cấu trúc)"
        uid = signer.get("uid")
        sub = s.get("sub_indication")
        verdict = s.get("verdict") or Verdict.INDETERMINATE.value
        time_text = s.get("signing_time") or s.get("timestamp")
        checks.append(
            SignatureCheck(
                field_name=str(s.get("field_name") or ""),
                is_timestamp=s.get("kind") == SignatureKind.TIMESTAMP.value,
                signer=f"{name} ({uid})" if uid else name,
                organisation=signer.get("organisation") or "",
                signing_time=datetime.fromisoformat(time_text) if time_text else None,
                intact=bool(s.get("intact") and s.get("valid")),
                chain_trusted=bool(s.get("chain_trusted")),
                revoked=bool(s.get("revoked")),
                changes=_CHANGES.get(s.get("modification") or "other", _CHANGES["other"]),
                verdict=verdict,
                reason=None if verdict == Verdict.TOTAL_PASSED.value else _REASONS.get(sub or "", sub or verdict),
            )
        )
    return checks
