"""Verification of the signatures in a PDF, with verdicts in the words of ETSI EN 319 102-1.

Importable by certsvc: ``Verifier(trust_anchors, crls).verify(pdf_bytes)`` gives a :class:`DocumentReport`.
A verdict is TOTAL_PASSED, INDETERMINATE or TOTAL_FAILED with a sub-indication as EU DSS reports them:
HASH_FAILURE (the signed bytes changed), SIG_CRYPTO_FAILURE (the signature value does not verify),
REVOKED (a given CRL revoked the signer's certificate before the signing time it claims;
REVOKED_NO_POE when after), NO_CERTIFICATE_CHAIN_FOUND (no path to a trust anchor),
OUT_OF_BOUNDS_NO_POE / EXPIRED (outside the certificate's validity), FORMAT_FAILURE (the document was changed
after the signature in a way the signature does not allow, or the signature itself is malformed).
Baseline B-B signatures are judged with pyHanko's ``validate_pdf_signature``; the AdES path would call every
signature without a timestamp INDETERMINATE. Document timestamps (``/DocTimeStamp``, PAdES-LTA) are judged with
``validate_pdf_timestamp`` and reported beside the signatures with the kind "timestamp".

Files come from outside and are hostile: an unreadable file, or one encrypted so that it cannot be opened without
a password or a private key, raises DocumentError; a malformed signature is an entry of its own (TOTAL_FAILED,
FORMAT_FAILURE for a broken structure) and the others are judged as usual.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.crypt import AuthStatus, StandardSecurityHandler
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESSubIndic
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import DocumentTimestampStatus, ModificationInfo, PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

from .certs import SubjectSummary, summarise_subject, to_asn1
from .errors import DocumentError

__all__ = [
    "SCHEMA",
    "Verdict",
    "SignatureKind",
    "Modification",
    "SignatureReport",
    "DocumentReport",
    "Verifier",
    "SIGNING_KEY_USAGE",
    "open_pdf",
]

SCHEMA = "token-agent.verify/1"
"""Name and version of the JSON shape of a :class:`DocumentReport` (see docs in cli.py)."""

_MALFORMED_INPUT = (PdfError, ValueError, KeyError, TypeError)
"""What pyHanko and asn1crypto raise on objects that are not what the standards say (SignatureValidationError,
with pyHanko's sub-indication, is a ValueError)."""

SIGNING_KEY_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)
"""A signer's certificate must allow digital signature or non-repudiation (device certificates have only the first)."""


class Verdict(enum.StrEnum):
    """ETSI EN 319 102-1 main indication."""

    TOTAL_PASSED = "TOTAL_PASSED"
    INDETERMINATE = "INDETERMINATE"
    TOTAL_FAILED = "TOTAL_FAILED"


class SignatureKind(enum.StrEnum):
    """A signature made by a person or an organisation, or a document timestamp made by a TSA (PAdES-LTA)."""

    SIGNATURE = "signature"
    TIMESTAMP = "timestamp"


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
    """The judgement of one signature field: a signature, or a document timestamp (then the signer is the TSA)."""

    field_name: str
    kind: SignatureKind
    signer: SubjectSummary | None
    """None only when the signature is too malformed to name its signer's certificate."""
    certificate_sha256: str | None
    """SHA-256 of the signer's certificate (DER), lower-case hex: what a registry of certificates matches on."""
    signing_time: dt.datetime | None
    """The time the signer claims (B-B has no proof of it); a document timestamp's own time."""
    timestamp: dt.datetime | None
    """The time a trusted timestamp (B-T, or the document timestamp itself) proves the signature existed at;
    None without one."""
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
    """Every signature and document timestamp of a document, in the order they were made (malformed ones last)."""

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


def _judge(
    status: PdfSignatureStatus | DocumentTimestampStatus, modification: Modification, claimed: dt.datetime | None
) -> tuple[Verdict, str | None]:
    if not status.intact:
        return Verdict.TOTAL_FAILED, "HASH_FAILURE"
    if not status.valid:
        return Verdict.TOTAL_FAILED, "SIG_CRYPTO_FAILURE"
    if modification is Modification.OTHER or status.docmdp_ok is False:
        return Verdict.TOTAL_FAILED, "FORMAT_FAILURE"
    problem = status.trust_problem_indic
    if problem is None:
        return Verdict.TOTAL_PASSED, None
    revocation = status.revocation_details
    if problem is AdESIndeterminate.REVOKED_NO_POE and revocation and claimed and revocation.revocation_date <= claimed:
        # EN 319 102-1, basic signatures: revoked before the time the signer itself claims → TOTAL_FAILED
        return Verdict.TOTAL_FAILED, "REVOKED"
    return _indication(problem)


def _indication(problem: AdESSubIndic) -> tuple[Verdict, str]:
    if isinstance(problem, AdESFailure):
        return Verdict.TOTAL_FAILED, problem.name
    return Verdict.INDETERMINATE, problem.name if isinstance(problem, AdESIndeterminate) else str(problem)


def _modification(status: ModificationInfo) -> Modification:
    level = status.modification_level
    return _MODIFICATION[level] if level is not None else Modification.OTHER


def _kind(sig_object: generic.PdfObject) -> SignatureKind:
    is_timestamp = isinstance(sig_object, generic.DictionaryObject) and sig_object.get("/Type") == "/DocTimeStamp"
    return SignatureKind.TIMESTAMP if is_timestamp else SignatureKind.SIGNATURE


def _certificate_sha256(cert: asn1_x509.Certificate) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def _signer(cert: asn1_x509.Certificate) -> SubjectSummary:
    return summarise_subject(x509.load_der_x509_certificate(cert.dump()))


def _malformed(
    field_name: str, kind: SignatureKind, cert: asn1_x509.Certificate | None, problem: AdESSubIndic
) -> SignatureReport:
    """A signature that could not be judged: its CMS structure or its signature dictionary is broken."""
    verdict, sub_indication = _indication(problem)
    return SignatureReport(
        field_name=field_name,
        kind=kind,
        signer=_signer(cert) if cert is not None else None,
        certificate_sha256=_certificate_sha256(cert) if cert is not None else None,
        signing_time=None,
        timestamp=None,
        intact=False,
        valid=False,
        chain_trusted=False,
        revoked=False,
        coverage="UNCLEAR",
        modification=Modification.OTHER,  # unknown, as when pyHanko cannot tell the modification level
        verdict=verdict,
        sub_indication=sub_indication,
    )


def open_pdf(pdf: bytes) -> PdfFileReader:
    """A reader on ``pdf``, decrypted when it is encrypted with an empty user password (drafts exported with
    only an owner password, to restrict editing, are common).

    Raises DocumentError when the file is not a readable PDF, needs a password to open, or is encrypted for
    the private key of some recipient.
    """
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        handler = reader.security_handler
        if handler is None:
            return reader
        if not isinstance(handler, StandardSecurityHandler):
            raise DocumentError(
                "Tệp PDF được mã hóa cho chứng thư số của người nhận nên không mở được: hãy xin tệp không mã hóa.",
                code="pdf_encrypted",
            )
        if reader.decrypt("").status is AuthStatus.FAILED:
            raise DocumentError(
                "Tệp PDF có mật khẩu mở tệp nên không mở được: hãy xuất lại tệp không đặt mật khẩu.",
                code="pdf_encrypted",
            )
    except _MALFORMED_INPUT as exc:
        raise DocumentError(f"Không đọc được tệp PDF: {exc}", code="pdf_unreadable") from exc
    return reader


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
        """Judge every signature and document timestamp in ``pdf`` (bytes, or a reader already open on them and
        decrypted, as :func:`open_pdf` gives it).

        A file that is not a readable PDF, or cannot be opened (see :func:`open_pdf`), raises DocumentError.
        """
        reader = open_pdf(pdf) if isinstance(pdf, bytes) else pdf
        try:
            fields = list(enumerate_sig_fields(reader, filled_status=True))
        except _MALFORMED_INPUT as exc:
            raise DocumentError(f"Không đọc được tệp PDF: {exc}", code="pdf_unreadable") from exc
        embedded: list[EmbeddedPdfSignature] = []
        malformed: list[SignatureReport] = []
        for name, sig_object, sig_field in fields:
            value = sig_object.get_object()
            parsed = _parse_signature(reader, name, value, sig_field)
            if parsed is None:
                malformed.append(_malformed(name, _kind(value), None, AdESFailure.FORMAT_FAILURE))
            else:
                embedded.append(parsed)
        embedded.sort(key=lambda sig: sig.signed_revision)
        return DocumentReport(signatures=(*(self._report(sig) for sig in embedded), *malformed))

    def _report(self, embedded: EmbeddedPdfSignature) -> SignatureReport:
        kind = _kind(embedded.sig_object)
        try:
            if kind is SignatureKind.TIMESTAMP:
                stamp = validate_pdf_timestamp(embedded, self._context())
                return self._status_report(embedded, kind, stamp, claimed=stamp.timestamp)
            status = validate_pdf_signature(embedded, self._context(), key_usage_settings=SIGNING_KEY_USAGE)
            return self._status_report(embedded, kind, status, claimed=status.signer_reported_dt)
        except _MALFORMED_INPUT as exc:
            return _malformed(embedded.field_name, kind, _known_signer(embedded), _structural_problem(exc))

    @staticmethod
    def _status_report(
        embedded: EmbeddedPdfSignature,
        kind: SignatureKind,
        status: PdfSignatureStatus | DocumentTimestampStatus,
        claimed: dt.datetime | None,
    ) -> SignatureReport:
        modification = _modification(status)
        verdict, sub_indication = _judge(status, modification, claimed)
        if isinstance(status, DocumentTimestampStatus):
            proven = status.timestamp if status.trusted else None
        else:
            stamp = status.timestamp_validity
            proven = stamp.timestamp if stamp is not None and stamp.trusted else None
        return SignatureReport(
            field_name=embedded.field_name,
            kind=kind,
            signer=_signer(status.signing_cert),
            certificate_sha256=_certificate_sha256(status.signing_cert),
            signing_time=claimed,
            timestamp=proven,
            intact=status.intact,
            valid=status.valid,
            chain_trusted=status.validation_path is not None,
            revoked=status.revoked,
            coverage=status.coverage.name if status.coverage is not None else "UNCLEAR",
            modification=modification,
            verdict=verdict,
            sub_indication=sub_indication,
        )


def _parse_signature(
    reader: PdfFileReader, name: str, value: generic.PdfObject, sig_field: generic.DictionaryObject
) -> EmbeddedPdfSignature | None:
    """The signature in a field, or None when its dictionary or its CMS structure cannot be read."""
    if not isinstance(value, generic.DictionaryObject):  # pyHanko asserts that it is one
        return None
    try:
        return EmbeddedPdfSignature(reader, sig_field, name)
    except _MALFORMED_INPUT:
        return None


def _structural_problem(exc: Exception) -> AdESSubIndic:
    """pyHanko's sub-indication for a signature it refused to judge; FORMAT_FAILURE for a broken structure."""
    return exc.ades_subindication if isinstance(exc, SignatureValidationError) else AdESFailure.FORMAT_FAILURE


def _known_signer(embedded: EmbeddedPdfSignature) -> asn1_x509.Certificate | None:
    """The signer's certificate of a signature that failed validation, when its CMS still names one."""
    try:
        return embedded.signer_cert
    except _MALFORMED_INPUT:
        return None
