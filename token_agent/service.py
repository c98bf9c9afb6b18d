"""``token-agent serve``: the agent as a local HTTP service for one-click signing from certsvc's pages.

The contract is docs/agent-protocol.md. In short: a certsvc page of a paired origin posts a job id to
``POST /v1/jobs``; the agent fetches the job and its file from certsvc with its own credential, keeps them in
memory under a random local token and answers the URL of its confirmation page (``/confirm/<token>``), where
the user picks a token, types the PIN and clicks "Ký" (or "Hủy"); the agent signs and uploads the result.

Defences: it listens on loopback only; every request's Host must be the agent's own loopback name and port
(DNS rebinding); CORS headers and private-network preflights answer paired origins only; the confirmation
form posts back with a per-page token and must come from the agent's own origin; the page cannot be framed.
The PIN is read from the form, used for C_Login and dropped: it is never logged, stored or sent anywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pkcs11
from cryptography import x509
from pkcs11 import TokenFlag
from pyhanko.sign.pkcs11 import PKCS11Signer

from . import confirm_page, health, pairings, pkcs11_access, signing
from .certs import is_ca, summarise_subject
from .certsvc_client import CertsvcClient, Job, check_job_id
from .errors import (
    CertificateNotExpectedError,
    JobError,
    NotLoopbackError,
    PinError,
    PinFinalTryError,
    PinIncorrectError,
    PinLockedError,
    RequestRefusedError,
    TokenAbsentError,
    TokenAgentError,
)
from .pairings import Pairing, agent_home, load_pairings, normalise_origin
from .pkcs11_access import Pin, TokenInfo
from .reporting import dump_json
from .verification import Verifier

__all__ = [
    "DEFAULT_PORT",
    "CONFIG_FILE",
    "ServiceConfig",
    "CertificateView",
    "TokenView",
    "LocalJob",
    "AgentService",
    "load_config",
    "check_loopback",
    "run_forever",
]

DEFAULT_PORT = 8987
CONFIG_FILE = "config.json"
"""In the agent's home: ``{"signature_image": PATH, "seal_image": PATH, "module": PATH}``, each optional."""

_BODY_LIMIT = 16 * 1024
_SIGNING_ROLES = ("approve", "issue", "appendix", "copy")
_HTTP_STATUS = {
    "bad_request": 400,
    "role_unsupported": 400,
    "not_paired": 403,
    "origin_not_allowed": 403,
    "host_not_allowed": 403,
    "job_of_another_account": 403,
    "job_unknown": 404,
    "job_used": 409,
    "user_cancelled": 409,
    "file_changed": 409,
    "job_expired": 410,
    "server_refused": 502,
    "server_unreachable": 502,
    "internal_error": 500,
}
_PIN_LOCKED_WAY_OUT = (
    "Mã PIN của thiết bị đã bị khóa: phần mềm không thử đăng nhập. Hãy lập đề nghị khôi phục thiết bị lưu khóa "
    "bí mật (Mẫu 06) trong certsvc."
)
_PIN_FINAL_TRY_WAY_OUT = (
    "Thiết bị chỉ còn một lần nhập mã PIN: để thiết bị không bị khóa, phần mềm không thử mã PIN. Hãy lập đề nghị "
    "khôi phục thiết bị lưu khóa bí mật (Mẫu 06) trong certsvc, hoặc nhờ đầu mối chứng thư số hỗ trợ."
)
_CONFIRM_PATH = re.compile(r"^/confirm/([A-Za-z0-9_-]{20,64})$")
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceConfig:
    """How the service runs: where it listens, which PKCS#11 library, the images it signs with."""

    port: int = DEFAULT_PORT
    host: str | None = None
    """One loopback address to listen on; None: 127.0.0.1, and ::1 when the system has IPv6."""
    module_path: str | None = None
    signature_image: Path | None = None
    seal_image: Path | None = None
    home: Path | None = None


def load_config(home: Path | None = None) -> dict[str, Path | str]:
    """The settings in ``config.json`` of the agent's home (none when there is no file)."""
    path = (home or agent_home()) / CONFIG_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise TokenAgentError(f"Tệp cấu hình {path} không phải JSON hợp lệ.", code="config_unreadable") from exc
    if not isinstance(raw, dict):
        raise TokenAgentError(f"Tệp cấu hình {path} phải là một đối tượng JSON.", code="config_unreadable")
    found: dict[str, Path | str] = {key: Path(raw[key]) for key in ("signature_image", "seal_image") if raw.get(key)}
    if raw.get("module"):
        found["module"] = str(raw["module"])
    return found


def check_loopback(host: str) -> str:
    """``host`` if it is a loopback address (or ``localhost``); refused otherwise."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise NotLoopbackError(
        f"Dịch vụ ký số chỉ được nghe trên địa chỉ nội bộ của máy (127.0.0.1 hoặc ::1), không phải «{host}»."
    )


# --- tokens as the confirmation page shows them ---------------------------------------------------------


@dataclass(frozen=True)
class CertificateView:
    """A signing certificate on a token, and whether certsvc accepts it for the job."""

    label: str
    subject: str
    organisation: str
    not_after: dt.datetime
    sha256: str
    accepted: bool


@dataclass(frozen=True)
class TokenView:
    """A token plugged in: its name, certificates, and why it cannot be used for the job (or None)."""

    key: str
    label: str
    serial: str
    certificates: tuple[CertificateView, ...]
    refusal: TokenAgentError | None

    @property
    def usable(self) -> bool:
        return self.refusal is None


def _token_key(info: TokenInfo) -> str:
    """A short stable name of a token for a form's choice (from its serial number and label)."""
    return hashlib.sha256(f"{info.serial}\0{info.label}".encode()).hexdigest()[:16]


def _pin_refusal(info: TokenInfo) -> TokenAgentError | None:
    """Why no PIN may be tried on this token, read from its flags only."""
    if info.has(TokenFlag.USER_PIN_LOCKED):
        return PinLockedError(_PIN_LOCKED_WAY_OUT)
    if info.has(TokenFlag.USER_PIN_FINAL_TRY):
        return PinFinalTryError(_PIN_FINAL_TRY_WAY_OUT)
    return None


def _view(token: pkcs11.Token, job: Job) -> TokenView:
    info = pkcs11_access.token_info(token)
    with pkcs11_access.open_session(token, None) as session:
        found = [c for c in pkcs11_access.list_certificates(session) if not is_ca(c.certificate)]
    certificates = []
    for c in found:
        subject = summarise_subject(c.certificate)
        digest = hashlib.sha256(c.der).hexdigest()
        certificates.append(
            CertificateView(
                label=c.label,
                subject=subject.common_name,
                organisation=subject.organisation or "",
                not_after=c.certificate.not_valid_after_utc,
                sha256=digest,
                accepted=digest in job.accepted_certificates,
            )
        )
    refusal = _pin_refusal(info)
    if refusal is None and job.role in _SIGNING_ROLES and not any(c.accepted for c in certificates):
        refusal = CertificateNotExpectedError(
            "Thiết bị không có chứng thư số mà máy chủ chấp nhận cho bước ký này "
            "(chứng thư của người ký hoặc của cơ quan ban hành đang có hiệu lực)."
        )
    return TokenView(_token_key(info), info.label, info.serial, tuple(certificates), refusal)


def _ready_tokens(module: Any) -> list[pkcs11.Token]:
    return [
        t for t in pkcs11_access.present_tokens(module) if pkcs11_access.token_info(t).has(TokenFlag.TOKEN_INITIALIZED)
    ]


def _ready_token(module: Any, key: str) -> pkcs11.Token | None:
    """The initialised token whose :func:`_token_key` is ``key``, if the module sees it (a token pulled out
    since the module was loaded is not seen)."""
    try:
        return next((t for t in _ready_tokens(module) if _token_key(pkcs11_access.token_info(t)) == key), None)
    except pkcs11.PKCS11Error:
        return None


def _trust_anchors(job: Job) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(job.trust_anchors_pem.encode()) if job.trust_anchors_pem else []
    except ValueError as exc:
        raise TokenAgentError("Chứng thư gốc máy chủ gửi không đọc được.", code="server_unreachable") from exc


# --- local jobs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalJob:
    """A job fetched from certsvc and kept in memory until done, cancelled or expired."""

    token: str
    form_token: str
    origin: str
    job: Job
    pdf: bytes | None

    def expired(self, now: dt.datetime) -> bool:
        return now >= self.job.expires_at


@dataclass(frozen=True)
class _Outcome:
    """What the confirmation window shows after the form was posted."""

    title: str
    message: str
    ok: bool


class AgentService:
    """The local service: its listening sockets, its jobs in memory, and the work it does for the handler."""

    def __init__(self, config: ServiceConfig, *, now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self.config = config
        self._now = now
        self._jobs: dict[str, LocalJob] = {}
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        self._token_lock = threading.Lock()  # re-initialising the module closes every open session
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self.port = config.port
        self.pair_form_token = secrets.token_urlsafe(32)
        """The token of the pairing form (``/pair``): a page elsewhere cannot read it, so cannot post the form."""

    # --- lifecycle ---

    def start(self) -> None:
        """Bind the loopback addresses and serve in background threads."""
        hosts = [check_loopback(self.config.host)] if self.config.host else ["127.0.0.1", "::1"]
        for host in hosts:
            try:
                server = _Server(self, (host, self.port))
            except OSError as exc:
                if host == "::1" and len(hosts) > 1:
                    continue  # no IPv6 on this system
                self.stop()
                raise TokenAgentError(
                    f"Không mở được cổng {self.port} trên {host} ({exc.strerror}): phần mềm ký số đã chạy, "
                    "hoặc chọn cổng khác bằng --port.",
                    code="port_unavailable",
                ) from exc
            self.port = server.server_address[1]
            self._servers.append(server)
        for bound in self._servers:
            thread = threading.Thread(target=bound.serve_forever, name="token-agent-serve", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()
        self._servers, self._threads = [], []

    @property
    def own_origins(self) -> frozenset[str]:
        return frozenset(f"http://{h}:{self.port}" for h in ("127.0.0.1", "localhost", "[::1]"))

    @property
    def allowed_hosts(self) -> frozenset[str]:
        return frozenset(o.removeprefix("http://") for o in self.own_origins)

    def pairings(self) -> dict[str, Pairing]:
        """Read afresh at each request: ``token-agent pair`` may run while the service does."""
        return load_pairings(self.config.home)

    @contextmanager
    def _module(self, *, refresh: bool = True) -> Iterator[Any]:
        with self._token_lock:
            yield pkcs11_access.load_module(self.config.module_path, refresh=refresh)

    # --- jobs ---

    def create_job(self, origin: str, request: Any) -> str:
        """Fetch the job (and its file) for a paired origin; the confirmation page's URL."""
        pairing = self.pairings().get(origin)
        if pairing is None:
            raise RequestRefusedError("Trang này không thuộc máy chủ đã ghép nối.", code="origin_not_allowed")
        if not isinstance(request, dict) or not isinstance(request.get("server"), str):
            raise RequestRefusedError("Yêu cầu phải có «server» và «job_id».", code="bad_request")
        try:
            server = normalise_origin(request["server"])
        except TokenAgentError:
            server = ""
        if server != origin:
            raise RequestRefusedError("Máy chủ trong yêu cầu khác trang đã gửi yêu cầu.", code="origin_not_allowed")
        job_id = check_job_id(request.get("job_id"))
        client = CertsvcClient(origin, pairing.credential)
        job = client.job(job_id)
        if job.role not in (*_SIGNING_ROLES, "check"):
            raise TokenAgentError(f"Phần mềm chưa làm được việc «{job.role_words}».", code="role_unsupported")
        if self._now() >= job.expires_at:
            raise JobError("Yêu cầu ký đã hết hạn: hãy bấm lại nút «Ký số».", code="job_expired")
        pdf = client.file(job) if job.role in _SIGNING_ROLES else None
        local = LocalJob(secrets.token_urlsafe(32), secrets.token_urlsafe(32), origin, job, pdf)
        with self._lock:
            self._purge()
            self._jobs[local.token] = local
        return f"http://127.0.0.1:{self.port}/confirm/{local.token}"

    def _purge(self) -> None:
        now = self._now()
        for token in [t for t, j in self._jobs.items() if j.expired(now) and t not in self._busy]:
            del self._jobs[token]

    def local_job(self, token: str) -> LocalJob:
        with self._lock:
            local = self._jobs.get(token)
            if local is None:
                raise JobError("Không tìm thấy yêu cầu ký (đã xong, đã hủy hoặc đã hết hạn).", code="job_unknown")
            if local.expired(self._now()):
                self._jobs.pop(token, None)
                raise JobError("Yêu cầu ký đã hết hạn: hãy bấm lại nút «Ký số» trên trang văn bản.", code="job_expired")
            return local

    @contextmanager
    def _claimed(self, local: LocalJob) -> Iterator[None]:
        """At most one form post works on a job at a time."""
        with self._lock:
            if local.token in self._busy or local.token not in self._jobs:
                raise JobError("Yêu cầu ký đang được xử lý hoặc đã xong.", code="job_used")
            self._busy.add(local.token)
        try:
            yield
        finally:
            with self._lock:
                self._busy.discard(local.token)

    def _finish(self, local: LocalJob) -> None:
        with self._lock:
            self._jobs.pop(local.token, None)

    def pair(self, form: dict[str, str]) -> Pairing:
        """Pair with the server and code typed into the agent's own ``/pair`` page."""
        if not hmac.compare_digest(form.get("form_token", ""), self.pair_form_token):
            raise RequestRefusedError("Biểu mẫu không hợp lệ: hãy mở lại trang ghép nối.", code="bad_request")
        return pairings.pair(
            form.get("server", ""), form.get("code", ""), form.get("device_name", ""), self.config.home
        )

    def token_views(self, job: Job) -> list[TokenView]:
        with self._module() as module:
            return [_view(t, job) for t in _ready_tokens(module)]

    # --- the form ---

    def submit(self, local: LocalJob, form: dict[str, str]) -> _Outcome:
        """Do what the confirmation form asks (sign, check or cancel); a TokenAgentError leaves the job open
        unless certsvc has settled it."""
        if not hmac.compare_digest(form.get("form_token", ""), local.form_token):
            raise RequestRefusedError("Biểu mẫu không hợp lệ: hãy mở lại trang xác nhận.", code="bad_request")
        with self._claimed(local):
            client = CertsvcClient(local.origin, self._credential(local))
            if form.get("action") == "cancel":
                self._finish(local)
                client.cancel(local.job.id)
                return _Outcome("Đã hủy", "Đã hủy yêu cầu ký; văn bản không thay đổi.", ok=True)
            if local.job.role == "check":
                data, content_type = self._check(local, form), "application/json"
            else:
                data, content_type = self._sign(local, form.get("token", ""), form.get("pin", "")), "application/pdf"
            self._finish(local)  # certsvc takes one upload per job, whatever it answers
            client.upload(local.job, data, content_type)
        if local.job.role == "check":
            return _Outcome("Hoàn tất", "Đã gửi kết quả kiểm tra thiết bị lên máy chủ.", ok=True)
        return _Outcome("Hoàn tất", "Đã ký và gửi văn bản; máy chủ đã nhận và kiểm tra chữ ký số.", ok=True)

    def _credential(self, local: LocalJob) -> str:
        pairing = self.pairings().get(local.origin)
        if pairing is None:
            raise RequestRefusedError("Thiết bị không còn được ghép nối với máy chủ này.", code="not_paired")
        return pairing.credential

    def _image(self, name: str) -> Path:
        configured = getattr(self.config, name) or load_config(self.config.home).get(name)
        if not configured:
            words = {"signature_image": "ảnh chữ ký", "seal_image": "ảnh con dấu"}[name]
            raise TokenAgentError(
                f"Chưa cấu hình {words}: chạy «token-agent serve --{name.replace('_', '-')} TỆP» "
                f"hoặc ghi «{name}» vào {CONFIG_FILE}.",
                code="image_missing",
            )
        return Path(configured)

    def _sign(self, local: LocalJob, key: str, pin_text: str) -> bytes:
        job, pdf = local.job, local.pdf
        assert pdf is not None
        image = {"approve": "signature_image", "issue": "seal_image"}.get(job.role)
        image_path = self._image(image) if image else None
        if not pin_text or len(pin_text) > 64:
            raise PinIncorrectError("Hãy nhập mã PIN của thiết bị (tối đa 64 ký tự).")
        # The confirmation page listed the tokens a moment ago: look in that list first, and load the module
        # again (seeing tokens plugged in since) only when the chosen token is not in it.
        with self._module(refresh=False) as module:
            token = _ready_token(module, key) or _ready_token(pkcs11_access.load_module(self.config.module_path), key)
            if token is None:
                raise TokenAbsentError("Không thấy thiết bị đã chọn: hãy cắm thiết bị rồi thử lại.")
            view = _view(token, job)
            if view.refusal is not None:
                raise view.refusal
            chosen = next(c for c in view.certificates if c.accepted)
            try:
                with pkcs11_access.open_session(token, Pin(pin_text)) as session:
                    signer = signing.token_signer(session, chosen.label)
                    return _sign_role(job, pdf, signer, image_path)
            except PinLockedError:
                raise PinLockedError(_PIN_LOCKED_WAY_OUT) from None
            except PinIncorrectError:
                raise PinIncorrectError(_tries_left(pkcs11_access.token_info(token))) from None

    def _check(self, local: LocalJob, form: dict[str, str]) -> bytes:
        pins = {key[len("pin-") :]: Pin(v) for key, v in form.items() if key.startswith("pin-") and 0 < len(v) <= 64}
        options = health.CheckOptions(
            module_path=self.config.module_path,
            pin_source=lambda info: pins.get(_token_key(info)),
            trust_anchors=tuple(_trust_anchors(local.job)),
        )
        with self._token_lock:
            report = health.run_health_check(options)
        return dump_json(health.SCHEMA, report).encode("utf-8")


def _tries_left(info: TokenInfo) -> str:
    if info.has(TokenFlag.USER_PIN_LOCKED):
        return "Mã PIN không đúng và thiết bị đã bị khóa. " + _PIN_LOCKED_WAY_OUT
    if info.has(TokenFlag.USER_PIN_FINAL_TRY):
        return "Mã PIN không đúng. Chỉ còn một lần nhập: nhập sai nữa thiết bị sẽ bị khóa."
    if info.has(TokenFlag.USER_PIN_COUNT_LOW):
        return "Mã PIN không đúng. Thiết bị báo còn ít lần nhập: hãy kiểm tra kỹ trước khi nhập lại."
    return "Mã PIN không đúng."


def _sign_role(job: Job, pdf: bytes, signer: PKCS11Signer, image: Path | None) -> bytes:
    if job.role == "approve":
        assert image is not None
        return signing.approve(pdf, signer, image)
    if job.role == "issue":
        assert image is not None
        if not (job.number and job.place and job.issue_date):
            raise TokenAgentError("Yêu cầu ký phát hành thiếu số, ngày hoặc địa danh.", code="server_unreachable")
        verifier = Verifier(_trust_anchors(job))
        return signing.issue(
            pdf, signer, image, number=job.number, place=job.place, issue_date=job.issue_date, verifier=verifier
        )
    if job.role == "appendix":
        if not job.number:
            raise TokenAgentError("Yêu cầu ký phụ lục thiếu số văn bản.", code="server_unreachable")
        return signing.sign_appendix(pdf, signer, number=job.number)
    return signing.sign_copy(pdf, signer, kind=signing.CopyKind.SAO_Y)


# --- HTTP ------------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = os.name != "nt"  # on Windows it would let a second process bind the same port

    def __init__(self, service: AgentService, address: tuple[str, int]) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.service = service
        super().__init__(address, _Handler)


_HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # a same-origin form post keeps its Origin header
}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "token-agent"
    sys_version = ""

    # --- plumbing ---

    @property
    def service(self) -> AgentService:
        return self.server.service

    @property
    def path_only(self) -> str:
        return urlsplit(self.path).path

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path_only
        if path.startswith("/confirm/"):
            path = "/confirm/…"  # the local token is a capability
        _log.info("%s %s %s", self.command, path, code)

    def log_message(self, format: str, *args: Any) -> None:
        # only send_error comes here (log_request is ours): its message may quote the raw request line, query
        # string included, so only the status is logged
        _log.warning("malformed request refused (%s)", args[0] if args else "?")

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Vary", "Origin")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _cors(self) -> dict[str, str]:
        origin = self._paired_origin()
        return {"Access-Control-Allow-Origin": origin} if origin else {}

    def _paired_origin(self) -> str | None:
        origin = self.headers.get("Origin", "")
        return origin if origin and origin in self.service.pairings() else None

    def _json(self, status: int, document: dict[str, Any]) -> None:
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8", self._cors())

    def _json_error(self, error: TokenAgentError) -> None:
        self._json(_HTTP_STATUS.get(error.code, 400), _error_document(error))

    def _html(self, status: int, body: bytes) -> None:
        self._send(status, body, "text/html; charset=utf-8", _HTML_HEADERS)

    def _html_error(self, error: TokenAgentError) -> None:
        self._html(_HTTP_STATUS.get(error.code, 400), confirm_page.outcome("Không thực hiện được", _words(error)))

    def _body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError as exc:
            raise RequestRefusedError("Yêu cầu thiếu Content-Length.", code="bad_request") from exc
        if not 0 <= length <= _BODY_LIMIT:
            raise RequestRefusedError("Yêu cầu quá lớn.", code="bad_request")
        return self.rfile.read(length)

    def _host_ok(self) -> bool:
        if self.headers.get("Host", "") in self.service.allowed_hosts:
            return True
        error = RequestRefusedError("Địa chỉ truy cập không phải của dịch vụ ký số.", code="host_not_allowed")
        self._json_error(error)
        return False

    def _guarded(self, handle: Callable[[], None], on_error: Callable[[TokenAgentError], None]) -> None:
        if not self._host_ok():
            return
        try:
            handle()
        except TokenAgentError as exc:
            on_error(exc)
        except Exception:  # a bug or a file nobody foresaw: a page with a message, details in the log
            _log.exception("request failed: %s %s", self.command, self.path_only)
            on_error(TokenAgentError("Lỗi không lường trước của phần mềm ký số; xem nhật ký.", code="internal_error"))

    # --- methods ---

    def do_OPTIONS(self) -> None:
        self._guarded(self._preflight, self._json_error)

    def do_GET(self) -> None:
        path = self.path_only
        if path == "/v1/status":
            self._guarded(self._status_json, self._json_error)
        elif path == "/":
            self._guarded(self._status_page, self._html_error)
        elif path == "/pair":
            self._guarded(self._pair_page, self._html_error)
        elif _CONFIRM_PATH.match(path):
            self._guarded(self._confirm_page, self._html_error)
        else:
            self._guarded(self._not_found, self._json_error)

    def do_POST(self) -> None:
        path = self.path_only
        if path == "/v1/jobs":
            self._guarded(self._new_job, self._json_error)
        elif path == "/pair":
            self._guarded(self._pair_post, self._html_error)
        elif _CONFIRM_PATH.match(path):
            self._guarded(self._confirm_post, self._html_error)
        else:
            self._guarded(self._not_found, self._json_error)

    # --- endpoints ---

    def _not_found(self) -> None:
        self._json(404, {"error": {"code": "not_found", "message": "Không có địa chỉ này."}})

    def _preflight(self) -> None:
        origin = self._paired_origin()
        if origin is None or self.path_only not in ("/v1/jobs", "/v1/status"):
            raise RequestRefusedError("Trang này không thuộc máy chủ đã ghép nối.", code="origin_not_allowed")
        headers = {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        }
        if self.headers.get("Access-Control-Request-Private-Network", "").lower() == "true":
            headers["Access-Control-Allow-Private-Network"] = "true"
        self._send(204, b"", "text/plain", headers)

    def _status_json(self) -> None:
        origin = self.headers.get("Origin", "")
        self._json(
            200,
            {"agent": "token-agent", "status": "ready", "paired": bool(origin) and origin in self.service.pairings()},
        )

    def _status_page(self) -> None:
        views = self.service.token_views(_NO_JOB)
        self._html(200, confirm_page.status(list(self.service.pairings().values()), views))

    def _new_job(self) -> None:
        origin = self._paired_origin()
        if origin is None:
            raise RequestRefusedError("Trang này không thuộc máy chủ đã ghép nối.", code="origin_not_allowed")
        try:
            request = json.loads(self._body())
        except ValueError as exc:
            raise RequestRefusedError("Yêu cầu không phải JSON hợp lệ.", code="bad_request") from exc
        self._json(200, {"confirm_url": self.service.create_job(origin, request)})

    def _local(self) -> LocalJob:
        match = _CONFIRM_PATH.match(self.path_only)
        assert match is not None
        return self.service.local_job(match.group(1))

    def _confirm_page(self, message: str = "", local: LocalJob | None = None) -> None:
        local = local or self._local()
        views = self.service.token_views(local.job)
        self._html(200, confirm_page.confirm(local, views, message))

    def _own_form(self) -> dict[str, str]:
        """The fields of a form posted from one of the agent's own pages (any other Origin is refused)."""
        if self.headers.get("Origin", "") not in self.service.own_origins:
            raise RequestRefusedError(
                "Biểu mẫu chỉ được gửi từ trang của chính phần mềm ký số.", code="origin_not_allowed"
            )
        body = self._body().decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True, max_num_fields=50).items()}

    def _pair_page(self, message: str = "", form: dict[str, str] | None = None) -> None:
        fields = form or {"device_name": socket.gethostname()}
        self._html(200, confirm_page.pair_form(self.service.pair_form_token, fields, message))

    def _pair_post(self) -> None:
        form = self._own_form()
        try:
            made = self.service.pair(form)
        except TokenAgentError as exc:
            if exc.code == "bad_request":
                raise
            self._pair_page(_words(exc), {k: v for k, v in form.items() if k in ("server", "device_name")})
            return
        done = f"Đã ghép nối với {made.origin} cho tài khoản {made.account}."
        self._html(200, confirm_page.outcome("Đã ghép nối", done, ok=True))

    def _confirm_post(self) -> None:
        form = self._own_form()
        local = self._local()
        try:
            outcome = self.service.submit(local, form)
        except (PinError, TokenAbsentError, CertificateNotExpectedError) as exc:
            self._confirm_page(_words(exc), local)  # the job stays open: the user can try again or cancel
            return
        finally:
            form.clear()  # the PIN goes no further
        self._html(200, confirm_page.outcome(outcome.title, outcome.message, ok=outcome.ok))


_NO_JOB = Job(
    id="",
    role="check",
    status="",
    expires_at=dt.datetime.max.replace(tzinfo=dt.UTC),
    document=None,
    appendix_no=None,
    file_sha256=None,
    file_url=None,
    upload_url="",
    accepted_certificates=frozenset(),
    number=None,
    issue_date=None,
    place=None,
    trust_anchors_pem="",
)
"""The job the status page shows tokens for: none (no certificate is checked for acceptance)."""


def _words(error: TokenAgentError) -> str:
    return f"{error.message} [{error.code}]"


def _error_document(error: TokenAgentError) -> dict[str, Any]:
    document: dict[str, Any] = {"code": error.code, "message": error.message}
    for name in ("server_code", "server_message"):
        with suppress(AttributeError):
            document[name] = getattr(error, name)
    return {"error": document}


def run_forever(service: AgentService, stop: threading.Event | None = None) -> None:
    """Serve until interrupted (Ctrl+C) or ``stop`` is set."""
    service.start()
    stop = stop or threading.Event()
    try:
        while not stop.wait(0.5):  # a wait with a timeout lets Ctrl+C through, on Windows too
            pass
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
