"""The agent's side of certsvc's agent API (docs/agent-protocol.md): pair, fetch a job and its file, upload the
result, cancel.

Every call but pairing carries ``Authorization: Agent <credential>``. Redirects are not followed (the credential
goes to the paired origin only), answers are size-limited, and every failure becomes a :class:`TokenAgentError`
with a stable code and a Vietnamese message: certsvc's job refusals keep their codes (``job_expired``,
``job_used``, ...), a revoked or unknown credential is ``not_paired``, any other refusal ``server_refused`` with
certsvc's code and message, and a server that cannot be reached ``server_unreachable``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .errors import (
    FileChangedError,
    JobError,
    RequestRefusedError,
    ServerRefusedError,
    ServerUnreachableError,
    TokenAgentError,
)

__all__ = [
    "API_PREFIX",
    "JSON_LIMIT",
    "PDF_LIMIT",
    "TIMEOUT",
    "ROLES",
    "Document",
    "Job",
    "CertsvcClient",
    "check_job_id",
]

API_PREFIX = "/api/agent/v1"
JSON_LIMIT = 1024 * 1024
"""Largest JSON answer the agent reads."""
PDF_LIMIT = 21 * 1024 * 1024
"""Largest file the agent downloads: certsvc's 20 MB limit for a document file, and a margin."""
TIMEOUT = 30.0
"""Seconds to wait for certsvc (connection and each read)."""

ROLES = {
    "approve": "Ký duyệt",
    "issue": "Ký phát hành",
    "appendix": "Ký phụ lục",
    "copy": "Ký bản sao điện tử",
    "verify": "Kiểm tra chữ ký số",
    "check": "Kiểm tra thiết bị ký số",
}
"""The protocol's job roles, in words."""

_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

_JOB_MESSAGES = {
    "job_unknown": "Không tìm thấy yêu cầu ký trên máy chủ: hãy bấm lại nút «Ký số» trên trang văn bản.",
    "job_expired": "Yêu cầu ký đã hết hạn (5 phút): hãy bấm lại nút «Ký số» trên trang văn bản.",
    "job_used": "Yêu cầu ký này đã được dùng: hãy bấm lại nút «Ký số» nếu cần ký lại.",
    "job_of_another_account": "Yêu cầu ký thuộc tài khoản khác với tài khoản đã ghép nối với thiết bị này.",
    "user_cancelled": "Người dùng đã hủy yêu cầu ký.",
}
_NOT_PAIRED = ("agent_revoked", "agent_unauthenticated")


def check_job_id(job_id: object) -> str:
    """The job id if it has the shape certsvc gives (URL-safe, 8 to 64 characters)."""
    if not isinstance(job_id, str) or not _JOB_ID.match(job_id):
        raise RequestRefusedError("Mã yêu cầu ký không hợp lệ.", code="bad_request")
    return job_id


@dataclass(frozen=True)
class Document:
    """What the confirmation page shows of the document."""

    id: int
    summary: str
    type: str
    issuing_body: str
    urgency: str
    secrecy: str


@dataclass(frozen=True)
class Job:
    """A job as certsvc describes it (§2.3); ``file_url`` and ``upload_url`` are paths on the same server."""

    id: str
    role: str
    status: str
    expires_at: dt.datetime
    document: Document | None
    appendix_no: int | None
    file_sha256: str | None
    file_url: str | None
    upload_url: str
    accepted_certificates: frozenset[str]
    number: str | None
    issue_date: dt.date | None
    place: str | None
    trust_anchors_pem: str = field(repr=False)
    #: The file itself when the server sent it with the job (a small one), not yet checked against its SHA-256.
    inline_file: bytes | None = field(default=None, repr=False)

    @property
    def role_words(self) -> str:
        return ROLES[self.role]


def _text(value: Any, limit: int = 2000) -> str:
    if value is None:
        return ""
    if not isinstance(value, (str, int)):
        raise TypeError("expected text")
    return str(value)[:limit]


def _own_path(value: Any) -> str:
    """A path on the paired server under the agent API (never a URL elsewhere)."""
    if not isinstance(value, str) or not value.startswith(API_PREFIX + "/") or "//" in value or ".." in value:
        raise TypeError("not an agent API path")
    return value


def _parse_job(raw: Any, job_id: str) -> Job:
    try:
        role = raw["role"]
        if role not in ROLES:
            raise TypeError(f"role {role!r}")
        doc = raw.get("document")
        document = (
            Document(
                id=int(doc["id"]),
                summary=_text(doc.get("summary")),
                type=_text(doc.get("type")),
                issuing_body=_text(doc.get("issuing_body")),
                urgency=_text(doc.get("urgency")),
                secrecy=_text(doc.get("secrecy")),
            )
            if doc
            else None
        )
        expires_at = dt.datetime.fromisoformat(raw["expires_at"])
        digest = raw.get("file_sha256")
        if digest is not None and not _SHA256.match(digest):
            raise TypeError("file_sha256")
        accepted = frozenset(str(c).lower() for c in raw.get("accepted_certificates") or ())
        issue_date = raw.get("issue_date")
        appendix_no = raw.get("appendix_no")
        return Job(
            id=job_id,
            role=role,
            status=_text(raw.get("status")),
            expires_at=expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=dt.UTC),
            document=document,
            appendix_no=int(appendix_no) if appendix_no is not None else None,
            file_sha256=digest,
            file_url=_own_path(raw["file_url"]) if raw.get("file_url") else None,
            upload_url=_own_path(raw["upload_url"]),
            accepted_certificates=accepted,
            number=_text(raw.get("number"), 100) or None,
            issue_date=dt.date.fromisoformat(issue_date) if issue_date else None,
            place=_text(raw.get("place"), 200) or None,
            trust_anchors_pem=_text(raw.get("trust_anchors_pem"), JSON_LIMIT),
            inline_file=base64.b64decode(raw["file_base64"], validate=True) if raw.get("file_base64") else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ServerUnreachableError(f"Máy chủ trả lời yêu cầu ký không đúng giao thức ({exc}).") from exc


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects become errors: the credential is for the paired origin only."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect())


def _read(response: Any, limit: int) -> bytes:
    data = response.read(limit + 1)
    if len(data) > limit:
        raise ServerUnreachableError(f"Câu trả lời của máy chủ quá lớn (hơn {limit // (1024 * 1024)} MB).")
    return bytes(data)


def _refusal(status: int, body: bytes) -> TokenAgentError:
    """The error for certsvc's ``{"error": {"code", "message"}}`` answer with HTTP ``status``."""
    try:
        error = json.loads(body)["error"]
        code, message = str(error["code"]), str(error.get("message", ""))
    except (ValueError, KeyError, TypeError):
        code, message = f"http_{status}", ""
    if code in _JOB_MESSAGES:
        return JobError(_JOB_MESSAGES[code], code=code)
    if code == "file_changed":
        return FileChangedError("Văn bản đã thay đổi trên máy chủ: hãy tải lại trang văn bản và ký lại.")
    if code in _NOT_PAIRED:
        return RequestRefusedError(
            "Thiết bị này không còn được ghép nối với máy chủ (đã thu hồi hoặc chưa ghép nối): "
            "hãy ghép nối lại trong «Thiết bị ký số của tôi».",
            code="not_paired",
        )
    return ServerRefusedError(
        f"Máy chủ từ chối: {message or code} [{code}]", server_code=code, server_message=message or code
    )


class CertsvcClient:
    """Calls to one certsvc server (``origin``), with the agent's credential at it when paired."""

    def __init__(self, origin: str, credential: str | None = None, *, timeout: float = TIMEOUT) -> None:
        self.origin = origin
        self._credential = credential
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"CertsvcClient({self.origin!r})"

    def _call(
        self, method: str, path: str, *, body: bytes | None = None, content_type: str = "", limit: int = JSON_LIMIT
    ) -> tuple[str, bytes]:
        """``(content type, body)`` of a 2xx answer; otherwise the error the answer means."""
        request = urllib.request.Request(self.origin + path, data=body, method=method)
        request.add_header("Accept", "application/json, application/pdf")
        if content_type:
            request.add_header("Content-Type", content_type)
        if self._credential:
            request.add_header("Authorization", f"Agent {self._credential}")
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                return response.headers.get("Content-Type", ""), _read(response, limit)
        except urllib.error.HTTPError as exc:
            with exc:
                raise _refusal(exc.code, _read(exc, JSON_LIMIT)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServerUnreachableError(
                f"Không kết nối được máy chủ {self.origin} ({reason}): kiểm tra mạng rồi thử lại."
            ) from exc

    def _json(self, method: str, path: str, document: dict | None = None) -> Any:
        body = None if document is None else json.dumps(document).encode("utf-8")
        _type, answer = self._call(method, path, body=body, content_type="application/json" if body else "")
        try:
            return json.loads(answer)
        except ValueError as exc:
            raise ServerUnreachableError(
                f"Máy chủ {self.origin} không trả lời theo giao thức (không phải JSON)."
            ) from exc

    def pair(self, code: str, device_name: str) -> dict[str, Any]:
        """``POST /pair``: the credential and the account (§1.2)."""
        answer = self._json("POST", f"{API_PREFIX}/pair", {"code": code, "device_name": device_name[:100]})
        if not isinstance(answer, dict) or not isinstance(answer.get("credential"), str):
            raise ServerUnreachableError(f"Máy chủ {self.origin} không trả lời theo giao thức ghép nối.")
        return answer

    def job(self, job_id: str) -> Job:
        """``GET /jobs/<id>`` (§2.3)."""
        return _parse_job(self._json("GET", f"{API_PREFIX}/jobs/{quote(check_job_id(job_id))}"), job_id)

    def file(self, job: Job) -> bytes:
        """The job's file, as it came with the job or from ``file_url``; refused unless its SHA-256 is the job's
        (§2.4)."""
        if job.file_url is None or job.file_sha256 is None:
            raise ServerUnreachableError("Yêu cầu ký không có tệp văn bản.")
        if job.inline_file is not None:
            data = job.inline_file
        else:
            _type, data = self._call("GET", job.file_url, limit=PDF_LIMIT)
        if hashlib.sha256(data).hexdigest() != job.file_sha256:
            raise FileChangedError("Tệp tải về khác tệp của yêu cầu ký (văn bản đã thay đổi): hãy tải lại trang.")
        return data

    def upload(self, job: Job, data: bytes, content_type: str) -> None:
        """``POST <upload_url>`` (§2.6): returns when certsvc accepted the result; its refusal (422, with the
        signature check's code and message) is a ServerRefusedError."""
        self._call("POST", job.upload_url, body=data, content_type=content_type)

    def cancel(self, job_id: str, reason: str = "user_cancelled") -> None:
        """``POST /jobs/<id>/cancel`` (§2.7)."""
        self._json("POST", f"{API_PREFIX}/jobs/{quote(check_job_id(job_id))}/cancel", {"reason": reason})
