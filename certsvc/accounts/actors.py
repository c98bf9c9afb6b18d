"""Who did something, as people read it: the person's full name, with the login name beside it.

Timelines, registers and the audit log keep the login name of the account that acted
(``actor_label``) next to its id (``actor_id``). The audit log and the custody register hash
that label, so it is never rewritten: pages look the account's person up when they show it,
for all the rows of a page in one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.people.models import Person

__all__ = ["ActorName", "ActorNames", "actor_names"]

#: What stands for the actors that are no account (:data:`certsvc.audit.service.SYSTEM`, the demo loader).
_NON_ACCOUNT_NAMES = {"system": "Hệ thống", "demo": "Dữ liệu mẫu"}
#: The prefix of a command run on the server (:func:`certsvc.cli_support.cli_actor_label`).
_CLI_PREFIX = "cli:"


class _Acted(Protocol):
    actor_id: int | None
    actor_label: str


@dataclass(frozen=True)
class ActorName:
    """One actor as shown: ``name`` for the reader, ``login`` (the recorded login name) beside it,
    None when the actor is no account."""

    name: str
    login: str | None = None

    def __str__(self) -> str:
        """The plain-text form, for files: ``Nguyễn Văn An (canbo)``."""
        return f"{self.name} ({self.login})" if self.login else self.name


def _non_account(label: str) -> ActorName:
    if label.startswith(_CLI_PREFIX):
        return ActorName(f"Lệnh quản trị trên máy chủ ({label[len(_CLI_PREFIX) :]})")
    return ActorName(_NON_ACCOUNT_NAMES.get(label, label))


class ActorNames:
    """The names of the accounts that acted in some rows; :meth:`of` a row gives its actor."""

    def __init__(self, full_names: dict[int, str]) -> None:
        self._full_names = full_names

    def of(self, row: _Acted) -> ActorName:
        """The row's actor: its account's person, else (no account, or one no longer found) its label."""
        if row.actor_id is None:
            return _non_account(row.actor_label)
        full_name = self._full_names.get(row.actor_id)
        if full_name is None:
            return ActorName(row.actor_label)
        return ActorName(full_name, row.actor_label)


def actor_names(session: Session, rows: Iterable[_Acted]) -> ActorNames:
    """The people behind the ``actor_id`` of ``rows``, read in one query."""
    ids = {row.actor_id for row in rows if row.actor_id is not None}
    if not ids:
        return ActorNames({})
    found = session.execute(
        select(Account.id, Person.full_name).join(Person, Account.person_id == Person.id).where(Account.id.in_(ids))
    )
    return ActorNames({account_id: full_name for account_id, full_name in found})
