"""``Idempotency-Key`` on the API's POSTs: a client that lost the answer (a dropped connection, a timeout)
sends the request again with the same key and gets the first answer instead of making the change twice.

The answer is stored with the change, in the same transaction: either both are committed or neither. Keys
belong to the account that sent them; a key sent again with another request is refused.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from flask import Response, g, jsonify, request
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from certsvc.accounts.models import Account
from certsvc.errors import CertsvcError
from certsvc.extensions import Model
from certsvc.timeutil import UTCDateTime, utcnow

__all__ = ["HEADER", "IdempotencyKeyReused", "IdempotentAnswer", "replay", "commit_answer"]

HEADER = "Idempotency-Key"
#: Header saying that the answer is the stored one of an earlier request with the same key.
REPLAYED = "Idempotent-Replayed"
MAX_KEY_LENGTH = 100
KEY_PATTERN = f"^[A-Za-z0-9_.:-]{{1,{MAX_KEY_LENGTH}}}$"
_KEY = re.compile(KEY_PATTERN)
_PENDING = "certsvc_idempotency"


class IdempotencyKeyReused(CertsvcError):
    code = "idempotency_key_reused"
    http_status = 422


class IdempotentAnswer(Model):
    """The answer to a POST that carried an ``Idempotency-Key`` and changed something."""

    __tablename__ = "api_idempotency_key"
    __table_args__ = (UniqueConstraint("account_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    #: Method and path, e.g. ``POST /api/v1/requests``.
    operation: Mapped[str] = mapped_column(String(200))
    body_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    response: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


@dataclass(frozen=True)
class _Pending:
    account_id: int
    key: str
    operation: str
    body_sha256: str


def replay(session: Session, account: Account) -> Response | None:
    """Before a POST: the stored answer when its key was answered before, else None (the key is noted for
    :func:`commit_answer`)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise CertsvcError(
            f"{HEADER} phải gồm từ 1 đến {MAX_KEY_LENGTH} ký tự: chữ cái không dấu, chữ số hoặc - _ . :",
            code="bad_request",
        )
    pending = _Pending(
        account.id, key, f"{request.method} {request.path}"[:200], hashlib.sha256(request.get_data()).hexdigest()
    )
    setattr(g, _PENDING, pending)
    return _stored(session, pending)


def _stored(session: Session, pending: _Pending) -> Response | None:
    found = session.scalar(
        select(IdempotentAnswer).where(
            IdempotentAnswer.account_id == pending.account_id, IdempotentAnswer.key == pending.key
        )
    )
    if found is None:
        return None
    if (found.operation, found.body_sha256) != (pending.operation, pending.body_sha256):
        raise IdempotencyKeyReused(f"{HEADER} này đã được dùng cho một yêu cầu khác; mỗi thao tác cần một khóa mới.")
    response = Response(found.response, found.status, mimetype="application/json")
    if found.location is not None:
        response.headers["Location"] = found.location
    response.headers[REPLAYED] = "true"
    return response


def commit_answer(session: Session, payload: dict, status: int, location: str | None) -> Response:
    """Commit the request's change together with its answer (stored under the request's key, if any)."""
    response = jsonify(payload)
    response.status_code = status
    if location is not None:
        response.headers["Location"] = location
    pending: _Pending | None = g.get(_PENDING)
    if pending is not None:
        session.add(
            IdempotentAnswer(
                account_id=pending.account_id,
                key=pending.key,
                operation=pending.operation,
                body_sha256=pending.body_sha256,
                status=status,
                response=response.get_data(as_text=True),
                location=location,
            )
        )
        try:
            session.flush()
        except IntegrityError:
            # The same request, sent again before this one finished, committed first: its answer stands and
            # this change is undone.
            session.rollback()
            stored = _stored(session, pending)
            if stored is None:
                raise
            return stored
    session.commit()
    return response
