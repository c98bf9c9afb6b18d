"""Readiness tests: real SoftHSM tokens checked by token_agent, their reports stored and shown on the board.

``checks`` (session) holds the document tests' ``tokens`` (LANH-DAO healthy, KHAC healthy, THU-HOI revoked by the
CRL, VAN-THU the organisation's) and, in a SoftHSM directory of its own, tokens in the states the issue names:
HET-HAN (expired), SAP-HET-HAN (expiring in 10 days), THIEU-KHOA (certificate without its key), TRONG (empty).
``checks.report(label)`` runs ``token-agent check`` on one token (PIN, trust anchors, CRL) and gives the JSON
bytes ``token-agent check --json`` would print; ``flag=`` makes the token report extra PIN flags (the stand-in
for what SoftHSM never sets). ``readiness`` registers certificates on the root ``world``'s commune.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pkcs11 import TokenFlag

from certsvc.accounts.models import Account, Role
from certsvc.audit.service import SYSTEM
from certsvc.custody import entries
from certsvc.registry.certificates import parse_certificate
from certsvc.registry.models import Certificate, TokenKind
from certsvc.registry.registration import register_certificate
from tests.conftest import World, add_account
from tests.support.signing import Tokens
from tests.token_agent.conftest import MODULE
from token_agent import demo, health, pkcs11_access
from token_agent.demo import vn_name
from token_agent.pkcs11_access import Pin, TokenSelector
from token_agent.reporting import dump_json

EXTRA = {
    "HET-HAN": dict(
        subject=vn_name("Hoàng Văn Hết", "CCCD:001234567880"),
        not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=400),
        not_after=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
    ),
    "SAP-HET-HAN": dict(
        subject=vn_name("Lương Văn Sắp", "CCCD:001234567881"),
        not_after=dt.datetime.now(dt.UTC) + dt.timedelta(days=10),
    ),
    "THIEU-KHOA": dict(subject=vn_name("Vi Văn Thiếu", "CCCD:001234567882"), key_on_token=False),
    "TRONG": None,
}


class FlaggedToken:
    """A real token that reports extra PIN flags (SoftHSM never sets USER_PIN_LOCKED)."""

    def __init__(self, token, extra: TokenFlag) -> None:
        self._token = token
        self._extra = extra

    def __getattr__(self, name):
        return getattr(self._token, name)

    @property
    def flags(self):
        return self._token.flags | self._extra


@dataclass
class Checks:
    tokens: Tokens
    extra_directory: Path
    certificates: dict[str, x509.Certificate] = field(default_factory=dict)
    serials: dict[str, str] = field(default_factory=dict)

    def environment(self, label: str) -> AbstractContextManager[None]:
        if label in EXTRA:
            return demo.softhsm_configured(self.extra_directory / "softhsm2.conf")
        return self.tokens.environment()

    def der(self, label: str) -> bytes:
        cert = self.certificates.get(label) or self.tokens.certificates[label]
        return cert.public_bytes(serialization.Encoding.DER)

    def options(self) -> health.CheckOptions:
        issuing = self.tokens.authorities["issuing"]
        return health.CheckOptions(
            module_path=MODULE,
            pin_source=lambda _info: Pin(demo.USER_PIN),
            trust_anchors=(self.tokens.authorities["root"].cert,),
            crls=(issuing.crl([self.tokens.certificates["THU-HOI"]]),),
        )

    @contextmanager
    def token(self, label: str) -> Iterator[object]:
        with self.environment(label):
            module = pkcs11_access.load_module(MODULE)
            (token,) = pkcs11_access.select_tokens(module, [TokenSelector(label=label)])
            yield token

    def report(self, label: str, *, flag: TokenFlag | None = None) -> bytes:
        """The JSON of ``token-agent check --json --token LABEL`` (with the PIN, the test root and the CRL)."""
        with self.token(label) as token:
            checked = health.check_tokens([FlaggedToken(token, flag) if flag else token], self.options())
        return dump_json(health.SCHEMA, checked).encode()


def _serial(label: str) -> str:
    module = pkcs11_access.load_module(MODULE)
    (token,) = pkcs11_access.select_tokens(module, [TokenSelector(label=label)])
    return pkcs11_access.token_info(token).serial


@pytest.fixture(scope="session")
def checks(tokens, tmp_path_factory) -> Checks:
    directory = tmp_path_factory.mktemp("readiness-tokens")
    made = Checks(tokens, directory)
    demo.softhsm_config(directory)
    with made.environment("TRONG"):
        for label, spec in EXTRA.items():
            demo.init_token(label)
            if spec is not None:
                made.certificates[label] = demo.provision_token(label, tokens.authorities["issuing"], **spec)
        made.serials |= {label: _serial(label) for label in EXTRA}
    with tokens.environment():
        made.serials |= {label: _serial(label) for label in ("LANH-DAO", "KHAC", "THU-HOI", "VAN-THU")}
    return made


@dataclass
class Readiness:
    """The root world's commune with its head (``unithead``), officer (``unitofficer``) and a clerk who keeps
    the seal token once :meth:`seal` registered it."""

    world: World
    checks: Checks
    clerk: Account

    @property
    def commune(self):
        return self.world.orgs["commune"]

    def register(
        self, session, label: str, kind: TokenKind, holder: Account | None, org=None, on: str | None = None
    ) -> Certificate:
        """Register the certificate of token ``label`` on that token, or on token ``on`` (committed)."""
        certificate = register_certificate(
            session,
            SYSTEM,
            parse_certificate(self.checks.der(label)),
            kind=kind,
            organisation_id=(org or self.commune).id,
            holder_id=holder.person_id if holder else None,
            token_serial=self.checks.serials[on or label],
        )
        session.commit()
        return certificate

    def head_certificate(self, session, label: str = "LANH-DAO") -> Certificate:
        return self.register(session, label, TokenKind.PERSONAL, self.world.account(Role.UNIT_HEAD))

    def seal(self, session, label: str = "VAN-THU") -> Certificate:
        """The commune's organisation certificate on its token, received into the clerk's keeping."""
        certificate = self.register(session, label, TokenKind.ORGANISATION, None)
        assert certificate.token is not None
        entries.receive(
            session,
            self.clerk,
            certificate.token,
            {
                "keeper_id": str(self.clerk.person_id),
                "place": "Trụ sở UBND xã",
                "condition": "Nguyên vẹn",
                "seal_numbers": "NP-0001",
                "event_date": (dt.date.today() - dt.timedelta(days=3)).isoformat(),
                "event_time": "09:00",
            },
        )
        session.commit()
        return certificate


@pytest.fixture
def readiness(session, world, checks) -> Readiness:
    commune = world.orgs["commune"]
    clerk = add_account(session, "vanthuxa", commune, (Role.CLERK, commune), full_name="Nông Thị Giữ")
    session.commit()
    return Readiness(world, checks, clerk)
