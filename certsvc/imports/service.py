"""CSV import of organisations and people: every row is written, or none.

A file is read whole (:mod:`certsvc.imports.reading`) and every row is checked
(:mod:`certsvc.imports.checking`). If anything is wrong, :class:`~certsvc.imports.specs.ImportRefused`
lists every problem by line and column and nothing is written; otherwise all rows are added in
the caller's transaction with one audit entry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.imports.checking import FileOrg, OrgDraft, check_organisations, check_people
from certsvc.imports.reading import read_rows
from certsvc.imports.specs import SPECS, ImportKind
from certsvc.orgs.models import Organisation
from certsvc.people.models import Person
from certsvc.policy import Permission, ensure

__all__ = ["ImportResult", "import_csv"]


@dataclass(frozen=True)
class ImportResult:
    kind: ImportKind
    file_name: str
    sha256: str
    created_ids: tuple[int, ...]
    audit_seq: int

    @property
    def count(self) -> int:
        return len(self.created_ids)


def _insert_organisations(session: Session, drafts: list[OrgDraft]) -> list[int]:
    made: dict[int, Organisation] = {}
    for draft in drafts:
        values = dict(draft.values)
        links = {}
        for key, relation, target in (
            ("parent_id", "parent", draft.parent),
            ("focal_office_id", "focal_office", draft.focal),
        ):
            if isinstance(target, FileOrg):
                # Made by this file: linked by object, so the flush inserts it first.
                values[key] = None
                links[relation] = made[target.line]
        made[draft.line] = Organisation(**values, **links)
        session.add(made[draft.line])
    session.flush()
    return [org.id for org in made.values()]


def _insert_people(session: Session, values: list[dict]) -> list[int]:
    people = [Person(**fields) for fields in values]
    session.add_all(people)
    session.flush()
    return [person.id for person in people]


_OBJECT_TYPES = {ImportKind.ORGANISATIONS: "organisation", ImportKind.PEOPLE: "person"}


def import_csv(session: Session, by: Account, kind: ImportKind, file_name: str, content: bytes) -> ImportResult:
    """Import a CSV file of ``kind`` whole, in the caller's transaction (the caller commits).

    Raises :class:`~certsvc.imports.specs.ImportRefused` with every problem found, having written nothing.
    """
    ensure(session, by, Permission.IMPORT_DATA)
    rows = read_rows(SPECS[kind], content)
    if kind is ImportKind.ORGANISATIONS:
        created = tuple(_insert_organisations(session, check_organisations(session, by, rows)))
    else:
        created = tuple(_insert_people(session, check_people(session, by, rows)))
    digest = hashlib.sha256(content).hexdigest()
    details = {"count": len(created), "file_name": file_name, "sha256": digest, "created_ids": list(created)}
    entry = record(session, Actor.of(by), f"import.{kind.value}", _OBJECT_TYPES[kind], None, details)
    return ImportResult(kind, file_name, digest, created, entry.seq)
