"""API tokens: a secret a user creates for a script or another system to act as them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certsvc.accounts.models import Account
from certsvc.extensions import Model
from certsvc.timeutil import UTCDateTime, utcnow

__all__ = ["ApiToken"]


class ApiToken(Model):
    """Only the SHA-256 of the secret is kept; the secret is shown once, when created."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: The first characters of the secret, to tell tokens apart on the page.
    prefix: Mapped[str] = mapped_column(String(16))
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
