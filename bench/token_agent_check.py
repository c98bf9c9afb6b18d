"""Benchmark: ``token-agent check`` of 8 SoftHSM tokens, without PIN (target ≤ 0.5 s) and with login and test
signatures (target ≤ 1.5 s), beside a plain python-pkcs11/pyHanko loop doing the same token work in the same
run (baseline): list tokens and certificates; with PIN also log in, sign a challenge, sign and validate a PDF.
Run: .venv/bin/python bench/token_agent_check.py
"""

from __future__ import annotations

import functools
import io
import tempfile
from pathlib import Path

from _token_agent_timing import compare
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from pkcs11 import Attribute, Mechanism, ObjectClass
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.pkcs11 import PKCS11Signer
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from token_agent import demo, health, pkcs11_access
from token_agent.certs import load_certificates, load_crls, to_asn1
from token_agent.health import CheckOptions, Status
from token_agent.pkcs11_access import Pin, TokenSelector
from token_agent.verification import SIGNING_KEY_USAGE

ROUNDS = 5
PEOPLE = {f"CAN-BO-{i}": demo.vn_name(f"Cán bộ số {i}", f"CCCD:00123456780{i}") for i in range(8)}


def plain(with_pin: bool, roots: list, blank: bytes) -> None:
    module = pkcs11_access.load_module()
    for token in module.get_tokens():
        if token.label not in PEOPLE:
            continue
        with token.open(user_pin=demo.USER_PIN if with_pin else None) as session:
            objects = list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}))
            certs = {bytes(obj[Attribute.ID]): x509.load_der_x509_certificate(obj[Attribute.VALUE]) for obj in objects}
            if not with_pin:
                continue
            for key_id, cert in certs.items():
                if key_id == b"CA":
                    continue
                key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=key_id)
                cert.public_key().verify(
                    key.sign(b"x" * 32, mechanism=Mechanism.SHA256_RSA_PKCS),
                    b"x" * 32,
                    padding.PKCS1v15(),
                    hashes.SHA256(),
                )
                signer = PKCS11Signer(
                    session, signing_cert=to_asn1(cert), key_id=key_id, ca_chain=[to_asn1(certs[b"CA"])]
                )
                out = io.BytesIO()
                signers.sign_pdf(
                    IncrementalPdfFileWriter(io.BytesIO(blank)),
                    signers.PdfSignatureMetadata(field_name="KyThu"),
                    signer=signer,
                    output=out,
                )
                embedded = IncrementalPdfFileWriter(io.BytesIO(out.getvalue())).prev.embedded_signatures[0]
                status = validate_pdf_signature(
                    embedded, ValidationContext(trust_roots=roots), key_usage_settings=SIGNING_KEY_USAGE
                )
                assert status.trusted


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        files = demo.build_demo(Path(folder), PEOPLE)
        anchors = tuple(load_certificates([files.root]))
        crls = tuple(load_crls([files.crl]))
        roots = [to_asn1(c) for c in anchors]
        blank = health.test_document()
        selectors = tuple(TokenSelector(label=label) for label in PEOPLE)

        def agent(with_pin: bool) -> None:
            options = CheckOptions(
                selectors=selectors,
                trust_anchors=anchors,
                crls=crls,
                pin_source=lambda _info: Pin(demo.USER_PIN) if with_pin else None,
            )
            report = health.run_health_check(options)
            assert len(report.tokens) == 8 and report.status is Status.PASS, report

        for with_pin, title, target in (
            (False, "without PIN", "token_agent ≤ 500 ms"),
            (True, "with PIN and test signatures", "token_agent ≤ 1500 ms"),
        ):
            compare(
                f"check of 8 tokens, {title}",
                {
                    "token_agent": functools.partial(agent, with_pin),
                    "baseline": functools.partial(plain, with_pin, roots, blank),
                },
                ROUNDS,
                target,
            )


if __name__ == "__main__":
    main()
