"""The local service's own HTML pages (Vietnamese): the confirmation page of a job, the outcome page, and the
status page. Self-contained (no script, no external resource; the style is inline, allowed by the service's
Content-Security-Policy for its own pages only), every value escaped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

from .signing import VN_TZ, format_date_line, format_number

if TYPE_CHECKING:
    from .pairings import Pairing
    from .service import LocalJob, TokenView

__all__ = ["confirm", "outcome", "status", "pair_form"]

_STYLE = """
body{font-family:system-ui,"Segoe UI",Arial,sans-serif;max-width:46rem;margin:1.5rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}dl{display:grid;grid-template-columns:11rem 1fr;gap:.3rem .8rem}dt{font-weight:600}
dd{margin:0;overflow-wrap:anywhere}.msg{padding:.7rem 1rem;border-radius:.3rem;margin:1rem 0}
.bad{background:#fde8e8;border:1px solid #c81e1e}.good{background:#e6f4ea;border:1px solid #1e7b34}
fieldset{border:1px solid #bbb;border-radius:.3rem;margin:.6rem 0}label{display:block;margin:.3rem 0}
.token{padding:.4rem 0;border-bottom:1px solid #eee}.no{color:#9b1c1c}.yes{color:#1e7b34}
code{font-size:.85rem}button{font-size:1rem;padding:.4rem 1.4rem;margin-right:.6rem}
"""


def _page(title: str, body: str) -> bytes:
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{escape(title)} – Phần mềm ký số'
        f"</title><style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    ).encode()


def _rows(pairs: Sequence[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in pairs if v) + "</dl>"


def _vn(moment: dt.datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")


def _role(local: LocalJob) -> str:
    job = local.job
    if job.role == "issue" and job.number and job.place and job.issue_date:
        return f"{job.role_words}: số {format_number(job.number)}, {format_date_line(job.place, job.issue_date)}"
    if job.role == "appendix":
        return f"{job.role_words} số {job.appendix_no or '?'}" + (f" của văn bản số {job.number}" if job.number else "")
    return job.role_words


def _token(view: TokenView, *, choosing: bool) -> str:
    certificates = (
        "".join(
            f"<div>{escape(c.subject)}{' – ' + escape(c.organisation) if c.organisation not in ('', c.subject) else ''}"
            f", hiệu lực đến "
            f"{_vn(c.not_after)}; SHA-256 <code>{escape(c.sha256[:16])}…</code> "
            + (
                '<span class="yes">(máy chủ chấp nhận)</span>'
                if c.accepted
                else ('<span class="no">(không phải chứng thư máy chủ chấp nhận)</span>' if choosing else "")
            )
            + "</div>"
            for c in view.certificates
        )
        or "<div>Không có chứng thư số.</div>"
    )
    name = f"«{escape(view.label)}» (sê-ri {escape(view.serial or '?')})"
    reason = f'<div class="no">{escape(view.refusal.message)}</div>' if view.refusal else ""
    if not choosing:
        return f'<div class="token">{name}{certificates}{reason}</div>'
    disabled = "" if view.usable else " disabled"
    return (
        f'<div class="token"><label><input type="radio" name="token" value="{escape(view.key)}" required{disabled}> '
        f"{name}</label>{certificates}{reason}</div>"
    )


def _check_token(view: TokenView) -> str:
    disabled = "" if view.refusal is None else " disabled"
    return (
        f'<div class="token">{_token(view, choosing=False)}<label>Mã PIN để ký thử (không bắt buộc): '
        f'<input type="password" name="pin-{escape(view.key)}" autocomplete="off" maxlength="64"{disabled}></label>'
        "</div>"
    )


def confirm(local: LocalJob, tokens: Sequence[TokenView], message: str = "") -> bytes:
    """The confirmation page of a job: what will be signed, with which token, the PIN field and the buttons."""
    job = local.job
    doc = job.document
    facts = [
        ("Máy chủ", local.origin),
        ("Việc cần làm", _role(local)),
        ("Trích yếu", doc.summary if doc else ""),
        ("Loại văn bản", doc.type if doc else ""),
        ("Cơ quan ban hành", doc.issuing_body if doc else ""),
        ("Độ khẩn", doc.urgency if doc else ""),
        ("Độ mật", doc.secrecy if doc else ""),
        ("SHA-256 của tệp", job.file_sha256 or ""),
        ("Hết hạn lúc", _vn(job.expires_at)),
    ]
    alert = f'<div class="msg bad" role="alert">{escape(message)}</div>' if message else ""
    hidden = f'<input type="hidden" name="form_token" value="{escape(local.form_token)}">'
    if job.role == "check":
        choices = "".join(_check_token(v) for v in tokens) or "<p>Không thấy thiết bị ký số nào đang cắm.</p>"
        fields = f"<fieldset><legend>Thiết bị ký số đang cắm</legend>{choices}</fieldset>"
        go = "Kiểm tra"
    else:
        choices = "".join(_token(v, choosing=True) for v in tokens) or (
            "<p>Không thấy thiết bị ký số nào đang cắm: hãy cắm thiết bị rồi tải lại trang này.</p>"
        )
        fields = (
            f"<fieldset><legend>Chọn thiết bị ký số</legend>{choices}</fieldset>"
            '<label>Mã PIN: <input type="password" name="pin" autocomplete="off" maxlength="64" required></label>'
        )
        go = "Ký"
    form = (
        f'<form method="post">{hidden}{fields}<p><button type="submit" name="action" value="sign">{go}</button>'
        '<button type="submit" name="action" value="cancel" formnovalidate>Hủy</button></p></form>'
    )
    return _page("Xác nhận ký số" if job.role != "check" else "Kiểm tra thiết bị ký số", _rows(facts) + alert + form)


def outcome(title: str, message: str, *, ok: bool = False) -> bytes:
    """The page after the form: done, cancelled, or why not (the window can be closed)."""
    kind = "good" if ok else "bad"
    return _page(
        title,
        f'<div class="msg {kind}" role="{"status" if ok else "alert"}">{escape(message)}</div>'
        "<p>Có thể đóng cửa sổ này và quay lại trang văn bản.</p>",
    )


def status(pairings: Sequence[Pairing], tokens: Sequence[TokenView]) -> bytes:
    """The service's home page: the servers it is paired with and the tokens plugged in."""
    servers = "".join(
        f"<li>{escape(p.origin)} – {escape(p.account)}, ghép nối lúc {_vn(p.paired_at)}</li>" for p in pairings
    )
    body = (
        "<p>Phần mềm ký số đang chạy.</p><h2>Máy chủ đã ghép nối</h2>"
        + (f"<ul>{servers}</ul>" if servers else "<p>Chưa ghép nối với máy chủ nào.</p>")
        + '<p><a href="/pair">Ghép nối với máy chủ certsvc</a></p>'
        + "<h2>Thiết bị ký số đang cắm</h2>"
        + ("".join(_token(v, choosing=False) for v in tokens) or "<p>Không thấy thiết bị nào.</p>")
    )
    return _page("Phần mềm ký số", body)


def pair_form(form_token: str, fields: dict[str, str], message: str = "") -> bytes:
    """The pairing page: the server's address, the one-time code from "Thiết bị ký số của tôi", the PC's name."""
    alert = f'<div class="msg bad" role="alert">{escape(message)}</div>' if message else ""

    def field(name: str, label: str, kind: str, extra: str) -> str:
        value = escape(fields.get(name, ""))
        return f'<label>{label}: <input type="{kind}" name="{name}" value="{value}" required {extra}></label>'

    form = (
        f'<form method="post"><input type="hidden" name="form_token" value="{escape(form_token)}">'
        + field("server", "Địa chỉ máy chủ certsvc", "url", 'placeholder="https://certsvc.huyen.gov.vn"')
        + field("code", "Mã ghép nối", "text", 'autocomplete="off" maxlength="20" placeholder="ABCD-EFGH"')
        + field("device_name", "Tên máy tính", "text", 'maxlength="100"')
        + '<p><button type="submit">Ghép nối</button></p></form>'
    )
    return _page(
        "Ghép nối với máy chủ certsvc",
        "<p>Mở «Thiết bị ký số của tôi» trong certsvc, bấm «Tạo mã ghép nối» và nhập mã vào đây "
        "(mã dùng một lần, trong 5 phút).</p>" + alert + form,
    )
