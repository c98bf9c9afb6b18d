"""Benchmark: verify an issued 20-page PDF (two signatures) in a warm process with token_agent's Verifier,
beside plain pyHanko's ``validate_pdf_signature`` on the same file with the same trust anchor in the same
run (target: at most 1.1× the baseline). Run: .venv/bin/python bench/token_agent_verify.py
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path

from _token_agent_timing import compare
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from token_agent import demo, pkcs11_access, signing
from token_agent.certs import load_certificates, to_asn1
from token_agent.pkcs11_access import TokenSelector
from token_agent.verification import SIGNING_KEY_USAGE, Verdict, Verifier

ROUNDS = 30


def _issued(files: demo.DemoFiles) -> tuple[bytes, list]:
    module = pkcs11_access.load_module()
    signed = signing.prepare(demo.make_draft(pages=20), signer_name=demo.SIGNER).pdf
    anchors = load_certificates([files.root])
    for label in files.labels:
        (token,) = pkcs11_access.select_tokens(module, [TokenSelector(label=label)])
        with token.open(user_pin=demo.USER_PIN) as session:
            signer = signing.token_signer(session)
            if label == "LANH-DAO":
                signed = signing.approve(signed, signer, files.signature_image)
            else:
                signed = signing.issue(
                    signed,
                    signer,
                    files.seal_image,
                    number="1/UBND-VHTT",
                    place="Văn Quan",
                    issue_date=dt.datetime.now(signing.VN_TZ).date(),
                    verifier=Verifier(anchors),
                )
    return signed, anchors


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        files = demo.build_demo(Path(folder))
        pdf, anchors = _issued(files)
    verifier = Verifier(anchors)
    roots = [to_asn1(c) for c in anchors]

    def agent() -> None:
        assert verifier.verify(pdf).verdict is Verdict.TOTAL_PASSED

    def plain() -> None:
        for embedded in PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures:
            context = ValidationContext(trust_roots=roots, allow_fetching=False)
            assert validate_pdf_signature(embedded, context, key_usage_settings=SIGNING_KEY_USAGE).trusted

    # the first validation in a process is slow: compare() warms both before timing
    compare(
        "verify, 20 pages, 2 signatures, warm process", {"token_agent": agent, "plain pyHanko": plain}, ROUNDS, "≤ 1.1×"
    )


if __name__ == "__main__":
    main()
