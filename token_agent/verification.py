"""Verification of the signatures in a PDF, with verdicts in the words of ETSI EN 319 102-1.

Importable by certsvc: ``Verifier(trust_anchors, crls).verify(pdf_bytes)`` gives a :class:`DocumentReport`.
A verdict is TOTAL_PASSED, INDETERMINATE or TOTAL_FAILED with a sub-indication as EU DSS reports them:
HASH_FAILURE (the signed bytes changed), SIG_CRYPTO_FAILURE (the signature value does not verify),
REVOKED (a given CRL revoked the signer's certificate before the signing time it claims;
REVOKED_NO_POE when after), NO_CERTIFICATE_CHAIN_FOUND (no path to a trust anchor),
OUT_OF_BOUNDS_NO_POE / EXPIRED (outside the certificate's validity), FORMAT_FAILURE (the document was changed
after the signature in a way the signature does not allow). Baseline B-B signatures are judged with pyHanko's
``validate_pdf_signature``; the AdES path would call every signature without a timestamp INDETERMINATE.
"""

from __future__ import annotations

import datetime as dt
import enum
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from asn1crypto import crl as asn1_crl
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from .certs import SubjectSummary, summarise_subject, to_asn1
from .errors import DocumentError

__all__ = [
    "SCHEMA",
    "Verdict",
    "Modification",
    "SignatureReport",
    "DocumentReport",
    "Verifier",
    "SIGNING_KEY_USAGE",
]

SCHEMA = "token-agent.verify/1"
"""Name and version of the JSON shape of a :class:`DocumentReport` (see docs in cli.py)."""

SIGNING_KEY_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)
"""A signer's certificate must allow digital signature or non-repudiation (device certificates have only the first)."""


class Verdict(enum.StrEnum):
    """ETSI EN 319 102-1 main indication."""

    TOTAL_PASSED = "TOTAL_PASSED"
    INDETERMINATE = "INDETERMINATE"
    TOTAL_FAILED = "TOTAL_FAILED"


class Modification(enum.StrEnum):
    """What was changed in the file after a signature: nothing, form fields (with new signatures), or more."""

    NONE = "none"
    FORM_FILLING = "form_filling"
    ANNOTATIONS = "annotations"
    OTHER = "other"


_MODIFICATION = {
    ModificationLevel.NONE: Modification.NONE,
    ModificationLevel.LTA_UPDATES: Modification.NONE,
    ModificationLevel.FORM_FILLING: Modification.FORM_FILLING,
    ModificationLevel.ANNOTATIONS: Modification.ANNOTATIONS,
    ModificationLevel.OTHER: Modification.OTHER,
}


@dataclass(frozen=True)
class SignatureReport:
    """The judgement of one signature field."""

    field_name: str
    signer: SubjectSummary
    signing_time: dt.datetime | None
    """The time the signer claims (B-B has no proof of it)."""
    timestamp: dt.datetime | None
    """The time a trusted timestamp (B-T) proves the signature existed at; None without one."""
    intact: bool
    """The signed bytes still hash to the value that was signed."""
    valid: bool
    """The signature value verifies with the signer's public key."""
    chain_trusted: bool
    """A path leads from the signer's certificate to a given trust anchor."""
    revoked: bool
    """A given CRL lists the signer's certificate (or a CA above it)."""
    coverage: str
    """ENTIRE_FILE, ENTIRE_REVISION (later revisions exist), or something worse."""
    modification: Modification
    verdict: Verdict
    sub_indication: str | None

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.TOTAL_PASSED


@dataclass(frozen=True)
class DocumentReport:
    """Every signature of a document, in the order they were made."""

    signatures: tuple[SignatureReport, ...]
    json_properties: ClassVar[tuple[str, ...]] = ("verdict",)

    @property
    def verdict(self) -> Verdict:
        """The worst verdict of the signatures; INDETERMINATE for a document without any."""
        if not self.signatures:
            return Verdict.INDETERMINATE
        order = list(Verdict)
        return max((s.verdict for s in self.signatures), key=order.index)

    def signature(self, field_name: str) -> SignatureReport:
        return next(s for s in self.signatures if s.field_name == field_name)


def _trusted_time(status: PdfSignatureStatus) -> dt.datetime | None:
    stamp = status.timestamp_validity
    return stamp.timestamp if stamp is not None and stamp.trusted else None


def _judge(status: PdfSignatureStatus, modification: Modification) -> tuple[Verdict, str | None]:
    if not status.intact:
        return Verdict.TOTAL_FAILED, "HASH_FAILURE"
    if not status.valid:
        return Verdict.TOTAL_FAILED, "SIG_CRYPTO_FAILURE"
    if modification is Modification.OTHER or status.docmdp_ok is False:
        return Verdict.TOTAL_FAILED, "FORMAT_FAILURE"
    problem = status.trust_problem_indic
    if problem is None:
        return Verdict.TOTAL_PASSED, None
    revocation, claimed = status.revocation_details, status.signer_reported_dt
    if problem is AdESIndeterminate.REVOKED_NO_POE and revocation and claimed and revocation.revocation_date <= claimed:
        # EN 319 102-1, basic signatures: revoked before the time the signer itself claims → TOTAL_FAILED
        return Verdict.TOTAL_FAILED, "REVOKED"
    if isinstance(problem, AdESFailure):
        return Verdict.TOTAL_FAILED, problem.name
    return Verdict.INDETERMINATE, problem.name if isinstance(problem, AdESIndeterminate) else str(problem)


class Verifier:
    """Judges PDF signatures against fixed trust anchors and CRLs; keep one per process (it stays warm).

    Revocation is checked, from the given CRLs only, for certificates that name a CRL distribution point
    (government subscriber certificates do); no CRL for a certificate is not a failure (soft-fail).
    """

    def __init__(
        self, trust_anchors: Sequence[x509.Certificate], crls: Sequence[x509.CertificateRevocationList] = ()
    ) -> None:
        self._anchors = [to_asn1(c) for c in trust_anchors]
        self._crls = [asn1_crl.CertificateList.load(c.public_bytes(serialization.Encoding.DER)) for c in crls]

    def _context(self) -> ValidationContext:
        return ValidationContext(
            trust_roots=self._anchors, crls=self._crls, allow_fetching=False, revocation_mode="soft-fail"
        )

    def verify(self, pdf: bytes | PdfFileReader) -> DocumentReport:
        """Judge every signature in ``pdf`` (bytes, or a reader already open on them).

        A file that is not a readable PDF raises DocumentError.
        """
        try:
            reader = PdfFileReader(io.BytesIO(pdf), strict=False) if isinstance(pdf, bytes) else pdf
            embedded = reader.embedded_signatures
        except (PdfReadError, ValueError, KeyError) as exc:
            raise DocumentError(f"Không đọc được tệp PDF: {exc}", code="pdf_unreadable") from exc
        return DocumentReport(signatures=tuple(self._report(sig) for sig in embedded))

    def _report(self, embedded) -> SignatureReport:
        status = validate_pdf_signature(embedded, self._context(), key_usage_settings=SIGNING_KEY_USAGE)
        level = status.modification_level
        modification = _MODIFICATION[level] if level is not None else Modification.OTHER
        verdict, sub_indication = _judge(status, modification)
        signer = x509.load_der_x509_certificate(status.signing_cert.dump())
        return SignatureReport(
            field_name=embedded.field_name,
            signer=summarise_subject(signer),
            signing_time=status.signer_reported_dt,
            timestamp=_trusted_time(status),
            intact=status.intact,
            valid=status.valid,
            chain_trusted=status.validation_path is not None,
            revoked=status.revoked,
            coverage=status.coverage.name if status.coverage is not None else "UNCLEAR",
            modification=modification,
            verdict=verdict,
            sub_indication=sub_indication,
        )
