"""Once-only form tokens: a form that creates a record is sent with a random token, and a second POST of the
same token (a double click, Back then save again, a resent form) makes nothing new but leads to the record
the first POST made.

The token is issued with the form and remembered only when first used: :func:`sent_before` writes it in the
POST's transaction before anything is created, and :func:`remember` adds where the record is before commit.
Both commit or neither; a POST that was refused (its transaction rolled back) leaves the token unused, so the
corrected form can be sent with it. Two POSTs of one token at the same moment meet at the table's unique
constraint: on PostgreSQL the second INSERT waits for the first transaction and then fails, on SQLite the
writers queue on the database lock; the second then finds the first one's record.

A POST without a token (the JSON API, scripts, a page cached before tokens existed) is not checked.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from flask import flash, g, redirect, request
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.wrappers import Response

from certsvc.core.transitions import busy_as_conflict
from certsvc.errors import Conflict
from certsvc.extensions import Model
from certsvc.timeutil import UTCDateTime, utcnow

__all__ = ["FIELD", "FormSubmission", "new_token", "sent_before", "remember"]

#: The hidden field's name.
FIELD = "form_token"
#: ``secrets.token_urlsafe(24)`` gives 32 characters; the pattern accepts only such tokens.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
_CLAIMED = "certsvc_form_submission"
MAX_URL = 300
_RESENT = "Biểu mẫu này đã được gửi trước đó nên không tạo thêm bản ghi mới; đây là bản ghi lần gửi đầu đã tạo."


class FormSubmission(Model):
    """A once-only form token that was used: who sent it, when, and the page of the record it made."""

    __tablename__ = "form_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    #: The page of the record the POST made (set before its commit; empty only inside that transaction).
    result_url: Mapped[str | None] = mapped_column(String(MAX_URL))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def new_token() -> str:
    """A fresh token for a form that creates a record (its hidden field ``FIELD``)."""
    return secrets.token_urlsafe(24)


def sent_before(session: Session, account_id: int) -> Response | None:
    """For a creating form's POST by ``account_id``: a redirect to the record an earlier POST with the same
    token made, with a message saying so; else None, the token now taken by this POST (call :func:`remember`
    before committing). Conflict for a token that is not one this service issued or that another account used.
    """
    token = request.form.get(FIELD, "")
    if not token:
        return None
    if not _TOKEN.fullmatch(token):
        raise Conflict("Biểu mẫu không hợp lệ; hãy mở lại trang và nhập lại.", code="bad_form_token")
    claimed = FormSubmission(token=token, account_id=account_id)
    session.add(claimed)
    try:
        with busy_as_conflict("Biểu mẫu đang được lưu; tải lại trang sau giây lát."):
            session.flush()
    except IntegrityError:
        session.rollback()
        earlier = session.scalar(select(FormSubmission).where(FormSubmission.token == token))
        if earlier is None or earlier.account_id != account_id or earlier.result_url is None:
            raise Conflict("Biểu mẫu không hợp lệ; hãy mở lại trang và nhập lại.", code="bad_form_token") from None
        flash(_RESENT, "warning")
        return redirect(earlier.result_url)
    setattr(g, _CLAIMED, claimed)
    return None


def remember(session: Session, url: str) -> str:
    """Note ``url``, the page of the record this POST made, under the token :func:`sent_before` took (if the
    form had one); returns ``url``."""
    claimed: FormSubmission | None = g.pop(_CLAIMED, None)
    if claimed is not None:
        claimed.result_url = url[:MAX_URL]
        session.flush()
    return url
