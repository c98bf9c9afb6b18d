"""Creating, revoking and checking API tokens."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from certsvc.accounts.api_token_models import ApiToken
from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.core.validation import FieldCollector, clean_text
from certsvc.errors import Conflict, NotFound
from certsvc.timeutil import utcnow

__all__ = [
    "SECRET_PREFIX",
    "MAX_ACTIVE_TOKENS",
    "create_token",
    "revoke_token",
    "revoke_all_tokens",
    "account_for_secret",
    "tokens_of",
]

#: Every secret starts with this, so leaked ones are easy to recognise in logs and code.
SECRET_PREFIX = "csv1_"
MAX_ACTIVE_TOKENS = 10


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def tokens_of(session: Session, account: Account) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.account_id == account.id).order_by(ApiToken.created_at.desc(), ApiToken.id)
        )
    )


def create_token(session: Session, account: Account, raw: dict) -> tuple[ApiToken, str]:
    """A new token for ``account``; returns it with the secret, which is never stored."""
    fields = FieldCollector(raw)
    name = fields.take("name", lambda value: clean_text(value, required=True, max_length=100))
    fields.raise_if_failed()
    active = session.execute(
        select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
    ).scalar_one()
    if active >= MAX_ACTIVE_TOKENS:
        raise Conflict(f"Mỗi tài khoản có tối đa {MAX_ACTIVE_TOKENS} khóa API đang dùng; hãy thu hồi khóa cũ.")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        account_id=account.id, name=name, prefix=secret[: len(SECRET_PREFIX) + 6], secret_sha256=_digest(secret)
    )
    session.add(token)
    session.flush()
    record(
        session, Actor.of(account), "api_token.created", "api_token", token.id, {"name": name, "prefix": token.prefix}
    )
    return token, secret


def revoke_token(session: Session, account: Account, token_id: int) -> ApiToken:
    """Revoke one of the account's own tokens (revoking twice changes nothing)."""
    token = session.get(ApiToken, token_id)
    if token is None or token.account_id != account.id:
        raise NotFound("Không tìm thấy khóa API này.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(session, Actor.of(account), "api_token.revoked", "api_token", token.id, {"prefix": token.prefix})
    return token


def revoke_all_tokens(session: Session, by: Account, account: Account, reason: str) -> None:
    """Revoke every token of ``account`` still in use (its password changed, was reset, or the account
    was disabled): enabling it again later does not bring them back."""
    now = utcnow()
    for token in session.scalars(
        select(ApiToken).where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)
    ):
        token.revoked_at = now
        record(
            session,
            Actor.of(by),
            "api_token.revoked",
            "api_token",
            token.id,
            {"prefix": token.prefix, "reason": reason},
        )


def account_for_secret(session: Session, secret: str) -> Account | None:
    """The account an API request acts for, or None for an unknown, revoked or disabled one."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 100:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.secret_sha256 == _digest(secret)))
    if token is None or token.revoked_at is not None or token.account.is_disabled:
        return None
    return token.account
