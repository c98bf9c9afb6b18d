"""``token-agent serve`` from outside, as a certsvc page and as an attacker's page would call it.

certsvc is played by a small HTTP server speaking docs/agent-protocol.md (jobs, files, uploads, cancel), so that
each refusal of the server can be staged; the signing rounds use the real SoftHSM tokens of ``world``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import http.client
import json
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from pkcs11 import TokenFlag
from werkzeug.serving import make_server

from certsvc.agents import jobs as agent_jobs
from certsvc.agents import pairing as agent_pairing
from certsvc.documents import files, register
from certsvc.documents.models import DocumentStatus, FileKind
from tests.support.signing import nss_db
from tests.token_agent.conftest import MODULE, pdfsig, run, signer_on
from token_agent import demo, pairings, pkcs11_access, service, signing
from token_agent.errors import TokenAgentError
from token_agent.pairings import Pairing
from token_agent.verification import Verdict, Verifier

CREDENTIAL = "cag1_" + "K" * 43
PIN = demo.USER_PIN


# --- a certsvc that speaks the agent protocol ------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeCertsvc:
    """Jobs by id (the protocol's job JSON, plus ``_pdf`` and ``_refusal``), and every request received."""

    origin: str = ""
    jobs: dict[str, dict] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    revoked: bool = False
    upload_answer: tuple[int, dict] = (200, {"status": "done", "document_status": "approved"})

    def add_job(self, job_id: str, role: str, pdf: bytes | None = None, **fields) -> dict:
        job = {
            "id": job_id,
            "role": role,
            "status": "pending",
            "expires_at": (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat(),
            "document": {
                "id": 1,
                "summary": "V/v rà soát thiết bị ký số",
                "type": "Công văn",
                "issuing_body": "UBND huyện Văn Quan",
                "urgency": "Thường",
                "secrecy": "Thường",
            }
            if pdf is not None
            else None,
            "appendix_no": None,
            "file_sha256": hashlib.sha256(pdf).hexdigest() if pdf is not None else None,
            "file_url": f"/api/agent/v1/jobs/{job_id}/file" if pdf is not None else None,
            "upload_url": f"/api/agent/v1/jobs/{job_id}/result",
            "accepted_certificates": [],
            "number": None,
            "issue_date": None,
            "place": None,
            "trust_anchors_pem": "",
            "_pdf": pdf,
            "_refusal": None,
            **fields,
        }
        self.jobs[job_id] = job
        return job

    def requests_to(self, suffix: str) -> list[Received]:
        return [r for r in self.received if r.path.endswith(suffix)]


def _handler(fake: FakeCertsvc):
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, code: str) -> None:
            self._answer(status, json.dumps({"error": {"code": code, "message": f"Máy chủ: {code}"}}).encode())

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            fake.received.append(Received(self.command, self.path, dict(self.headers), body))
            if self.path == "/api/agent/v1/pair":
                code = json.loads(body)["code"].upper().replace("-", "").replace(" ", "")
                if code != "ABCDEFGH":
                    return self._error(404, "pairing_code_unknown")
                account = {"username": "chutich", "full_name": "Nguyễn Văn An"}
                return self._answer(
                    201, json.dumps({"agent_id": 7, "credential": CREDENTIAL, "account": account}).encode()
                )
            if self.headers.get("Authorization") != f"Agent {CREDENTIAL}":
                return self._error(401, "agent_unauthenticated")
            if fake.revoked:
                return self._error(401, "agent_revoked")
            match = re.fullmatch(r"/api/agent/v1/jobs/([^/]+)(/file|/result|/cancel)?", self.path)
            job = fake.jobs.get(match.group(1)) if match else None
            if job is None:
                return self._error(404, "job_unknown")
            if job["_refusal"]:
                return self._error(*job["_refusal"])
            part = match.group(2) if match else None
            if part is None:
                public = {k: v for k, v in job.items() if not k.startswith("_")}
                return self._answer(200, json.dumps(public).encode())
            if part == "/file":
                return self._answer(200, job["_pdf"], "application/pdf")
            if part == "/cancel":
                job["status"] = "failed"
                return self._answer(200, b'{"status": "failed"}')
            job["_refusal"] = (409, "job_used")  # one upload per job
            status, answer = fake.upload_answer
            return self._answer(status, json.dumps(answer).encode())

        do_GET = do_POST = _serve

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture
def certsvc() -> Iterator[FakeCertsvc]:
    fake = FakeCertsvc()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(pairings.HOME_ENV, str(tmp_path / "agent-home"))
    return tmp_path / "agent-home"


@pytest.fixture
def paired(home, certsvc) -> FakeCertsvc:
    pairings.save_pairing(Pairing(certsvc.origin, CREDENTIAL, 7, "chutich", "Nguyễn Văn An", dt.datetime.now(dt.UTC)))
    return certsvc


# --- the agent, called over HTTP -------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass
class Agent:
    service: service.AgentService
    answers: list[Answer] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.service.port

    @property
    def own(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, method: str, path: str, body: bytes = b"", **headers: str) -> Answer:
        """A request as a browser would make it; ``Host`` is the agent's own unless given."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        headers = {"Host": f"127.0.0.1:{self.port}", **headers}
        if body or method == "POST":
            headers["Content-Length"] = str(len(body))
        for name, value in headers.items():
            connection.putheader(name.replace("_", "-"), value)
        connection.endheaders(body or None)
        response = connection.getresponse()
        answer = Answer(response.status, response.headers, response.read())
        connection.close()
        self.answers.append(answer)
        return answer

    def new_job(self, origin: str, job_id: str, server: str | None = None) -> Answer:
        body = json.dumps({"server": server or origin, "job_id": job_id}).encode()
        return self.call("POST", "/v1/jobs", body, Origin=origin, Content_Type="application/json")

    def confirm_path(self, answer: Answer) -> str:
        assert answer.status == 200, answer.body
        url = urlsplit(answer.json["confirm_url"])
        assert (url.scheme, url.hostname, url.port) == ("http", "127.0.0.1", self.port)
        return url.path

    def post_form(self, path: str, form: dict[str, str], origin: str | None = None) -> Answer:
        return self.call(
            "POST",
            path,
            urlencode(form).encode(),
            Origin=origin or self.own,
            Content_Type="application/x-www-form-urlencoded",
        )


def _form_token(page: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def _token_choice(page: str, label: str, disabled: bool = False) -> str:
    """The form value that chooses the token ``label`` (whose radio button is disabled, or not)."""
    state = " disabled" if disabled else ""
    found = re.search(r'name="token" value="([0-9a-f]+)" required' + state + "> «" + re.escape(label) + "»", page)
    assert found, page
    return found.group(1)


@pytest.fixture
def agent_config(home, tmp_path) -> service.ServiceConfig:
    return service.ServiceConfig(
        port=0,
        host="127.0.0.1",
        module_path=MODULE,
        signature_image=demo.signature_image(tmp_path / "chu-ky.png"),
        seal_image=demo.seal_image(tmp_path / "con-dau.png"),
        home=home,
    )


@pytest.fixture
def agent(agent_config) -> Iterator[Agent]:
    running = service.AgentService(agent_config)
    running.start()
    yield Agent(running)
    running.stop()


# --- the local surface: no token needed --------------------------------------------------------------------

JOB_ID = "j" * 32
EVIL = "https://evil.example"


def test_a_foreign_origin_gets_no_cors_and_nothing_is_fetched(agent, paired):
    paired.add_job(JOB_ID, "approve", b"%PDF-1.7 x")
    answer = agent.new_job(EVIL, JOB_ID)
    assert answer.status == 403
    assert answer.json["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in answer.headers
    # a paired origin naming another server in the body is refused too
    assert agent.new_job(paired.origin, JOB_ID, server=EVIL).json["error"]["code"] == "origin_not_allowed"
    assert paired.received == []


def test_a_rebinding_host_is_refused(agent, paired):
    for host in (f"evil.example:{agent.port}", "127.0.0.1", f"127.0.0.1:{agent.port + 1}"):
        answer = agent.call("GET", "/v1/status", Host=host, Origin=paired.origin)
        assert answer.status == 403
        assert answer.json["error"]["code"] == "host_not_allowed"
    assert agent.call("GET", "/v1/status", Host=f"localhost:{agent.port}").status == 200


def test_private_network_preflight_answers_paired_origins_only(agent, paired):
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Private-Network": "true"}
    answer = agent.call("OPTIONS", "/v1/jobs", Origin=paired.origin, **asked)
    assert answer.status == 204
    assert answer.headers["Access-Control-Allow-Origin"] == paired.origin
    assert answer.headers["Access-Control-Allow-Private-Network"] == "true"
    assert "Origin" in answer.headers["Vary"]
    refused = agent.call("OPTIONS", "/v1/jobs", Origin=EVIL, **asked)
    assert refused.status == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Access-Control-Allow-Private-Network" not in refused.headers


def test_status_tells_a_paired_page_that_the_agent_is_there(agent, paired, caplog):
    caplog.set_level(logging.INFO)
    answer = agent.call("GET", "/v1/status?who=secret-value", Origin=paired.origin)
    assert any("GET /v1/status 200" in r.getMessage() for r in caplog.records)
    assert not any("secret-value" in r.getMessage() for r in caplog.records)  # logs leave query strings out
    assert answer.json == {"agent": "token-agent", "status": "ready", "paired": True}
    assert answer.headers["Access-Control-Allow-Origin"] == paired.origin
    foreign = agent.call("GET", "/v1/status", Origin=EVIL)
    assert foreign.json["paired"] is False
    assert "Access-Control-Allow-Origin" not in foreign.headers


@pytest.mark.parametrize(
    ("staged", "status", "code"),
    [
        ((410, "job_expired"), 410, "job_expired"),
        ((409, "job_used"), 409, "job_used"),
        ((403, "job_of_another_account"), 403, "job_of_another_account"),
        ((404, "job_unknown"), 404, "job_unknown"),
    ],
)
def test_the_servers_job_refusals_reach_the_page_with_their_codes(agent, paired, staged, status, code):
    paired.add_job(JOB_ID, "approve", b"%PDF-1.7 x", _refusal=staged)
    answer = agent.new_job(paired.origin, JOB_ID)
    assert (answer.status, answer.json["error"]["code"]) == (status, code)
    assert answer.json["error"]["message"]
    assert answer.headers["Access-Control-Allow-Origin"] == paired.origin  # the page can read why


def test_an_expired_job_and_a_changed_file_are_refused_before_anything_is_shown(agent, paired):
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).isoformat()
    paired.add_job(JOB_ID, "approve", b"%PDF-1.7 x", expires_at=past)
    assert agent.new_job(paired.origin, JOB_ID).json["error"]["code"] == "job_expired"
    paired.add_job("k" * 32, "approve", b"%PDF-1.7 x", file_sha256="0" * 64)
    answer = agent.new_job(paired.origin, "k" * 32)
    assert (answer.status, answer.json["error"]["code"]) == (409, "file_changed")
    # A file sent with the job is checked as a fetched one is, and then not fetched.
    sent_along = base64.b64encode(b"%PDF-1.7 changed").decode()
    paired.add_job("m" * 32, "approve", b"%PDF-1.7 x", file_base64=sent_along)
    answer = agent.new_job(paired.origin, "m" * 32)
    assert (answer.status, answer.json["error"]["code"]) == (409, "file_changed")
    assert paired.requests_to("m" * 32 + "/file") == []


def test_a_role_the_agent_cannot_do_yet_is_refused_by_name(agent, paired):
    paired.add_job(JOB_ID, "verify", b"%PDF-1.7 x")
    answer = agent.new_job(paired.origin, JOB_ID)
    assert (answer.status, answer.json["error"]["code"]) == (400, "role_unsupported")
    assert paired.requests_to("/file") == [], "nothing fetched for a job it will not do"


def test_a_revoked_pairing_is_not_paired(agent, paired):
    paired.revoked = True
    paired.add_job(JOB_ID, "approve", b"%PDF-1.7 x")
    answer = agent.new_job(paired.origin, JOB_ID)
    assert (answer.status, answer.json["error"]["code"]) == (403, "not_paired")


def test_an_unreachable_server_is_said_so(agent, home):
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    pairings.save_pairing(Pairing(dead, CREDENTIAL, 7, "chutich", "", dt.datetime.now(dt.UTC)))
    answer = agent.new_job(dead, JOB_ID)
    assert (answer.status, answer.json["error"]["code"]) == (502, "server_unreachable")


def test_the_confirmation_form_needs_its_token_and_the_agents_own_origin(agent, paired):
    paired.add_job(JOB_ID, "check")
    path = agent.confirm_path(agent.new_job(paired.origin, JOB_ID))
    page = agent.call("GET", path)
    assert page.status == 200
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    form_token = _form_token(page.text)
    assert agent.post_form(path, {"action": "sign"}).status == 400
    assert agent.post_form(path, {"action": "sign", "form_token": "x" * 43}).status == 400
    foreign = agent.post_form(path, {"action": "sign", "form_token": form_token}, origin=paired.origin)
    assert foreign.status == 403
    assert "origin_not_allowed" in foreign.text
    assert agent.call("POST", path, b"action=cancel", Content_Type="application/x-www-form-urlencoded").status == 403
    assert paired.requests_to("/result") == paired.requests_to("/cancel") == []
    assert agent.call("GET", "/confirm/" + "z" * 43).status == 404


def test_a_local_job_expires_with_the_servers_job(agent_config, paired):
    clock = [dt.datetime.now(dt.UTC)]
    running = service.AgentService(agent_config, now=lambda: clock[0])
    running.start()
    try:
        agent = Agent(running)
        paired.add_job(JOB_ID, "check")
        path = agent.confirm_path(agent.new_job(paired.origin, JOB_ID))
        form_token = _form_token(agent.call("GET", path).text)
        clock[0] += dt.timedelta(minutes=5, seconds=1)
        page = agent.call("GET", path)
        assert page.status == 410
        assert "job_expired" in page.text
        assert agent.post_form(path, {"action": "sign", "form_token": form_token}).status == 404
    finally:
        running.stop()
    assert paired.requests_to("/result") == []


def test_cancel_tells_the_server_and_closes_the_job(agent, paired):
    paired.add_job(JOB_ID, "check")
    path = agent.confirm_path(agent.new_job(paired.origin, JOB_ID))
    form_token = _form_token(agent.call("GET", path).text)
    done = agent.post_form(path, {"action": "cancel", "form_token": form_token})
    assert done.status == 200
    assert "Đã hủy yêu cầu ký" in done.text
    (cancel,) = paired.requests_to("/cancel")
    assert json.loads(cancel.body) == {"reason": "user_cancelled"}
    assert agent.call("GET", path).status == 404
    assert agent.post_form(path, {"action": "cancel", "form_token": form_token}).status == 404


def test_serve_refuses_a_non_loopback_address(capsys, home):
    for host in ("0.0.0.0", "192.168.1.10", "::", "certsvc.huyen.gov.vn"):
        code, _out, err = run(capsys, "serve", "--host", host, "--port", "0")
        assert code == 2
        assert "Lỗi [not_loopback]" in err


def test_a_second_agent_on_the_same_port_says_so(agent, agent_config):
    second = service.AgentService(dataclasses.replace(agent_config, port=agent.port))
    with pytest.raises(TokenAgentError) as raised:
        second.start()
    assert raised.value.code == "port_unavailable"


def test_the_local_pairing_page_pairs_and_refuses_other_pages(agent, certsvc, home):
    page = agent.call("GET", "/pair")
    assert page.headers["X-Frame-Options"] == "DENY"
    form = {"form_token": _form_token(page.text), "server": certsvc.origin, "code": "abcd efgh", "device_name": "PC"}
    assert agent.post_form("/pair", form, origin=EVIL).status == 403
    assert agent.post_form("/pair", {**form, "form_token": "x" * 43}).status == 400
    assert certsvc.received == []
    wrong = agent.post_form("/pair", {**form, "code": "WXYZ-2345"})
    assert "pairing_code_unknown" in wrong.text
    assert f'value="{certsvc.origin}"' in wrong.text  # what was typed stays, the code does not
    assert "WXYZ-2345" not in wrong.text
    done = agent.post_form("/pair", form)
    assert "Đã ghép nối với " + certsvc.origin in done.text
    assert CREDENTIAL not in done.text
    assert pairings.load_pairings()[certsvc.origin].credential == CREDENTIAL


def test_pair_stores_the_credential_without_showing_it(capsys, home, certsvc):
    code, out, err = run(capsys, "pair", certsvc.origin + "/account/signing-agents", "abcd-efgh", "--device-name", "PC")
    assert code == 0, err
    assert "Nguyễn Văn An" in out
    assert json.loads(certsvc.received[0].body) == {"code": "abcd-efgh", "device_name": "PC"}
    assert pairings.load_pairings()[certsvc.origin].credential == CREDENTIAL
    code, out, _err = run(capsys, "pairings")
    assert certsvc.origin in out
    assert CREDENTIAL not in out
    code, _out, err = run(capsys, "pair", certsvc.origin, "WXYZ-2345")
    assert code == 2
    assert "server_refused" in err and "pairing_code_unknown" in err
    assert run(capsys, "unpair", certsvc.origin)[0] == 0
    assert pairings.load_pairings() == {}


# --- signing rounds with real SoftHSM tokens -----------------------------------------------------------


def _sha256(world, label: str) -> str:
    return hashlib.sha256(world.certificates[label].public_bytes(serialization.Encoding.DER)).hexdigest()


@pytest.fixture
def prepared_draft() -> bytes:
    return signing.prepare(demo.make_draft(), signer_name=demo.SIGNER).pdf


@pytest.fixture
def approve_job(world, paired, prepared_draft) -> dict:
    return paired.add_job(JOB_ID, "approve", prepared_draft, accepted_certificates=[_sha256(world, "LANH-DAO")])


def test_a_whole_signing_round_never_shows_the_pin_anywhere(world, agent, paired, approve_job, caplog):
    caplog.set_level(logging.DEBUG)
    status_page = agent.call("GET", "/").text
    assert paired.origin in status_page and "«LANH-DAO»" in status_page
    path = agent.confirm_path(agent.new_job(paired.origin, JOB_ID))
    page = agent.call("GET", path).text
    assert "Ký duyệt" in page and "V/v rà soát thiết bị ký số" in page
    assert approve_job["file_sha256"] in page
    assert "(máy chủ chấp nhận)" in page and "(không phải chứng thư máy chủ chấp nhận)" in page
    wrong = agent.post_form(
        path,
        {"action": "sign", "form_token": _form_token(page), "token": _token_choice(page, "LANH-DAO"), "pin": "000000"},
    )
    assert wrong.status == 200
    assert "Mã PIN không đúng" in wrong.text and "pin_incorrect" in wrong.text
    assert paired.requests_to("/result") == []
    form = {
        "action": "sign",
        "form_token": _form_token(wrong.text),
        "token": _token_choice(page, "LANH-DAO"),
        "pin": PIN,
    }
    done = agent.post_form(path, form)
    assert done.status == 200, done.text
    assert "Đã ký và gửi văn bản" in done.text
    (upload,) = paired.requests_to("/result")
    assert upload.headers["Content-Type"] == "application/pdf"
    report = Verifier([world.root.cert]).verify(upload.body)
    (signature,) = report.signatures
    assert (signature.field_name, signature.verdict) == (signing.PERSONAL_FIELD, Verdict.TOTAL_PASSED)
    # replayed: the local job is gone, and the server answers job_used for the same job id
    assert agent.post_form(path, form).status == 404
    assert agent.new_job(paired.origin, JOB_ID).json["error"]["code"] == "job_used"
    # nowhere: not in a log line, an answer of the agent, or anything certsvc received
    logged = [r.getMessage() for r in caplog.records]
    assert any("/confirm/" in line for line in logged)
    seen = [*logged, *(a.body.decode("utf-8", "replace") + str(a.headers) for a in agent.answers)]
    assert [s for s in seen if PIN in s or CREDENTIAL in s] == []
    sent = [r.path + str(r.headers) + r.body.decode("latin-1") for r in paired.received]
    assert [s for s in sent if PIN in s] == []


def test_a_token_at_its_final_try_or_locked_is_not_tried(world, agent, paired, approve_job, monkeypatch):
    real_info, real_open = pkcs11_access.token_info, pkcs11_access.open_session
    logins: list[str] = []
    reported = [TokenFlag.USER_PIN_FINAL_TRY]  # what the leader's token says, changed below

    def flagged(token):
        info = real_info(token)
        return info if info.label != "LANH-DAO" else type(info)(**{**info.__dict__, "flags": info.flags | reported[0]})

    def watched(token, pin):
        if pin is not None:
            logins.append(token.label)
        return real_open(token, pin)

    monkeypatch.setattr(pkcs11_access, "token_info", flagged)
    monkeypatch.setattr(pkcs11_access, "open_session", watched)
    path = agent.confirm_path(agent.new_job(paired.origin, JOB_ID))
    page = agent.call("GET", path).text
    assert "chỉ còn một lần nhập mã PIN" in page
    key = _token_choice(page, "LANH-DAO", disabled=True)
    for flag, code in ((TokenFlag.USER_PIN_FINAL_TRY, "pin_final_try"), (TokenFlag.USER_PIN_LOCKED, "pin_locked")):
        reported[0] = flag
        answer = agent.post_form(path, {"action": "sign", "form_token": _form_token(page), "token": key, "pin": PIN})
        assert code in answer.text and "Mẫu 06" in answer.text
    assert logins == []
    assert paired.requests_to("/result") == []


def test_a_token_the_server_does_not_accept_cannot_sign(world, agent, paired, approve_job):
    path = agent.confirm_path(agent.new_job(paired.origin, JOB_ID))
    page = agent.call("GET", path).text
    key = _token_choice(page, "VAN-THU", disabled=True)
    answer = agent.post_form(path, {"action": "sign", "form_token": _form_token(page), "token": key, "pin": PIN})
    assert "certificate_not_expected" in answer.text
    assert paired.requests_to("/result") == []


def test_a_refused_upload_shows_the_servers_reason(world, agent, paired, approve_job):
    paired.upload_answer = (422, {"error": {"code": "signer_mismatch", "message": "Người ký không đúng."}})
    path = agent.confirm_path(agent.new_job(paired.origin, JOB_ID))
    page = agent.call("GET", path).text
    form = {"action": "sign", "form_token": _form_token(page), "token": _token_choice(page, "LANH-DAO"), "pin": PIN}
    answer = agent.post_form(path, form)
    assert answer.status == 502
    assert "Người ký không đúng." in answer.text and "signer_mismatch" in answer.text


def test_an_appendix_is_signed_with_the_organisations_token(world, agent, paired):
    accepted = [_sha256(world, "VAN-THU")]
    paired.add_job(
        JOB_ID, "appendix", demo.make_draft(), accepted_certificates=accepted, appendix_no=2, number="6/UBND-VP"
    )
    path = agent.confirm_path(agent.new_job(paired.origin, JOB_ID))
    page = agent.call("GET", path).text
    assert "Ký phụ lục số 2 của văn bản số 6/UBND-VP" in page
    form = {"action": "sign", "form_token": _form_token(page), "token": _token_choice(page, "VAN-THU"), "pin": PIN}
    assert agent.post_form(path, form).status == 200
    (upload,) = paired.requests_to("/result")
    (signature,) = Verifier([world.root.cert]).verify(upload.body).signatures
    assert (signature.field_name, signature.verdict) == (signing.TOP_RIGHT_FIELD, Verdict.TOTAL_PASSED)


def test_the_clerk_issues_with_number_and_date(world, agent, paired, prepared_draft):
    with signer_on("LANH-DAO") as signer:
        approved = signing.approve(prepared_draft, signer, agent.service.config.signature_image)
    day = dt.datetime.now(signing.VN_TZ).date()
    root_pem = world.root.cert.public_bytes(serialization.Encoding.PEM).decode()
    paired.add_job(
        JOB_ID,
        "issue",
        approved,
        accepted_certificates=[_sha256(world, "VAN-THU")],
        number="6/UBND-VP",
        issue_date=day.isoformat(),
        place="Văn Quan",
        trust_anchors_pem=root_pem,
    )
    path = agent.confirm_path(agent.new_job(paired.origin, JOB_ID))
    page = agent.call("GET", path).text
    assert "Ký phát hành: số 06/UBND-VP, Văn Quan, ngày" in page
    form = {"action": "sign", "form_token": _form_token(page), "token": _token_choice(page, "VAN-THU"), "pin": PIN}
    assert agent.post_form(path, form).status == 200
    (upload,) = paired.requests_to("/result")
    report = Verifier([world.root.cert]).verify(upload.body)
    assert [s.verdict for s in report.signatures] == [Verdict.TOTAL_PASSED, Verdict.TOTAL_PASSED]


def test_a_check_job_uploads_the_health_report(world, agent, paired):
    paired.add_job(JOB_ID, "check")
    path = agent.confirm_path(agent.new_job(paired.origin, JOB_ID))
    page = agent.call("GET", path).text
    assert "Kiểm tra thiết bị ký số" in page
    pin_field = re.findall(r'name="(pin-[0-9a-f]+)"', page.split("«LANH-DAO»")[1])[0]
    done = agent.post_form(path, {"action": "sign", "form_token": _form_token(page), pin_field: PIN})
    assert done.status == 200, done.text
    (upload,) = paired.requests_to("/result")
    assert upload.headers["Content-Type"] == "application/json"
    report = json.loads(upload.body)
    assert report["schema"] == "token-agent.check/1"
    leader = next(t for t in report["tokens"] if t["label"] == "LANH-DAO")
    assert next(r for r in leader["results"] if r["id"] == "token.login")["status"] == "PASS"
    others = [t for t in report["tokens"] if t["label"] == "VAN-THU"]
    assert next(r for r in others[0]["results"] if r["id"] == "token.login")["status"] == "SKIP"


# --- against certsvc itself (its agent API served by Werkzeug), with the documents world's tokens ----------


@pytest.fixture
def certsvc_live(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def live_agent(home, tokens) -> Iterator[Agent]:
    config = service.ServiceConfig(
        port=0,
        host="127.0.0.1",
        module_path=MODULE,
        signature_image=tokens.image("signature"),
        seal_image=tokens.image("seal"),
        home=home,
    )
    with tokens.environment():
        running = service.AgentService(config)
        running.start()
        yield Agent(running)
        running.stop()


def _pair_as(capsys, session, account, url: str) -> None:
    code = agent_pairing.new_pairing_code(session, account).code
    session.commit()
    assert run(capsys, "pair", url, code, "--device-name", f"MAY-{account.username}")[0] == 0


def _sign_through_agent(agent: Agent, url: str, job_id: str, label: str) -> Answer:
    path = agent.confirm_path(agent.new_job(url, job_id))
    page = agent.call("GET", path).text
    form = {"action": "sign", "form_token": _form_token(page), "token": _token_choice(page, label), "pin": PIN}
    return agent.post_form(path, form)


@pytest.mark.pkcs11
@pytest.mark.xdist_group("softhsm")
def test_a_document_is_approved_and_issued_through_the_agent(
    capsys, caplog, session, tokens, dw, certsvc_live, live_agent, tmp_path
):
    caplog.set_level(logging.DEBUG)
    _pair_as(capsys, session, dw.signer, certsvc_live)
    job_id = agent_jobs.create_job(session, dw.signer, dw.doc(session), {"role": "approve"}).id
    session.commit()
    done = _sign_through_agent(live_agent, certsvc_live, job_id, "LANH-DAO")
    assert done.status == 200, done.text
    session.expire_all()
    assert dw.doc(session).status is DocumentStatus.SIGNED
    assert agent_jobs.job_status(session, dw.signer, dw.doc_id, job_id).status == "done"
    replayed = live_agent.new_job(certsvc_live, job_id)
    assert (replayed.status, replayed.json["error"]["code"]) == (409, "job_used")

    entry = register.take_number(session, dw.clerk, dw.doc(session))
    session.commit()
    clerk_job = agent_jobs.create_job(session, dw.clerk, dw.doc(session), {"role": "issue"}).id
    session.commit()
    # the leader's PC is not the clerk's: the job of another account is refused
    other = live_agent.new_job(certsvc_live, clerk_job)
    assert (other.status, other.json["error"]["code"]) == (403, "job_of_another_account")
    _pair_as(capsys, session, dw.clerk, certsvc_live)
    page = live_agent.call("GET", live_agent.confirm_path(live_agent.new_job(certsvc_live, clerk_job))).text
    assert f"Ký phát hành: số {signing.format_number(entry.symbol)}, Văn Quan, ngày" in page
    issued = _sign_through_agent(live_agent, certsvc_live, clerk_job, "VAN-THU")
    assert issued.status == 200, issued.text
    session.expire_all()
    doc = dw.doc(session)
    assert doc.status is DocumentStatus.ISSUED
    path = tmp_path / "ban-hanh.pdf"
    issued_file = files.latest(doc, FileKind.ISSUED)
    assert issued_file is not None
    path.write_bytes(files.content(issued_file))
    verdicts = pdfsig(path, nss_db(tokens, tmp_path))
    assert [(s.valid, s.trusted) for s in verdicts] == [(True, True), (True, True)]

    logged = [r.getMessage() for r in caplog.records]
    answers = [a.body.decode("utf-8", "replace") for a in live_agent.answers]
    assert [s for s in [*logged, *answers] if PIN in s] == []


@pytest.mark.pkcs11
@pytest.mark.xdist_group("softhsm")
def test_a_revoked_agent_and_a_cancelled_job_through_certsvc(capsys, session, tokens, dw, certsvc_live, live_agent):
    _pair_as(capsys, session, dw.signer, certsvc_live)
    job_id = agent_jobs.create_job(session, dw.signer, dw.doc(session), {"role": "approve"}).id
    session.commit()
    path = live_agent.confirm_path(live_agent.new_job(certsvc_live, job_id))
    cancelled = live_agent.post_form(
        path, {"action": "cancel", "form_token": _form_token(live_agent.call("GET", path).text)}
    )
    assert cancelled.status == 200, cancelled.text
    state = agent_jobs.job_status(session, dw.signer, dw.doc_id, job_id)
    assert (state.status, state.code) == ("failed", "user_cancelled")
    assert dw.doc(session).status is DocumentStatus.AWAITING_SIGNATURE

    agent_id = pairings.load_pairings()[certsvc_live].agent_id
    agent_pairing.revoke_agent(session, dw.signer, agent_id)
    session.commit()
    job_id = agent_jobs.create_job(session, dw.signer, dw.doc(session), {"role": "approve"}).id
    session.commit()
    refused = live_agent.new_job(certsvc_live, job_id)
    assert (refused.status, refused.json["error"]["code"]) == (403, "not_paired")
