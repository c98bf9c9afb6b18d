"""Agent jobs (docs/agent-protocol.md §2) with real SoftHSM tokens: the page's "Ký số" button creates a job after
the manual step's checks, the paired agent fetches it and the file, signs (simulated here with the test
helpers that run token_agent.signing) and uploads, and certsvc runs exactly the manual upload's checks."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from certsvc.accounts.models import Role
from certsvc.agents import jobs
from certsvc.agents.models import AgentJob, JobStatus
from certsvc.audit.models import AuditEntry
from certsvc.documents import files, register
from certsvc.documents.models import DocumentEvent, DocumentStatus, FileKind
from certsvc.documents.signing import approve_upload
from certsvc.orgs.models import OrgKind
from certsvc.readiness.models import CheckReport, ReportSource
from certsvc.timeutil import utcnow
from tests.agents.conftest import job_id_of, new_job, paired
from tests.conftest import add_account, add_org
from tests.support.signing import MODULE, PLACE, approve_with, issue_with
from token_agent import demo, health, signing
from token_agent.pkcs11_access import Pin, TokenSelector
from token_agent.reporting import dump_json
from token_agent.signing import format_number

pytestmark = [pytest.mark.pkcs11, pytest.mark.xdist_group("softhsm")]


def _error(response) -> str:
    return response.get_json()["error"]["code"]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _state(session, dw) -> tuple:
    """What a refused upload must leave as it was: status, files, certificates, timeline."""
    session.expire_all()
    doc = dw.doc(session)
    events = session.scalar(select(func.count()).select_from(DocumentEvent))
    return doc.status, tuple(f.sha256 for f in doc.files), doc.personal_certificate_id, events


@pytest.fixture
def signer(as_user, dw):
    return as_user(dw.signer)


@pytest.fixture
def signer_agent(app, signer):
    return paired(app, signer, "MAY-CHU-TICH")


def test_approve_then_issue_through_the_agent(app, session, tokens, dw, signer, signer_agent, as_user):
    job_id = job_id_of(new_job(signer, dw.doc_id, "approve"))
    job = signer_agent.job(job_id).get_json()
    version = files.latest(dw.doc(session), FileKind.PREPARED)
    assert version is not None
    prepared = files.content(version)
    assert job["role"] == "approve" and job["status"] == "pending"
    assert job["document"]["summary"] == "V/v rà soát thiết bị ký số"
    assert job["file_sha256"] == _sha(prepared)
    assert base64.b64decode(job["file_base64"]) == prepared  # a small file comes with the job
    assert _sha(tokens.der("LANH-DAO")) in job["accepted_certificates"]
    assert _sha(tokens.der("KHAC")) not in job["accepted_certificates"]
    assert _sha(tokens.der("VAN-THU")) not in job["accepted_certificates"]
    assert job["number"] is None and job["trust_anchors_pem"] == ""  # approving checks no signature before
    assert (job["file_url"], job["upload_url"]) == (
        f"/api/agent/v1/jobs/{job_id}/file",
        f"/api/agent/v1/jobs/{job_id}/result",
    )
    pdf = signer_agent.client.get(job["file_url"], headers=signer_agent.headers)
    assert pdf.mimetype == "application/pdf" and _sha(pdf.data) == job["file_sha256"]
    assert signer.get(f"/documents/{dw.doc_id}/signing-jobs/{job_id}").get_json()["status"] == "pending"

    answer = signer_agent.upload(job_id, approve_with(tokens, "LANH-DAO", pdf.data))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() == {"status": "done", "document_status": "signed"}
    polled = signer.get(f"/documents/{dw.doc_id}/signing-jobs/{job_id}").get_json()
    assert polled == {"status": "done", "code": None, "message": None, "document_status": "signed"}

    register.take_number(session, dw.clerk, dw.doc(session))
    session.commit()
    # the seal token is in the custody register, kept by the first clerk: for the second, no certificate fits
    not_keeper = as_user(dw.clerk2)
    not_keeper_job = job_id_of(new_job(not_keeper, dw.doc_id, "issue"))
    assert paired(app, not_keeper, "MAY-2").job(not_keeper_job).get_json()["accepted_certificates"] == []
    clerk = as_user(dw.clerk)
    clerk_agent = paired(app, clerk, "MAY-VAN-THU")
    issue_id = job_id_of(new_job(clerk, dw.doc_id, "issue"))
    issue = clerk_agent.job(issue_id).get_json()
    assert issue["trust_anchors_pem"].count("BEGIN CERTIFICATE") == 2  # to check the leader's before sealing
    entry = dw.doc(session).number_entry
    assert (issue["issue_date"], issue["place"]) == (entry.issue_date.isoformat(), PLACE)
    assert issue["number"].endswith(entry.symbol.split("/", 1)[1])
    assert issue["accepted_certificates"] == [_sha(tokens.der("VAN-THU"))]
    approved = clerk_agent.file(issue_id).data
    signed = issue_with(tokens, "VAN-THU", approved, issue["number"], dt.date.fromisoformat(issue["issue_date"]))
    answer = clerk_agent.upload(issue_id, signed)
    assert answer.get_json() == {"status": "done", "document_status": "issued"}
    session.expire_all()
    assert dw.doc(session).status is DocumentStatus.ISSUED
    # No entry of the job's own: the step's entry names it and the agent.
    assert session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("agent.job%"))).all() == []
    steps = session.scalars(
        select(AuditEntry).where(AuditEntry.action.in_(["document.approve", "document.issue"])).order_by(AuditEntry.seq)
    ).all()
    assert [(json.loads(e.details)["agent_job"], json.loads(e.details)["agent_id"]) for e in steps] == [
        (job_id, signer_agent.agent_id),
        (issue_id, clerk_agent.agent_id),
    ]


def test_page_shows_the_button_beside_the_manual_step(dw, signer, as_user):
    page = signer.get(f"/documents/{dw.doc_id}").get_data(as_text=True)
    assert 'class="primary agent-sign" data-role="approve"' in page
    assert f'data-url="/documents/{dw.doc_id}/signing-jobs"' in page
    assert "token-agent sign --role approve" in page  # the manual way stays
    assert "agent-sign.js" in page
    drafter_page = as_user(dw.drafter).get(f"/documents/{dw.doc_id}").get_data(as_text=True)
    assert "agent-sign" not in drafter_page.replace("agent-sign.js", "")


def test_job_refused_as_the_manual_step_is(session, dw, tokens, signer, as_user):
    """Not the proposed signer, a step the status does not allow, a document the user cannot see: the
    same status as the manual upload, and no job."""
    stranger_org = add_org(session, None, "", "UBND huyện Cao Lộc", "UBNDCL", OrgKind.DISTRICT_COMMITTEE)
    stranger = add_account(session, "nguoingoai", stranger_org, (Role.UNIT_HEAD, stranger_org))
    session.commit()
    cases = [
        (as_user(dw.other), "approve", f"/documents/{dw.doc_id}/approve", 403),
        (as_user(dw.clerk), "approve", f"/documents/{dw.doc_id}/approve", 403),
        (signer, "issue", f"/documents/{dw.doc_id}/issue", 409),
        (as_user(stranger), "approve", f"/documents/{dw.doc_id}/approve", 404),
    ]
    for browser, role, manual, status in cases:
        answer = new_job(browser, dw.doc_id, role)
        assert answer.status_code == status, answer.get_data(as_text=True)
        assert answer.get_json()["error"]["message"]
        assert browser.post(manual).status_code == status
    for role in ("sign", ""):
        assert _error(new_job(signer, dw.doc_id, role)) == "validation_failed"
    assert session.scalar(select(func.count()).select_from(AgentJob)) == 0


def test_job_creation_needs_the_csrf_token(dw, signer):
    answer = signer.client.post(f"/documents/{dw.doc_id}/signing-jobs", data={"role": "approve"})
    assert answer.status_code == 400


def test_fetch_refusals(app, session, dw, signer, signer_agent, as_user):
    other_agent = paired(app, as_user(dw.other), "MAY-KHAC")
    job_id = job_id_of(new_job(signer, dw.doc_id, "approve"))
    foreign = other_agent.job(job_id)
    assert (foreign.status_code, _error(foreign)) == (403, "job_of_another_account")
    assert other_agent.file(job_id).status_code == 403
    unknown = signer_agent.job("khong-co")
    assert (unknown.status_code, _error(unknown)) == (404, "job_unknown")
    session.execute(update(AgentJob).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    expired = signer_agent.job(job_id)
    assert (expired.status_code, _error(expired)) == (410, "job_expired")
    polled = signer.get(f"/documents/{dw.doc_id}/signing-jobs/{job_id}").get_json()
    assert (polled["status"], polled["code"]) == ("expired", "job_expired")

    used_id = job_id_of(new_job(signer, dw.doc_id, "approve"))
    cancelled = signer_agent.cancel(used_id)
    assert cancelled.get_json()["status"] == "failed"
    used = signer_agent.job(used_id)
    assert (used.status_code, _error(used)) == (409, "job_used")
    polled = signer.get(f"/documents/{dw.doc_id}/signing-jobs/{used_id}").get_json()
    assert (polled["status"], polled["code"]) == ("failed", "user_cancelled")
    assert "hủy" in polled["message"]
    # the page's poll is only for the job's own account
    assert as_user(dw.other).get(f"/documents/{dw.doc_id}/signing-jobs/{used_id}").status_code == 404


def test_file_changed_after_the_job_was_made(session, dw, signer, signer_agent):
    job_id = job_id_of(new_job(signer, dw.doc_id, "approve"))
    doc = dw.doc(session)
    files.add_version(session, dw.drafter, doc, FileKind.PREPARED, demo.make_draft(pages=2), "moi.pdf")
    session.commit()
    changed = signer_agent.file(job_id)
    assert (changed.status_code, _error(changed)) == (409, "file_changed")


def test_refused_upload_marks_the_job_failed_and_changes_nothing(session, tokens, dw, signer, signer_agent):
    job_id = job_id_of(new_job(signer, dw.doc_id, "approve"))
    prepared = signer_agent.file(job_id).data
    before = _state(session, dw)
    answer = signer_agent.upload(job_id, approve_with(tokens, "KHAC", prepared))
    assert (answer.status_code, _error(answer)) == (422, "wrong_signer")
    assert _state(session, dw) == before
    job = session.get(AgentJob, job_id)
    assert (job.status, job.code) == (JobStatus.FAILED, "wrong_signer")
    refusal = session.scalars(select(AuditEntry).where(AuditEntry.action == "document.signature_refused")).one()
    assert '"code":"wrong_signer"' in refusal.details
    polled = signer.get(f"/documents/{dw.doc_id}/signing-jobs/{job_id}").get_json()
    assert (polled["status"], polled["code"], polled["document_status"]) == (
        "failed",
        "wrong_signer",
        "awaiting_signature",
    )
    again = signer_agent.upload(job_id, approve_with(tokens, "LANH-DAO", prepared))
    assert (again.status_code, _error(again)) == (409, "job_used")
    assert _state(session, dw) == before


def test_upload_must_be_a_pdf(session, tokens, dw, signer, signer_agent):
    job_id = job_id_of(new_job(signer, dw.doc_id, "approve"))
    answer = signer_agent.upload(job_id, b'{"x": 1}', "application/json")
    assert (answer.status_code, _error(answer)) == (400, "validation_failed")
    assert session.get(AgentJob, job_id).finished_at is None  # not used up by a malformed call


def test_two_uploads_at_once_one_wins(app, session, tokens, dw, signer, signer_agent):
    job_id = job_id_of(new_job(signer, dw.doc_id, "approve"))
    signed = approve_with(tokens, "LANH-DAO", signer_agent.file(job_id).data)
    second = app.test_client()
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def upload(client) -> None:
        barrier.wait()
        response = client.post(
            f"/api/agent/v1/jobs/{job_id}/result",
            data=signed,
            headers={**signer_agent.headers, "Content-Type": "application/pdf"},
        )
        answers.append(response.status_code)

    threads = [threading.Thread(target=upload, args=(c,)) for c in (signer_agent.client, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 409]
    session.expire_all()
    doc = dw.doc(session)
    assert doc.status is DocumentStatus.SIGNED
    assert [f.kind for f in doc.files].count(FileKind.APPROVED) == 1


@pytest.mark.pkcs11
@pytest.mark.xdist_group("softhsm")
def test_a_check_job_s_report_lands_in_readiness(session, tokens, dw, signer_agent):
    job = jobs.create_job(session, dw.signer, None, {"role": "check"})
    session.commit()
    assert signer_agent.job(job.id).get_json()["document"] is None
    # a PDF is not a report
    refused = signer_agent.upload(job.id, b"%PDF-1.7", "application/pdf")
    assert (refused.status_code, _error(refused)) == (400, "validation_failed")
    with tokens.environment():
        checked = health.run_health_check(
            health.CheckOptions(
                module_path=MODULE,
                selectors=(TokenSelector(label="LANH-DAO"),),
                pin_source=lambda _info: Pin(demo.USER_PIN),
                trust_anchors=(tokens.authorities["root"].cert,),
            )
        )
    answer = signer_agent.upload(job.id, dump_json(health.SCHEMA, checked).encode(), "application/json")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "done"
    session.expire_all()
    stored = session.scalars(select(CheckReport)).one()
    assert (stored.source, stored.uploaded_by_id) == (ReportSource.AGENT, dw.signer.id)
    assert [t.token_label for t in stored.tokens] == ["LANH-DAO"]
    again = signer_agent.upload(job.id, dump_json(health.SCHEMA, checked).encode(), "application/json")
    assert (again.status_code, _error(again)) == (409, "job_used")


def test_appendix_through_the_agent(app, session, tokens, dw, as_user):
    doc = dw.doc(session)
    prepared = files.latest(doc, FileKind.PREPARED)
    assert prepared is not None
    approve_upload(session, dw.signer, doc, approve_with(tokens, "LANH-DAO", files.content(prepared)), "a.pdf")
    session.commit()
    entry = register.take_number(session, dw.clerk, dw.doc(session))
    files.add_version(
        session, dw.drafter, dw.doc(session), FileKind.APPENDIX_DRAFT, demo.make_draft(), "pl.pdf", appendix=1
    )
    session.commit()
    clerk = as_user(dw.clerk)
    agent = paired(app, clerk, "MAY-VAN-THU")
    missing = new_job(clerk, dw.doc_id, "appendix", 2)
    assert missing.status_code == 404
    assert _error(new_job(clerk, dw.doc_id, "appendix")) == "validation_failed"
    job_id = job_id_of(new_job(clerk, dw.doc_id, "appendix", 1))
    job = agent.job(job_id).get_json()
    assert (job["role"], job["appendix_no"], job["number"]) == ("appendix", 1, format_number(entry.symbol))
    with tokens.signer("VAN-THU") as signer:
        sealed = signing.sign_appendix(agent.file(job_id).data, signer, number=job["number"])
    answer = agent.upload(job_id, sealed)
    assert answer.get_json() == {"status": "done", "document_status": "numbered"}
    session.expire_all()
    signed = files.latest(dw.doc(session), FileKind.APPENDIX_ISSUED, 1)
    assert signed is not None and files.content(signed) == sealed
