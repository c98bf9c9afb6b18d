"""Benchmark: approve + issue on a 20-page PDF with token_agent, beside plain pyHanko doing the same two
signatures on the same prepared file in the same run (target: at most 1.15× the baseline).

The baseline signs the two prepared signature fields with pyHanko's own stamp and nothing else; token_agent
also draws the appearances with reportlab, verifies the personal signature before issuing and fills the
number and date fields. Both use the same SoftHSM tokens. Run: .venv/bin/python bench/token_agent_sign.py
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path

from _token_agent_timing import compare
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

from token_agent import demo, pkcs11_access, signing
from token_agent.certs import load_certificates
from token_agent.pkcs11_access import Pin, TokenSelector
from token_agent.verification import Verifier

ROUNDS = 5


def _sessions():
    module = pkcs11_access.load_module()
    for label in ("LANH-DAO", "VAN-THU"):
        (token,) = pkcs11_access.select_tokens(module, [TokenSelector(label=label)])
        yield token.open(user_pin=Pin(demo.USER_PIN).reveal())


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        files = demo.build_demo(Path(folder))
        prepared = signing.prepare(demo.make_draft(pages=20), signer_name=demo.SIGNER).pdf
        verifier = Verifier(load_certificates([files.root]))
        today = dt.datetime.now(signing.VN_TZ).date()
        personal_session, organisation_session = _sessions()
        personal = signing.token_signer(personal_session)
        organisation = signing.token_signer(organisation_session)

        def agent() -> bytes:
            approved = signing.approve(prepared, personal, files.signature_image)
            return signing.issue(
                approved,
                organisation,
                files.seal_image,
                number="1/UBND-VHTT",
                place="Văn Quan",
                issue_date=today,
                verifier=verifier,
            )

        def plain() -> bytes:
            out = io.BytesIO()
            signers.sign_pdf(
                IncrementalPdfFileWriter(io.BytesIO(prepared)),
                signers.PdfSignatureMetadata(field_name=signing.PERSONAL_FIELD),
                signer=personal,
                output=out,
            )
            final = io.BytesIO()
            signers.sign_pdf(
                IncrementalPdfFileWriter(io.BytesIO(out.getvalue())),
                signers.PdfSignatureMetadata(field_name=signing.ORGANISATION_FIELD),
                signer=organisation,
                output=final,
            )
            return final.getvalue()

        compare("approve + issue, 20 pages", {"token_agent": agent, "plain pyHanko": plain}, ROUNDS, "≤ 1.15×")
        personal_session.close()
        organisation_session.close()


if __name__ == "__main__":
    main()
