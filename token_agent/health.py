"""Health check of PKCS#11 tokens (``token-agent check``): is this token ready to sign documents?

Every check has a stable id, a status (PASS, WARN, FAIL, SKIP), a message in Vietnamese and in English, and a
hint saying what to do. Checks, by id:

========================  ============================================================================
``module.load``           the PKCS#11 library loads
``clock.reference``       the PC clock agrees with a reference time (the signing date is the issuing date)
``token.present``         a token matching ``--token``/``--serial`` (or any token) is plugged in
``token.initialized``     the token has been initialised
``pin.user_initialized``  the user PIN has been set
``pin.locked``            the user PIN is not locked (FAIL)
``pin.final_try``         one more wrong PIN would lock it (FAIL; no login is tried unless forced)
``pin.count_low``         a wrong PIN was entered since the last good login (WARN)
``pin.must_change``       the PIN must be changed before use (WARN)
``token.login``           login with the user PIN succeeds
``cert.present``          the token holds at least one end-entity certificate
``cert.private_key``      a private key on the token matches the certificate (per certificate)
``cert.validity``         the certificate is in force; WARN under 30 days left
``cert.key_usage``        the certificate allows digital signature or non-repudiation
``cert.chain``            a path leads to a ``--trust`` anchor
``cert.revocation``       no ``--crl`` lists the certificate
``cert.test_signature``   a signature made on the token verifies with the certificate's public key
                          (its :class:`SignatureEvidence` lets a server check it again)
``cert.test_pdf``         a PDF signed on the token passes pyHanko's validation (integrity, signature)
========================  ============================================================================

Checks that cannot run (no PIN, no trust anchors, an earlier failure) are SKIP with the reason.
Exit code: 0 when nothing is worse than PASS/SKIP, 1 with warnings, 2 with failures.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import pkcs11
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pkcs11 import TokenFlag
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from reportlab.pdfgen.canvas import Canvas

from . import pkcs11_access
from .certs import build_chain, is_ca, revocation_entry, summarise_subject, utc_now
from .errors import PinError, PinLockedError, TokenAgentError
from .pkcs11_access import Pin, TokenCertificate, TokenInfo, TokenSelector
from .signing import token_signer
from .verification import Verifier

__all__ = [
    "SCHEMA",
    "CHECK_IDS",
    "TEST_SIGNATURE_PREFIX",
    "Status",
    "SignatureEvidence",
    "CheckResult",
    "TokenReport",
    "HealthReport",
    "CheckOptions",
    "PinSource",
    "run_health_check",
    "verify_evidence",
    "check_tokens",
    "test_document",
]

SCHEMA = "token-agent.check/1"
"""Name and version of the JSON shape of a :class:`HealthReport`."""

TEST_SIGNATURE_PREFIX = b"token-agent.check/1 test-signature "
"""How the data signed by ``cert.test_signature`` begins; the check's time (ISO 8601) and a random nonce follow."""

#: Every check's id, as results name them: the general ones, then each token's in the order they run.
CHECK_IDS = (
    "module.load",
    "clock.reference",
    "token.present",
    "token.initialized",
    "pin.user_initialized",
    "pin.locked",
    "pin.final_try",
    "pin.count_low",
    "pin.must_change",
    "token.login",
    "cert.present",
    "cert.private_key",
    "cert.validity",
    "cert.key_usage",
    "cert.chain",
    "cert.revocation",
    "cert.test_signature",
    "cert.test_pdf",
)

EXPIRY_WARNING = dt.timedelta(days=30)
CLOCK_TOLERANCE = dt.timedelta(minutes=5)

PinSource = Callable[[TokenInfo], Pin | None]
"""Gives the user PIN for a token (from an environment variable, a prompt), or None to check without login."""


class Status(enum.StrEnum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


_SEVERITY = {Status.SKIP: 0, Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2}


@dataclass(frozen=True)
class SignatureEvidence:
    """What a passed test signature was made on and with, so that whoever receives the report can verify it
    with the certificate's public key (SHA-256; PKCS#1 v1.5 for RSA, DER-encoded ECDSA for EC keys)."""

    signed_data: bytes
    signature: bytes


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check; ``subject`` names the certificate when the check is about one, and
    ``certificate_sha256`` its SHA-256 thumbprint (hex) then."""

    id: str
    status: Status
    message: str
    message_en: str
    hint: str = ""
    subject: str = ""
    certificate_sha256: str = ""
    evidence: SignatureEvidence | None = None


def _worst(results: Sequence[CheckResult]) -> Status:
    return max((r.status for r in results), key=_SEVERITY.__getitem__, default=Status.PASS)


@dataclass(frozen=True)
class TokenReport:
    """Every check of one token; ``label``/``serial`` are what the token says, or what the user asked for."""

    label: str
    serial: str
    manufacturer: str
    model: str
    results: tuple[CheckResult, ...]
    json_properties: ClassVar[tuple[str, ...]] = ("status",)

    @property
    def status(self) -> Status:
        return _worst(self.results)

    def result(self, check_id: str, subject: str = "") -> CheckResult:
        return next(r for r in self.results if r.id == check_id and (not subject or r.subject == subject))


@dataclass(frozen=True)
class HealthReport:
    """The whole check: general results (module, clock) and one report per token."""

    module: str
    checked_at: dt.datetime
    general: tuple[CheckResult, ...]
    tokens: tuple[TokenReport, ...]
    json_properties: ClassVar[tuple[str, ...]] = ("status", "exit_code")

    @property
    def status(self) -> Status:
        return _worst([*self.general, *(r for t in self.tokens for r in t.results)])

    @property
    def exit_code(self) -> int:
        return _SEVERITY[self.status]


@dataclass(frozen=True)
class CheckOptions:
    """What to check and against what."""

    module_path: str | None = None
    selectors: tuple[TokenSelector, ...] = ()
    pin_source: PinSource = field(default=lambda _info: None, repr=False)
    force_login: bool = False
    """Try the PIN even when one more wrong PIN would lock the token."""
    trust_anchors: tuple[x509.Certificate, ...] = ()
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    reference_time: dt.datetime | None = None
    test_signatures: bool = True
    now: Callable[[], dt.datetime] = field(default=utc_now, repr=False)


def _result(check_id: str, status: Status, vi: str, en: str, hint: str = "", subject: str = "") -> CheckResult:
    return CheckResult(id=check_id, status=status, message=vi, message_en=en, hint=hint, subject=subject)


# --- general checks ------------------------------------------------------------------------------------


def _clock(options: CheckOptions) -> CheckResult:
    if options.reference_time is None:
        return _result(
            "clock.reference",
            Status.SKIP,
            "Không có thời gian chuẩn để so sánh.",
            "No reference time given.",
            "Dùng --reference-time để so đồng hồ máy tính.",
        )
    now = options.now()
    drift = abs(now - options.reference_time)
    vn = dt.timezone(dt.timedelta(hours=7))
    if now.astimezone(vn).date() != options.reference_time.astimezone(vn).date():
        return _result(
            "clock.reference",
            Status.FAIL,
            f"Đồng hồ máy tính lệch sang ngày khác ({drift} so với chuẩn).",
            f"The PC clock is on another day ({drift} off).",
            "Chỉnh đồng hồ máy tính: ngày ký phải là ngày ban hành văn bản.",
        )
    if drift > CLOCK_TOLERANCE:
        return _result(
            "clock.reference",
            Status.WARN,
            f"Đồng hồ máy tính lệch {drift} so với thời gian chuẩn.",
            f"The PC clock is {drift} off the reference.",
            "Đồng bộ đồng hồ máy tính (NTP).",
        )
    return _result("clock.reference", Status.PASS, "Đồng hồ máy tính đúng.", "The PC clock is right.")


# --- per-token checks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PinFlagCheck:
    """A PIN flag: the check's id, its status when the flag is set, what to say either way."""

    id: str
    flag: TokenFlag
    status: Status
    when_set: tuple[str, str]
    hint: str
    when_clear: tuple[str, str]


_PIN_FLAGS = (
    _PinFlagCheck(
        "pin.locked",
        TokenFlag.USER_PIN_LOCKED,
        Status.FAIL,
        ("Mã PIN đã bị khóa.", "The user PIN is locked."),
        "PIN đã bị khóa: lập đề nghị khôi phục thiết bị lưu khóa bí mật.",
        ("Mã PIN không bị khóa.", "The user PIN is not locked."),
    ),
    _PinFlagCheck(
        "pin.final_try",
        TokenFlag.USER_PIN_FINAL_TRY,
        Status.FAIL,
        (
            "Chỉ còn một lần nhập mã PIN: nhập sai nữa thiết bị sẽ bị khóa.",
            "Final PIN try: one more wrong PIN locks the token.",
        ),
        "Không thử đăng nhập; chỉ nhập PIN khi chắc chắn đúng (--force-login), nếu không hãy đề nghị "
        "khôi phục thiết bị lưu khóa bí mật.",
        ("Chưa đến lần nhập PIN cuối cùng.", "Not at the final PIN try."),
    ),
    _PinFlagCheck(
        "pin.count_low",
        TokenFlag.USER_PIN_COUNT_LOW,
        Status.WARN,
        ("Đã có lần nhập sai mã PIN.", "A wrong PIN was entered since the last good login."),
        "Kiểm tra lại mã PIN trước khi nhập; một lần đăng nhập đúng sẽ xóa cảnh báo này.",
        ("Không có lần nhập sai mã PIN.", "No wrong PIN since the last good login."),
    ),
    _PinFlagCheck(
        "pin.must_change",
        TokenFlag.USER_PIN_TO_BE_CHANGED,
        Status.WARN,
        ("Mã PIN phải được đổi trước khi dùng.", "The user PIN must be changed before use."),
        "Đổi mã PIN bằng phần mềm quản lý thiết bị ký số.",
        ("Không phải đổi mã PIN.", "The user PIN need not be changed."),
    ),
)


def _pin_flag_results(info: TokenInfo) -> list[CheckResult]:
    return [
        _result(check.id, check.status, *check.when_set, check.hint)
        if info.has(check.flag)
        else _result(check.id, Status.PASS, *check.when_clear)
        for check in _PIN_FLAGS
    ]


def _structure_results(info: TokenInfo) -> list[CheckResult]:
    """token.initialized and pin.user_initialized; a FAIL here stops the token's checks."""
    if not info.has(TokenFlag.TOKEN_INITIALIZED):
        return [
            _result(
                "token.initialized",
                Status.FAIL,
                "Thiết bị chưa được khởi tạo.",
                "Token not initialised.",
                "Thiết bị trắng: liên hệ đầu mối để khởi tạo hoặc đề nghị cấp lại thiết bị.",
            )
        ]
    results = [_result("token.initialized", Status.PASS, "Thiết bị đã được khởi tạo.", "Token initialised.")]
    if not info.has(TokenFlag.USER_PIN_INITIALIZED):
        results.append(
            _result(
                "pin.user_initialized",
                Status.FAIL,
                "Chưa đặt mã PIN người dùng.",
                "User PIN not initialised.",
                "Đặt mã PIN người dùng bằng phần mềm quản lý thiết bị.",
            )
        )
    else:
        results.append(
            _result("pin.user_initialized", Status.PASS, "Đã đặt mã PIN người dùng.", "User PIN initialised.")
        )
    return results


def _validity(cert: x509.Certificate, now: dt.datetime, subject: str) -> CheckResult:
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    until = f"{not_after:%d/%m/%Y}"
    if now < not_before:
        return _result(
            "cert.validity",
            Status.FAIL,
            f"Chứng thư số chưa có hiệu lực (từ {not_before:%d/%m/%Y}).",
            "Certificate not yet valid.",
            "Kiểm tra đồng hồ máy tính.",
            subject,
        )
    if now > not_after:
        return _result(
            "cert.validity",
            Status.FAIL,
            f"Chứng thư số đã hết hạn ngày {until}.",
            f"Certificate expired on {not_after:%Y-%m-%d}.",
            "Lập đề nghị gia hạn chứng thư số (Mẫu 04).",
            subject,
        )
    if not_after - now < EXPIRY_WARNING:
        return _result(
            "cert.validity",
            Status.WARN,
            f"Chứng thư số sắp hết hạn: còn {(not_after - now).days} ngày (đến {until}).",
            f"Certificate expires in {(not_after - now).days} days.",
            "Lập đề nghị gia hạn chứng thư số ngay (Mẫu 04).",
            subject,
        )
    return _result(
        "cert.validity",
        Status.PASS,
        f"Chứng thư số còn hiệu lực đến {until}.",
        f"Certificate valid until {not_after:%Y-%m-%d}.",
        subject=subject,
    )


def _key_usage(cert: x509.Certificate, subject: str) -> CheckResult:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        allowed = usage.digital_signature or usage.content_commitment
    except x509.ExtensionNotFound:
        allowed = True  # no restriction
    if allowed:
        return _result(
            "cert.key_usage",
            Status.PASS,
            "Chứng thư số cho phép ký số.",
            "Key usage allows digital signature.",
            subject=subject,
        )
    return _result(
        "cert.key_usage",
        Status.FAIL,
        "Chứng thư số không cho phép ký số (chỉ dùng để mã hóa).",
        "Key usage allows neither digital signature nor non-repudiation.",
        "Đề nghị cấp chứng thư số ký (không phải chứng thư mã hóa).",
        subject,
    )


def _chain(
    cert: x509.Certificate, token_certs: Sequence[TokenCertificate], options: CheckOptions, subject: str
) -> tuple[CheckResult, list[x509.Certificate] | None]:
    if not options.trust_anchors:
        return _result(
            "cert.chain",
            Status.SKIP,
            "Không có chứng thư gốc tin cậy để kiểm tra.",
            "No trust anchors given.",
            "Chỉ chứng thư gốc bằng --trust.",
            subject,
        ), None
    path = build_chain(cert, [c.certificate for c in token_certs], options.trust_anchors)
    if path is None:
        return _result(
            "cert.chain",
            Status.FAIL,
            "Không xây dựng được chuỗi chứng thực đến chứng thư gốc tin cậy.",
            "No certificate chain to a trust anchor.",
            "Kiểm tra chứng thư gốc (--trust) và cài chứng thư của CA trung gian.",
            subject,
        ), None
    anchor = summarise_subject(path[-1]).common_name
    return _result(
        "cert.chain",
        Status.PASS,
        f"Chuỗi chứng thực hợp lệ đến «{anchor}».",
        "Chain to a trust anchor found.",
        subject=subject,
    ), path


def _revocation(
    cert: x509.Certificate, path: list[x509.Certificate] | None, options: CheckOptions, subject: str
) -> CheckResult:
    if not options.crls:
        return _result(
            "cert.revocation",
            Status.SKIP,
            "Không có danh sách thu hồi (CRL) để kiểm tra.",
            "No CRL given.",
            "Tải CRL của CA và chỉ bằng --crl.",
            subject,
        )
    if path is None or len(path) < 2:
        return _result(
            "cert.revocation",
            Status.SKIP,
            "Không có chứng thư của CA phát hành để kiểm tra CRL.",
            "Issuer certificate unknown: CRL not checked.",
            "Chỉ chứng thư gốc bằng --trust.",
            subject,
        )
    found = revocation_entry(cert, path[1], options.crls)
    if found is None:
        return _result(
            "cert.revocation",
            Status.WARN,
            "Không có CRL của CA phát hành chứng thư số này.",
            "No CRL of this certificate's issuer was given.",
            "Tải CRL mới của CA phát hành.",
            subject,
        )
    crl, entry = found
    if entry is not None:
        return _result(
            "cert.revocation",
            Status.FAIL,
            f"Chứng thư số đã bị thu hồi ngày {entry.revocation_date_utc:%d/%m/%Y}.",
            "Certificate revoked.",
            "Lập đề nghị cấp mới chứng thư số (Mẫu 01/02).",
            subject,
        )
    if crl.next_update_utc is not None and crl.next_update_utc < options.now():
        return _result(
            "cert.revocation",
            Status.WARN,
            "CRL đã quá hạn cập nhật: kết quả có thể cũ.",
            "The CRL is past its next update.",
            "Tải CRL mới của CA phát hành.",
            subject,
        )
    return _result(
        "cert.revocation", Status.PASS, "Chứng thư số không bị thu hồi.", "Certificate not revoked.", subject=subject
    )


def _verify_raw(cert: x509.Certificate, signature: bytes, data: bytes) -> None:
    public_key = cert.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    elif isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise InvalidSignature(f"unsupported key type {type(public_key).__name__}")


def verify_evidence(cert: x509.Certificate, evidence: SignatureEvidence) -> bool:
    """Whether ``evidence`` holds a signature of its data made with the key ``cert`` certifies."""
    try:
        _verify_raw(cert, evidence.signature, evidence.signed_data)
    except (InvalidSignature, ValueError):
        return False
    return True


def _test_signature(key: pkcs11.SignMixin, cert: x509.Certificate, now: dt.datetime, subject: str) -> CheckResult:
    challenge = TEST_SIGNATURE_PREFIX + f"{now.isoformat()} {os.urandom(16).hex()}".encode()
    try:
        signature = pkcs11_access.sign_with_key(key, cert, challenge)
        _verify_raw(cert, signature, challenge)
    except (pkcs11.PKCS11Error, InvalidSignature) as exc:
        return _result(
            "cert.test_signature",
            Status.FAIL,
            "Ký thử không thành công hoặc chữ ký không khớp chứng thư số.",
            f"Test signature failed: {type(exc).__name__}.",
            "Khóa bí mật không khớp chứng thư số: đề nghị khôi phục thiết bị.",
            subject,
        )
    return dataclasses.replace(
        _result(
            "cert.test_signature",
            Status.PASS,
            "Ký thử thành công, chữ ký khớp chứng thư số.",
            "Test signature verified with the certificate's public key.",
            subject=subject,
        ),
        evidence=SignatureEvidence(signed_data=challenge, signature=signature),
    )


@functools.cache
def test_document() -> bytes:
    """The one-page PDF the ``cert.test_pdf`` check signs."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, "token-agent test")
    canvas.save()
    return buffer.getvalue()


def _test_pdf(session: pkcs11.Session, chosen: TokenCertificate, options: CheckOptions, subject: str) -> CheckResult:
    try:
        signer = token_signer(session, chosen.label)
        out = io.BytesIO()
        signers.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(test_document())),
            signers.PdfSignatureMetadata(field_name="KyThu"),
            signer=signer,
            output=out,
        )
        (report,) = Verifier(options.trust_anchors).verify(out.getvalue()).signatures
    except (TokenAgentError, pkcs11.PKCS11Error, ValueError) as exc:
        return _result(
            "cert.test_pdf",
            Status.FAIL,
            "Không ký thử được tệp PDF.",
            f"Test PDF signing failed: {exc}",
            "Kiểm tra trình điều khiển thiết bị và chứng thư số.",
            subject,
        )
    if report.intact and report.valid:
        return _result(
            "cert.test_pdf",
            Status.PASS,
            "Ký thử tệp PDF thành công, chữ ký toàn vẹn.",
            "Test PDF signature is intact and valid.",
            subject=subject,
        )
    return _result(
        "cert.test_pdf",
        Status.FAIL,
        "Chữ ký thử trên tệp PDF không hợp lệ.",
        "Test PDF signature does not validate.",
        "Đề nghị khôi phục thiết bị lưu khóa bí mật.",
        subject,
    )


def _certificate_results(session: pkcs11.Session, logged_in: bool, options: CheckOptions) -> list[CheckResult]:
    token_certs = pkcs11_access.list_certificates(session)
    own = [c for c in token_certs if not is_ca(c.certificate)]
    if not own:
        return [
            _result(
                "cert.present",
                Status.FAIL,
                "Thiết bị không có chứng thư số.",
                "No certificate on the token.",
                "Đề nghị cấp chứng thư số hoặc cài chứng thư số vào thiết bị.",
            )
        ]
    results = [_result("cert.present", Status.PASS, f"Có {len(own)} chứng thư số.", f"{len(own)} certificate(s).")]
    now = options.now()
    for token_cert in own:
        start = len(results)
        cert, subject = token_cert.certificate, token_cert.subject_cn
        key = pkcs11_access.find_private_key(session, token_cert) if logged_in else None
        if not logged_in:
            results.append(
                _result(
                    "cert.private_key",
                    Status.SKIP,
                    "Chưa đăng nhập: không kiểm tra khóa bí mật.",
                    "Not logged in: private key not checked.",
                    "Cung cấp mã PIN.",
                    subject,
                )
            )
        elif key is None:
            results.append(
                _result(
                    "cert.private_key",
                    Status.FAIL,
                    "Không có khóa bí mật khớp chứng thư số.",
                    "No private key matches the certificate.",
                    "Đề nghị khôi phục thiết bị lưu khóa bí mật (Mẫu 06).",
                    subject,
                )
            )
        else:
            results.append(
                _result(
                    "cert.private_key",
                    Status.PASS,
                    "Có khóa bí mật khớp chứng thư số.",
                    "A private key matches the certificate.",
                    subject=subject,
                )
            )
        chain, path = _chain(cert, token_certs, options, subject)
        results += [
            _validity(cert, now, subject),
            _key_usage(cert, subject),
            chain,
            _revocation(cert, path, options, subject),
        ]
        if key is not None and options.test_signatures:
            results += [_test_signature(key, cert, now, subject), _test_pdf(session, token_cert, options, subject)]
        thumbprint = cert.fingerprint(hashes.SHA256()).hex()
        results[start:] = [dataclasses.replace(r, certificate_sha256=thumbprint) for r in results[start:]]
    return results


def _login_refusal(info: TokenInfo, options: CheckOptions) -> str | None:
    if info.has(TokenFlag.USER_PIN_LOCKED):
        return "Mã PIN đã bị khóa: không đăng nhập."
    if info.has(TokenFlag.USER_PIN_FINAL_TRY) and not options.force_login:
        return "Không thử đăng nhập vì chỉ còn một lần nhập mã PIN (dùng --force-login nếu chắc chắn)."
    return None


def _check_token(token: pkcs11.Token, options: CheckOptions) -> TokenReport:
    info = pkcs11_access.token_info(token)
    results = [_result("token.present", Status.PASS, "Đã tìm thấy thiết bị ký số.", "Token present.")]
    results += _structure_results(info)
    if results[-1].status is not Status.FAIL:
        results += _pin_flag_results(info)
        results += _login_and_certificates(token, info, options)
    return TokenReport(
        label=info.label, serial=info.serial, manufacturer=info.manufacturer, model=info.model, results=tuple(results)
    )


def _login_and_certificates(token: pkcs11.Token, info: TokenInfo, options: CheckOptions) -> list[CheckResult]:
    refusal = _login_refusal(info, options)
    pin = None if refusal else options.pin_source(info)
    if refusal or pin is None:
        results = [
            _result(
                "token.login",
                Status.SKIP,
                refusal or "Không có mã PIN: không đăng nhập.",
                "Login not attempted.",
                "" if refusal else "Cung cấp mã PIN bằng --pin-env hoặc --ask-pin.",
            )
        ]
    else:
        try:
            with pkcs11_access.open_session(token, pin) as session:
                return [
                    _result("token.login", Status.PASS, "Đăng nhập bằng mã PIN thành công.", "Login succeeded."),
                    *_certificate_results(session, True, options),
                ]
        except PinLockedError as exc:
            return [
                _result(
                    "token.login",
                    Status.FAIL,
                    exc.message,
                    "PIN locked.",
                    "PIN đã bị khóa: lập đề nghị khôi phục thiết bị lưu khóa bí mật.",
                )
            ]
        except PinError as exc:
            results = [
                _result(
                    "token.login",
                    Status.FAIL,
                    exc.message,
                    "Login failed: wrong PIN.",
                    "Kiểm tra mã PIN; nhập sai nhiều lần thiết bị sẽ bị khóa.",
                )
            ]
    with pkcs11_access.open_session(token, None) as session:
        return [*results, *_certificate_results(session, False, options)]


def _missing(selector: TokenSelector) -> TokenReport:
    return TokenReport(
        label=selector.label or "",
        serial=selector.serial or "",
        manufacturer="",
        model="",
        results=(
            _result(
                "token.present",
                Status.FAIL,
                f"Không tìm thấy {selector.describe()}.",
                "Token not found.",
                "Cắm thiết bị vào máy và cài trình điều khiển của thiết bị.",
            ),
        ),
    )


def check_tokens(tokens: Sequence[pkcs11.Token], options: CheckOptions) -> HealthReport:
    """Check the given tokens (objects with python-pkcs11's Token interface), without loading a module."""
    return _report("", (), [_check_token(token, options) for token in tokens], options)


def _report(
    module: str, general: Sequence[CheckResult], tokens: Sequence[TokenReport], options: CheckOptions
) -> HealthReport:
    return HealthReport(
        module=module, checked_at=options.now(), general=(*general, _clock(options)), tokens=tuple(tokens)
    )


def run_health_check(options: CheckOptions) -> HealthReport:
    """Load the module, find the tokens the options name (every token present when none), check each."""
    path = options.module_path or ""
    try:
        path = path or pkcs11_access.default_module_path()
        module = pkcs11_access.load_module(path)
    except TokenAgentError as exc:
        failed = _result(
            "module.load",
            Status.FAIL,
            exc.message,
            "PKCS#11 module failed to load.",
            "Cài trình điều khiển của thiết bị ký số hoặc chỉ đúng đường dẫn bằng --module.",
        )
        return _report(path, (failed,), (), options)
    loaded = _result("module.load", Status.PASS, f"Đã nạp thư viện PKCS#11 {path}.", "PKCS#11 module loaded.")
    present = pkcs11_access.present_tokens(module)
    reports: list[TokenReport] = []
    for selector in options.selectors or (TokenSelector(),):
        matching = [token for token in present if selector.matches(token)]
        reports += [_check_token(token, options) for token in matching] or [_missing(selector)]
    return _report(path, (loaded,), reports, options)
