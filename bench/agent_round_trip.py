"""Benchmark: the one-click round trip of the signing agent (issue 13) beside the same signature and server check
without it, in the same run (target: the service adds at most 30 %).

- **agent**: the page's «Ký số» asks certsvc for a job (``POST /documents/<id>/signing-jobs``), hands it to
  ``token-agent serve`` (``POST /v1/jobs``: the agent fetches the job and the file from certsvc over HTTP), the
  agent's confirmation page is shown, the PIN is posted to it, the agent signs with the SoftHSM token and
  uploads, and certsvc runs the upload's checks and approves the document;
- **direct**: the same approval signature made with the same token (a session opened with the PIN), and the
  page's manual upload of the result (``POST /documents/<id>/approve``), where certsvc runs the same checks.

The browser's requests to certsvc go through Flask's test client (signed in as the signer), the agent's over
HTTP to the same app served by Werkzeug. Each path approves a document of its own each round, of 2 pages (a
usual letter) and then of 20, on a migrated SQLite database, then on a temporary PostgreSQL database
(``CERTSVC_BENCH_PG_URL``, default the local server's ``test``).
Run: PYTHONPATH=bench .venv/bin/python bench/agent_round_trip.py
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _token_agent_timing import compare
from flask_migrate import upgrade
from requests_list import postgresql_database
from sqlalchemy import select
from werkzeug.serving import make_server

from certsvc import create_app
from certsvc.accounts.models import Account, Role, RoleAssignment
from certsvc.accounts.passwords import hash_password
from certsvc.agents import pairing
from certsvc.audit.service import SYSTEM
from certsvc.documents import files
from certsvc.documents.models import DocumentStatus, DocumentType, FileKind, OutgoingDocument
from certsvc.extensions import db
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.people.models import Person
from certsvc.registry import anchors
from certsvc.registry.certificates import parse_certificate
from certsvc.registry.models import TokenKind
from certsvc.registry.registration import register_certificate
from token_agent import demo, pairings, pkcs11_access, service, signing
from token_agent.pkcs11_access import Pin, TokenSelector

ROUNDS = 10
SIZES = (2, 20)
LABEL = "LANH-DAO"
PASSWORD = "bench-only-password"


def _account(username: str, org: Organisation, role: Role, full_name: str) -> Account:
    account = Account(
        person=Person(full_name=full_name, organisation=org, position="Chuyên viên"),
        username=username,
        password_hash=hash_password(PASSWORD),
    )
    account.roles.append(RoleAssignment(role=role, organisation=org))
    db.session.add(account)
    return account


def _world(demo_files: demo.DemoFiles) -> dict[int, list[int]]:
    """The district, its drafter and signer (with the demo's personal certificate registered), and for each of
    :data:`SIZES`, 2 × (ROUNDS + 1) documents of that many pages waiting for the signer's approval."""
    session = db.session
    district = Organisation(name="UBND huyện Văn Quan", symbol="UBND", kind=OrgKind.DISTRICT_COMMITTEE)
    office = Organisation(name="Văn phòng HĐND và UBND huyện", symbol="VP", kind=OrgKind.OFFICE, parent=district)
    session.add_all([district, office])
    drafter = _account("chuyenvien", office, Role.UNIT_OFFICER, "Vũ Thị Thu")
    signer = _account("chutich", district, Role.UNIT_HEAD, demo.SIGNER)
    session.flush()
    anchors.add_anchors(session, SYSTEM, demo_files.root.read_bytes())
    module = pkcs11_access.load_module()
    (token,) = pkcs11_access.select_tokens(module, [TokenSelector(label=LABEL)])
    with token.open(user_pin=Pin(demo.USER_PIN).reveal()) as token_session:
        der = signing.token_signer(token_session).signing_cert.dump()
    register_certificate(
        session,
        SYSTEM,
        parse_certificate(der),
        kind=TokenKind.PERSONAL,
        organisation_id=district.id,
        holder_id=signer.person_id,
    )
    kind = session.scalars(select(DocumentType).where(DocumentType.abbreviation.is_(None))).first()
    waiting: dict[int, list[int]] = {}
    for pages in SIZES:
        draft = demo.make_draft(pages=pages)
        waiting[pages] = [_awaiting(drafter, signer, district, office, kind, draft) for _ in range(2 * (ROUNDS + 1))]
    session.commit()
    return waiting


def _awaiting(drafter, signer, district, office, kind, draft: bytes) -> int:
    session = db.session
    doc = OutgoingDocument(
        status=DocumentStatus.AWAITING_SIGNATURE,
        issuing_body_id=district.id,
        drafting_unit_id=office.id,
        document_type=kind,
        summary="V/v rà soát thiết bị ký số",
        signer_id=signer.person_id,
        authority_lines="TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
        created_by_id=drafter.id,
    )
    session.add(doc)
    session.flush()
    files.add_draft(session, drafter, doc, draft, "du-thao.pdf")
    return doc.id


def _post(url: str, body: bytes, headers: dict[str, str]) -> str:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.read().decode("utf-8")


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read().decode("utf-8")


@contextmanager
def _served(app) -> Iterator[str]:
    """``app`` served by Werkzeug on a free loopback port while the block runs; its origin."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def _rounds(app, certsvc_url: str, agent_url: str, image: Path, pages: int, waiting: list[int]) -> None:
    """Time both paths on documents of ``pages`` pages, each taking its own from ``waiting``."""
    browser = app.test_client()
    signed_in = browser.post("/login", data={"username": "chutich", "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    for_agent, for_direct = iter(waiting[: ROUNDS + 1]), iter(waiting[ROUNDS + 1 :])

    def through_the_agent() -> None:
        created = browser.post(f"/documents/{next(for_agent)}/signing-jobs", data={"role": "approve"})
        assert created.status_code == 201, created.get_data(as_text=True)
        asked = {"server": certsvc_url, "job_id": created.get_json()["job_id"]}
        answer = _post(
            f"{agent_url}/v1/jobs",
            json.dumps(asked).encode(),
            {"Origin": certsvc_url, "Content-Type": "application/json"},
        )
        confirm_url = json.loads(answer)["confirm_url"]
        page = _get(confirm_url)
        form_token = re.search(r'name="form_token" value="([^"]+)"', page)
        choice = re.search(r'name="token" value="([0-9a-f]+)" required> «' + LABEL + "»", page)
        assert form_token and choice, page
        form = {"action": "sign", "form_token": form_token[1], "token": choice[1], "pin": demo.USER_PIN}
        done = _post(
            confirm_url,
            urllib.parse.urlencode(form).encode(),
            {"Origin": agent_url, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert "Đã ký" in done, done

    def direct() -> None:
        document_id = next(for_direct)
        with app.app_context():
            doc = db.session.get(OutgoingDocument, document_id)
            prepared = files.content(files.latest(doc, FileKind.PREPARED))
            db.session.remove()
        module = pkcs11_access.load_module()
        (token,) = pkcs11_access.select_tokens(module, [TokenSelector(label=LABEL)])
        with pkcs11_access.open_session(token, Pin(demo.USER_PIN)) as token_session:
            signed = signing.approve(prepared, signing.token_signer(token_session), image)
        uploaded = browser.post(
            f"/documents/{document_id}/approve",
            data={"file": (io.BytesIO(signed), "da-ky.pdf")},
            content_type="multipart/form-data",
        )
        assert uploaded.status_code == 302, uploaded.get_data(as_text=True)

    compare(
        f"one-click approval of a {pages}-page document (job, fetch, confirm page, sign, upload, check)",
        {"agent": through_the_agent, "direct": direct},
        ROUNDS,
        "≤ 1.3×",
    )


def _bench(database: str, url: str, folder: Path, demo_files: demo.DemoFiles) -> None:
    """Both paths on a migrated database at ``url`` (its documents, pairing and agent made here)."""
    print(f"--- {database}")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-only",
            "INSTANCE_PATH": str(folder / f"instance-{database}"),
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
        waiting = _world(demo_files)
        signer = db.session.scalars(select(Account).where(Account.username == "chutich")).one()
        code = pairing.new_pairing_code(db.session, signer).code
        db.session.commit()
    home = folder / f"agent-home-{database}"
    with _served(app) as certsvc_url:
        pairings.pair(certsvc_url, code, "MAY-BENCH", home)
        agent = service.AgentService(
            service.ServiceConfig(port=0, host="127.0.0.1", signature_image=demo_files.signature_image, home=home)
        )
        agent.start()
        app.config["CERTSVC_AGENT_URL"] = agent_url = f"http://127.0.0.1:{agent.port}"
        try:
            for pages in SIZES:
                _rounds(app, certsvc_url, agent_url, demo_files.signature_image, pages, waiting[pages])
        finally:
            agent.stop()
    with app.app_context():
        approved = db.session.scalars(
            select(OutgoingDocument.id).where(OutgoingDocument.status == DocumentStatus.SIGNED)
        ).all()
        expected = sum(len(ids) for ids in waiting.values())
        assert len(approved) == expected, f"{len(approved)} of {expected} documents approved"
        db.engine.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        demo_files = demo.build_demo(folder)
        _bench("SQLite", f"sqlite:///{folder}/bench.sqlite", folder, demo_files)
        with postgresql_database() as url:
            _bench("PostgreSQL", url, folder, demo_files)


if __name__ == "__main__":
    main()
