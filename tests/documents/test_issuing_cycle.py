"""The whole issuing cycle through the pages, with real SoftHSM tokens: draft → review → the signer downloads
the prepared PDF, runs the ``token-agent sign --role approve`` command the page shows and uploads it → the
clerk takes a number, runs the ``--role issue`` (and ``--role appendix``) commands the page shows and uploads
them → sends → the recipient's clerk registers it. The issued PDF passes pdfsig and ``qpdf --check``.

Runs on SQLite, and on PostgreSQL with ``CERTSVC_TEST_DATABASE_URL`` set.
"""

from __future__ import annotations

import html
import io
import re
import shlex
from pathlib import Path

import pytest
from sqlalchemy import select

from certsvc.audit.service import SYSTEM
from certsvc.documents.models import (
    DocumentStatus,
    FileKind,
    IncomingDocument,
    IncomingStatus,
    NumberState,
    OutgoingDocument,
)
from certsvc.registry import anchors
from certsvc.registry.certificates import parse_certificate
from certsvc.registry.models import TokenKind
from certsvc.registry.registration import register_certificate
from tests.documents.conftest import document_values, draft_pdf
from tests.support.signing import Tokens, nss_db
from tests.token_agent.conftest import pdfsig, qpdf_ok
from token_agent import cli, demo, signing

pytestmark = [pytest.mark.pkcs11, pytest.mark.xdist_group("softhsm")]

_PIN_VARIABLE = "CERTSVC_TEST_TOKEN_PIN"


@pytest.fixture
def registered(session, docs_world, tokens: Tokens):
    """The test PKI trusted, the signer's personal certificate and the district's seal certificate registered."""
    district = docs_world.org("district")
    anchors.add_anchors(session, SYSTEM, tokens.pem("root", "issuing"))
    for label, kind, holder, serial in (
        ("LANH-DAO", TokenKind.PERSONAL, docs_world["signer"].person_id, None),
        ("VAN-THU", TokenKind.ORGANISATION, None, "VT-0001"),
    ):
        register_certificate(
            session,
            SYSTEM,
            parse_certificate(tokens.der(label)),
            kind=kind,
            organisation_id=district.id,
            holder_id=holder,
            token_serial=serial,
        )
    session.commit()
    return docs_world


def page_of(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def posted(response) -> None:
    """A step taken: POST-redirect-GET, the page behind it says it succeeded."""
    assert response.status_code == 302, response.get_data(as_text=True)


def shown_command(page: str, role: str) -> list[str]:
    """The ``token-agent sign --role <role> …`` command exactly as the page shows it, as arguments."""
    found = re.search(rf"<pre[^>]*>(token-agent sign --role {role} [^<]*)</pre>", page)
    assert found, f"no --role {role} command on the page"
    return shlex.split(html.unescape(found.group(1)))


def run_shown(command: list[str], folder: Path, tokens: Tokens, label: str, monkeypatch) -> None:
    """Run the shown command in ``folder`` with our token, images and trust anchor for its placeholders."""
    placeholders = {
        "NHAN-THIET-BI": label,
        "chu-ky.png": str(tokens.image("signature")),
        "con-dau.png": str(tokens.image("seal")),
        "chung-thu-goc.pem": str(folder / "root.pem"),
    }
    (folder / "root.pem").write_bytes(tokens.pem("root"))
    argv = [placeholders.get(arg, arg) for arg in command]
    assert argv[0] == "token-agent", argv
    monkeypatch.chdir(folder)
    monkeypatch.setenv(_PIN_VARIABLE, demo.USER_PIN)
    with tokens.environment():
        assert cli.main([*argv[1:], "--pin-env", _PIN_VARIABLE]) == 0


def download(browser, page: str, name: str, folder: Path) -> Path:
    """Follow the page's link to the file named ``name``; checks its type and name, keeps it in ``folder``."""
    link = re.search(rf'href="([^"]+)"[^>]*>[^<]*{re.escape(name)}', page)
    assert link, f"no link to {name}"
    response = browser.get(html.unescape(link.group(1)))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    path = folder / name
    path.write_bytes(response.get_data())
    return path


def upload(browser, url: str, path: Path):
    return browser.post(url, {"file": (io.BytesIO(path.read_bytes()), path.name)}, content_type="multipart/form-data")


def test_the_whole_cycle_through_the_pages(session, registered, make_browser, tokens, tmp_path, monkeypatch):
    world = registered
    as_ = {name: make_browser() for name in ("drafter", "reviewer", "signer", "clerk", "commune_clerk")}
    for name, browser in as_.items():
        browser.login(name)

    # 1. the drafter drafts, with an appendix, and submits
    values = document_values(session, world, drafting_unit_id=world.org("vhtt").id, urgency="urgent")
    form = {k: v if isinstance(v, list) else str(v) for k, v in values.items()}
    form["file"] = (io.BytesIO(draft_pdf()), "du-thao.pdf")
    form["appendices"] = [(io.BytesIO(demo.make_draft(pages=1, signer=demo.SIGNER)), "phu-luc.pdf")]
    response = as_["drafter"].post("/documents/new", form, content_type="multipart/form-data")
    posted(response)
    url = response.headers["Location"]
    doc_id = int(url.rstrip("/").rsplit("/", 1)[-1])
    posted(as_["drafter"].post(f"{url}/act/submit"))

    # 2. the reviewer forwards it for signature
    posted(as_["reviewer"].post(f"{url}/act/forward", {"comment": "Đủ điều kiện trình ký."}))

    # 3. the signer downloads the prepared PDF, runs the command shown, uploads the signed file
    page = page_of(as_["signer"].get(url))
    download(as_["signer"], page, f"van-ban-{doc_id}-chuan-bi-ky.pdf", tmp_path)
    run_shown(shown_command(page, "approve"), tmp_path, tokens, "LANH-DAO", monkeypatch)
    posted(upload(as_["signer"], f"{url}/approve", tmp_path / f"van-ban-{doc_id}-da-ky-duyet.pdf"))

    # 4. the clerk takes the number the page then shows
    response = as_["clerk"].post(f"{url}/act/take_number", follow_redirects=True)
    page = page_of(response)
    session.expire_all()
    entry = session.get(OutgoingDocument, doc_id).number_entry
    assert entry.symbol == "01/UBND-VHTT"
    assert f"Đã lấy số 01/UBND-VHTT, ngày {entry.issue_date:%d/%m/%Y}." in page
    assert f"Văn Quan, ngày {entry.issue_date:%d/%m/%Y}" in page

    # 5. … signs the approved file and the appendix with the commands shown, uploads them
    download(as_["clerk"], page, f"van-ban-{doc_id}-da-ky-duyet.pdf", tmp_path)
    issue_command = shown_command(page, "issue")
    assert issue_command[issue_command.index("--number") + 1] == "01/UBND-VHTT"
    assert issue_command[issue_command.index("--place") + 1] == "Văn Quan"
    run_shown(issue_command, tmp_path, tokens, "VAN-THU", monkeypatch)
    posted(upload(as_["clerk"], f"{url}/issue", tmp_path / f"van-ban-{doc_id}-ban-hanh.pdf"))
    page = page_of(as_["clerk"].get(url))
    download(as_["clerk"], page, f"van-ban-{doc_id}-phu-luc-1.pdf", tmp_path)
    run_shown(shown_command(page, "appendix"), tmp_path, tokens, "VAN-THU", monkeypatch)
    posted(upload(as_["clerk"], f"{url}/appendix/1", tmp_path / f"van-ban-{doc_id}-phu-luc-1-da-ky.pdf"))

    # 6. … and sends it
    posted(as_["clerk"].post(f"{url}/act/send"))
    session.expire_all()
    doc = session.get(OutgoingDocument, doc_id)
    assert doc.status is DocumentStatus.SENT and doc.number_entry.state is NumberState.USED
    assert [f.kind for f in doc.files if f.kind in (FileKind.ISSUED, FileKind.APPENDIX_ISSUED)] == [
        FileKind.ISSUED,
        FileKind.APPENDIX_ISSUED,
    ]

    # 7. the commune's clerk registers it through the incoming pages
    incoming = session.scalars(select(IncomingDocument).where(IncomingDocument.outgoing_id == doc_id)).one()
    posted(as_["commune_clerk"].post(f"/documents/incoming/{incoming.id}/register"))
    session.expire_all()
    assert session.get(IncomingDocument, incoming.id).status is IncomingStatus.REGISTERED
    page = page_of(as_["drafter"].get(url))
    assert "Nơi nhận đã tiếp nhận, vào sổ văn bản đến" in page

    # the issued file, as the page hands it out, passes pdfsig and qpdf
    issued = download(as_["drafter"], page, f"van-ban-{doc_id}-ban-hanh.pdf", tmp_path)
    checked = pdfsig(issued, nss_db(tokens, tmp_path))
    assert [(c.field, c.valid, c.trusted) for c in checked] == [
        (signing.PERSONAL_FIELD, True, True),
        (signing.ORGANISATION_FIELD, True, True),
    ], [c.text for c in checked]
    assert qpdf_ok(issued)
