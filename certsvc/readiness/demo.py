"""Example readiness data for ``certsvc demo``: a district with units in every state, from real checks.

Real SoftHSM tokens (PIN :data:`~token_agent.demo.USER_PIN`) are added to the documents demo's token folder and
checked with ``token_agent.health``, and the reports filed through :func:`certsvc.readiness.reports.store_report`:

- UBND huyện Văn Quan: the seal token and Lăng Văn Hùng's token pass, his checked at the focal office during an
  assisted visit → **sẵn sàng**;
- UBND xã Tràng Phái: the seal token's certificate has no key on the token → **organisation token failing**, and
  the commune's officer (``canbotp``) drafted the revocation from that failed check;
- UBND xã Yên Phúc: the seal token passes, the chairman's token was never checked → **head token unchecked**;
- UBND thị trấn Văn Quan: both pass, the chairman's certificate expires in 15 days → **expiring**;
- UBND xã Tân Đoàn keeps what the registry demo gave it (its seal certificate revoked): **incomplete**.

The new accounts share the demo password: ``chutichtp``, ``canbotp``, ``chutichyp``, ``chutichtt``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account, Role, RoleAssignment
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.readiness import remedies, visits
from certsvc.readiness.models import ReportSource
from certsvc.readiness.reports import store_report
from certsvc.registry import registration
from certsvc.registry.certificates import summarise
from certsvc.registry.demo import DEMO_ACTOR, issue_test_certificate, throwaway_issuer
from certsvc.registry.models import TokenKind
from certsvc.timeutil import utcnow
from token_agent import demo, health, pkcs11_access
from token_agent.certs import load_certificates
from token_agent.pkcs11_access import Pin, TokenSelector
from token_agent.reporting import dump_json

__all__ = ["load_demo", "DEMO_HEADS"]

#: The documents demo's tokens checked here (their certificates are in the registry already).
_SIGNER_TOKEN, _SEAL_TOKEN = "PHO-CHU-TICH", "UBND-VAN-QUAN"


@dataclass(frozen=True)
class _Head:
    username: str
    full_name: str
    position: str
    org: str
    role: Role = Role.UNIT_HEAD


DEMO_HEADS = (
    _Head("chutichtp", "Hoàng Văn Bình", "Chủ tịch UBND xã", "trangphai"),
    _Head("canbotp", "Lộc Thị Huệ", "Công chức Văn phòng - Thống kê", "trangphai", Role.UNIT_OFFICER),
    _Head("chutichyp", "Chu Văn Lâm", "Chủ tịch UBND xã", "yenphuc"),
    _Head("chutichtt", "Dương Thị Mến", "Chủ tịch UBND thị trấn", "tt"),
)


@dataclass(frozen=True)
class _TokenSpec:
    label: str
    org: str
    #: The person (username) whose personal token it is; None for the unit's seal token.
    holder: str | None
    days_left: int = 700
    key_on_token: bool = True


_TOKENS = (
    _TokenSpec("TRANG-PHAI", "trangphai", None, key_on_token=False),
    _TokenSpec("CT-TRANG-PHAI", "trangphai", "chutichtp"),
    _TokenSpec("YEN-PHUC", "yenphuc", None),
    _TokenSpec("TT-VAN-QUAN", "tt", None),
    _TokenSpec("CT-TT-VAN-QUAN", "tt", "chutichtt", days_left=15),
)


def _accounts(
    session: Session, orgs: dict[str, Organisation], people: dict[str, Person], password_hash: str
) -> dict[str, Account]:
    made = {}
    for spec in DEMO_HEADS:
        person = Person(
            full_name=spec.full_name,
            position=spec.position,
            organisation=orgs[spec.org],
            email=f"{spec.username}.vq@langson.gov.vn",
        )
        account = Account(person=person, username=spec.username, password_hash=password_hash)
        account.roles.append(RoleAssignment(organisation=orgs[spec.org], role=spec.role))
        session.add(account)
        people[spec.username] = person
        made[spec.username] = account
    session.flush()
    return made


def _serial(label: str) -> str:
    module = pkcs11_access.load_module()
    (token,) = pkcs11_access.select_tokens(module, [TokenSelector(label=label)])
    return pkcs11_access.token_info(token).serial


def _check(label: str, anchors: tuple[x509.Certificate, ...]) -> bytes:
    """What ``token-agent check --json --token LABEL`` prints, with the demo PIN."""
    report = health.run_health_check(
        health.CheckOptions(
            selectors=(TokenSelector(label=label),),
            pin_source=lambda _info: Pin(demo.USER_PIN),
            trust_anchors=anchors,
        )
    )
    return dump_json(health.SCHEMA, report).encode()


def _account(session: Session, person: Person) -> Account:
    return session.scalars(select(Account).where(Account.person_id == person.id)).one()


def load_demo(
    session: Session, orgs: dict[str, Organisation], people: dict[str, Person], folder: Path, password_hash: str
) -> None:
    """The readiness demo, its tokens in the documents demo's ``folder`` (already holding its SoftHSM tokens)."""
    accounts = _accounts(session, orgs, people, password_hash)
    root = demo.root_authority("Demo Root CA sẵn sàng ký số")
    issuing = demo.sub_authority(root, "Demo Issuing CA sẵn sàng ký số")
    now = utcnow()
    with demo.softhsm_configured(folder / "softhsm2.conf"):
        demo.write_pem(folder / "readiness-root.pem", root.cert, issuing.cert)
        anchors = (*load_certificates([folder / "root.pem"]), root.cert)
        for number, spec in enumerate(_TOKENS, 1):
            demo.init_token(spec.label)
            owner = people[spec.holder].full_name if spec.holder else orgs[spec.org].name
            uid = f"CCCD:02009000{number:04d}" if spec.holder else f"MST:49001{number:05d}"
            cert = demo.provision_token(
                spec.label,
                issuing,
                demo.vn_name(owner, uid, orgs[spec.org].name),
                key_on_token=spec.key_on_token,
                not_after=now + timedelta(days=spec.days_left),
            )
            registration.register_certificate(
                session,
                DEMO_ACTOR,
                summarise(cert),
                kind=TokenKind.PERSONAL if spec.holder else TokenKind.ORGANISATION,
                organisation_id=orgs[spec.org].id,
                holder_id=people[spec.holder].id if spec.holder else None,
                token_serial=_serial(spec.label),
            )
        # Yên Phúc's chairman has a certificate and a token, never checked.
        registration.register_certificate(
            session,
            DEMO_ACTOR,
            summarise(
                issue_test_certificate(
                    throwaway_issuer(),
                    people["chutichyp"].full_name,
                    "CCCD:020085000777",
                    orgs["yenphuc"].name,
                    not_before=now - timedelta(days=30),
                    not_after=now + timedelta(days=700),
                )
            ),
            kind=TokenKind.PERSONAL,
            organisation_id=orgs["yenphuc"].id,
            holder_id=people["chutichyp"].id,
            token_serial="5401A7C30020",
        )
        checks = {label: _check(label, anchors) for label in (_SEAL_TOKEN, *(spec.label for spec in _TOKENS))}
        signer_check = _check(_SIGNER_TOKEN, anchors)
    vanthu, head_tt, focal = (_account(session, people[key]) for key in ("vanthu", "chutichtt", "daumoi"))
    store_report(session, vanthu, checks[_SEAL_TOKEN], source=ReportSource.UPLOAD, place="Máy văn thư UBND huyện")
    failed = store_report(
        session, accounts["chutichtp"], checks["TRANG-PHAI"], source=ReportSource.UPLOAD, place="Máy văn thư xã"
    )
    store_report(session, accounts["chutichtp"], checks["CT-TRANG-PHAI"], source=ReportSource.AGENT)
    store_report(session, accounts["chutichyp"], checks["YEN-PHUC"], source=ReportSource.UPLOAD)
    store_report(session, head_tt, checks["TT-VAN-QUAN"], source=ReportSource.UPLOAD)
    store_report(session, head_tt, checks["CT-TT-VAN-QUAN"], source=ReportSource.AGENT)
    visits.record_visit(
        session,
        focal,
        {
            "organisation_id": orgs["huyen"].id,
            "visitor_person_id": people["phochutich"].id,
            "computer": "Máy xách tay của Phó Chủ tịch",
            "actions": ["driver_installed", "certificate_imported"],
            "outcome": "Đã cài trình điều khiển và chứng thư số; ký thử thành công.",
        },
        signer_check,
    )
    remedies.draft_from_check(session, accounts["canbotp"], failed.tokens[0].id, "cert.private_key")
    for key, days in (("huyen", 10), ("tt", 20), ("trangphai", 30), ("yenphuc", 30), ("tandoan", 45)):
        visits.set_go_live(
            session, _account(session, people["daumoi"]), orgs[key].id, now.date() + timedelta(days=days)
        )
