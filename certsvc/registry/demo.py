"""Example tokens and certificates for the demo district, made by the token_agent test PKI.

Registered through :mod:`certsvc.registry.registration` as the actor "demo", so the audit log
shows them like any other registration. The certificates are throw-away test material
(a test root and issuing CA, keys generated here and discarded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session

from certsvc.audit.service import Actor
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.registry import expiry, registration, service
from certsvc.registry.certificates import ParsedCertificate, summarise
from certsvc.registry.models import Certificate, Token, TokenKind, TokenState
from certsvc.timeutil import utcnow
from token_agent.demo import DEVICE_USAGE, SIGNING_USAGE, Authority, root_authority, sub_authority, vn_name

__all__ = ["load_demo", "DEMO_ACTOR", "issue_test_certificate", "throwaway_issuer"]

DEMO_ACTOR = Actor(label="demo")


def throwaway_issuer() -> Authority:
    """A throw-away root and issuing CA; the issuing one signs the demo and test certificates."""
    return sub_authority(
        root_authority("Root CA chuyên dùng Chính phủ (thử nghiệm)"), "CA phục vụ các cơ quan nhà nước (thử nghiệm)"
    )


def issue_test_certificate(
    issuer: Authority,
    cn: str,
    uid: str | None,
    org: str,
    *,
    not_before: datetime,
    not_after: datetime,
    device: bool = False,
):
    """An end-entity certificate for a fresh EC key (fast to make): a ``cryptography`` certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    return issuer.issue(
        vn_name(cn, uid, org=org),
        key.public_key(),
        usage=DEVICE_USAGE if device else SIGNING_USAGE,
        not_before=not_before,
        not_after=not_after,
    )


@dataclass(frozen=True)
class _Spec:
    key: str
    cn: str
    uid: str
    org: str
    holder: str | None
    kind: TokenKind
    serial: str
    #: Validity relative to now, in days.
    starts: int
    ends: int


_SPECS = (
    _Spec(
        "huyen_seal",
        "UBND huyện Văn Quan",
        "MST:4900123456",
        "huyen",
        None,
        TokenKind.ORGANISATION,
        "5401A7C30001",
        -300,
        1525,
    ),
    _Spec(
        "khanh",
        "Nông Văn Khánh",
        "CCCD:020081000123",
        "tandoan",
        "thutruong",
        TokenKind.PERSONAL,
        "5401A7C30002",
        -1080,
        20,
    ),
    _Spec(
        "tandoan_seal",
        "UBND xã Tân Đoàn",
        "MST:4900123789",
        "tandoan",
        None,
        TokenKind.ORGANISATION,
        "5401A7C30003",
        -400,
        700,
    ),
    _Spec("ngoc", "Hà Thị Ngọc", "CCCD:020185000456", "vp", "vanthu", TokenKind.PERSONAL, "5401A7C30004", -1100, -12),
    _Spec(
        "hang_old",
        "Lương Thị Hằng",
        "CCCD:020190000789",
        "vhtt",
        "daumoi",
        TokenKind.PERSONAL,
        "5401A7C30005",
        -1095,
        -5,
    ),
    _Spec("tung", "Vi Văn Tùng", "CCCD:020092000321", "tandoan", "canbo", TokenKind.PERSONAL, "5401A7C30006", -200, 55),
)


def load_demo(
    session: Session, orgs: dict[str, Organisation], people: dict[str, Person], settings: service.RegistrySettings
) -> None:
    """One organisation token per the district and a commune, personal tokens (one expiring within 30
    days, one within 60, one expired, one renewed), a revoked certificate with its token return open,
    a PIN-locked token, and the expiry reminders of today; deadlines and reminders as ``settings`` say."""
    issuer = throwaway_issuer()
    now = utcnow()
    registered: dict[str, Certificate] = {}
    parsed: dict[str, ParsedCertificate] = {}
    tokens: dict[str, Token] = {}
    for spec in _SPECS:
        org = orgs[spec.org]
        holder_id = people[spec.holder].id if spec.holder else None
        tokens[spec.key] = registration.get_or_create_token(
            session,
            DEMO_ACTOR,
            spec.serial,
            kind=spec.kind,
            organisation_id=org.id,
            holder_id=holder_id,
            model="Bkav Token ePass2003",
        )
        cert = issue_test_certificate(
            issuer,
            spec.cn,
            spec.uid,
            org.name,
            not_before=now + timedelta(days=spec.starts),
            not_after=now + timedelta(days=spec.ends),
        )
        parsed[spec.key] = summarise(cert)
        registered[spec.key] = registration.register_certificate(
            session,
            DEMO_ACTOR,
            parsed[spec.key],
            kind=spec.kind,
            organisation_id=org.id,
            holder_id=holder_id,
            token_serial=spec.serial,
        )
    # Lương Thị Hằng's certificate was renewed on a new token.
    renewal = issue_test_certificate(
        issuer,
        "Lương Thị Hằng",
        "CCCD:020190000789",
        orgs["vhtt"].name,
        not_before=now - timedelta(days=8),
        not_after=now + timedelta(days=3 * 365 - 8),
    )
    registration.register_certificate(
        session,
        DEMO_ACTOR,
        summarise(renewal),
        kind=TokenKind.PERSONAL,
        organisation_id=orgs["vhtt"].id,
        holder_id=people["daumoi"].id,
        token_serial="5401A7C30007",
        predecessor=registered["hang_old"],
    )
    service.transition_token(
        session,
        DEMO_ACTOR,
        tokens["hang_old"],
        TokenState.RETURNED,
        "Nộp lại thiết bị cũ cho CA sau khi gia hạn, biên bản bàn giao Mẫu 08.",
    )
    # The commune's organisation certificate was revoked yesterday: its token is due back at the CA.
    service.revoke_certificate(
        session,
        DEMO_ACTOR,
        registered["tandoan_seal"],
        revoked_at=now - timedelta(days=1),
        reason="Sắp xếp đơn vị hành chính cấp xã, thu hồi chứng thư của tổ chức",
        calendar=settings.calendar,
    )
    service.transition_token(
        session, DEMO_ACTOR, tokens["tung"], TokenState.PIN_LOCKED, "Nhập sai mã PIN quá số lần cho phép."
    )
    expiry.record_expiry_reminders(session, now, thresholds=settings.reminder_thresholds, actor=DEMO_ACTOR)
