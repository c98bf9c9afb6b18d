"""Passwords: how they are stored, what a new one must be, and changing one's own."""

from __future__ import annotations

import functools
import secrets
from importlib.resources import files

from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from certsvc.accounts.authentication import end_credentials
from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.errors import ValidationFailed
from certsvc.timeutil import utcnow

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "change_password",
    "check_new_password",
    "hash_password",
    "temporary_password",
]

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def temporary_password() -> str:
    return secrets.token_urlsafe(9)


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The list shipped with the package: passwords tried first by anyone guessing (lower case)."""
    text = files("certsvc.accounts").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_new_password(password: str, username: str) -> str | None:
    """What is wrong with a new password, in Vietnamese, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự."
    if username and username.lower() in password.lower():
        return "Mật khẩu không được chứa tên đăng nhập."
    if len(set(password)) < 4 or password.lower() in _common_passwords():
        return "Mật khẩu quá đơn giản hoặc quá phổ biến, dễ bị đoán. Hãy chọn mật khẩu khác."
    return None


def change_password(session: Session, account: Account, current: str, new: str) -> None:
    """Change one's own password; every session and API token of the account ends (the caller
    opens a new session for the browser that changed it)."""
    errors: dict[str, str] = {}
    if not check_password_hash(account.password_hash, current):
        errors["current_password"] = "Mật khẩu hiện tại không đúng."
    problem = check_new_password(new, account.username)
    if problem:
        errors["new_password"] = problem
    elif check_password_hash(account.password_hash, new):
        errors["new_password"] = "Mật khẩu mới phải khác mật khẩu hiện tại."
    if errors:
        raise ValidationFailed(errors)
    account.password_hash = hash_password(new)
    account.must_change_password = False
    account.password_changed_at = utcnow()
    end_credentials(session, account, account, "password_changed")
    record(session, Actor.of(account), "account.password_changed", "account", account.id)
