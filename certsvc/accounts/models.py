"""Login accounts and the roles they hold in organisations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certsvc.core.enums import LabelledEnum, enum_column
from certsvc.extensions import Model
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.timeutil import UTCDateTime, utcnow

__all__ = ["Role", "Account", "RoleAssignment", "LoginSession", "LoginThrottle"]


class Role(LabelledEnum):
    """What an account may do in one organisation (and, for some roles, below it)."""

    ADMINISTRATOR = "administrator", "Quản trị hệ thống"
    FOCAL_OFFICER = "focal_officer", "Cán bộ đầu mối tổng hợp"
    UNIT_OFFICER = "unit_officer", "Cán bộ đơn vị (soạn đề nghị)"
    UNIT_HEAD = "unit_head", "Thủ trưởng đơn vị"
    REVIEWER = "reviewer", "Lãnh đạo phòng (thẩm định)"
    CLERK = "clerk", "Văn thư"
    AUDITOR = "auditor", "Kiểm tra, giám sát"


class Account(Model):
    """A login of one person. The person may exist without one."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_disabled: Mapped[bool] = mapped_column(default=False)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    failed_login_count: Mapped[int] = mapped_column(default=0)
    last_failed_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    person: Mapped[Person] = relationship()
    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="RoleAssignment.id"
    )

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return not self.is_disabled

    @property
    def is_anonymous(self) -> bool:
        return False

    if TYPE_CHECKING:
        # Annotated for the type checker only: the ORM would take an annotated attribute for a column.
        session_secret: str | None
    #: The secret of the login session this object was loaded for (not stored; see :class:`LoginSession`).
    session_secret = None

    def get_id(self) -> str | None:
        """What Flask-Login keeps in the cookie: the login session's secret, not the account id."""
        return self.session_secret

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.username!r}>"


class RoleAssignment(Model):
    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("account_id", "organisation_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    account: Mapped[Account] = relationship(back_populates="roles")
    organisation: Mapped[Organisation] = relationship()


class LoginSession(Model):
    """One sign-in: the cookie carries its random secret, the database only that secret's SHA-256,
    so ending a session here ends it for every worker and app server."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Written at most once a minute, not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship()


class LoginThrottle(Model):
    """Failed logins counted per client address, and per username that names no account (an account
    keeps its own count), so that unknown names are throttled exactly like known ones."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))  # "address" or "username"
    key: Mapped[str] = mapped_column(String(128))
    failed_login_count: Mapped[int] = mapped_column(default=0)
    last_failed_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
