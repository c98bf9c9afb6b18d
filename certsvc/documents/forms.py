"""What the pages of outgoing documents read from a request and offer in their forms: the drafter's values
and files as the services take them, and the choices of the drafting form (the list's tabs and filters are
:mod:`certsvc.documents.listing`).

No rule lives here: the services check every value (:mod:`certsvc.documents.drafting`,
:mod:`certsvc.documents.register`); this only turns form fields into their raw input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict

from certsvc.core.enums import LabelledEnum
from certsvc.documents.models import (
    DocumentType,
    IncomingDocument,
    IncomingStatus,
)
from certsvc.orgs.models import Organisation
from certsvc.orgs.tree import OrgTree, TreePlace
from certsvc.people.models import Person

__all__ = [
    "DOCUMENT_FIELDS",
    "PAPER_FIELDS",
    "FormChoices",
    "document_input",
    "chosen_file",
    "chosen_files",
    "form_choices",
    "options",
]

#: The drafting form's fields, named like the keys of :func:`certsvc.documents.drafting.clean_document_values`.
DOCUMENT_FIELDS = (
    "drafting_unit_id",
    "document_type_id",
    "summary",
    "urgency",
    "secrecy",
    "issuing_body_id",
    "signer_id",
    "authority_lines",
    "recipient_ids",
    "outside_recipients",
    "distribution_lines",
    "answers_id",
)
#: The clerk's form of a secret document registered on paper (:func:`certsvc.documents.register.register_paper`).
PAPER_FIELDS = (*DOCUMENT_FIELDS, "issue_date")
_LIST_FIELDS = {"recipient_ids"}
#: How many recent incoming documents the "answers" drop-down offers.
_ANSWERABLE = 100


def document_input(form: MultiDict[str, str], fields: Iterable[str] = DOCUMENT_FIELDS) -> dict[str, object]:
    """The posted values of ``fields`` as a service takes them: a list for the multi-select, text otherwise."""
    return {name: form.getlist(name) if name in _LIST_FIELDS else form.get(name) for name in fields}


def chosen_file(upload: FileStorage | None) -> FileStorage | None:
    """The uploaded file, or None when the form's file field was left empty (no file chosen)."""
    return upload if upload is not None and upload.filename else None


def chosen_files(uploads: Iterable[FileStorage]) -> list[FileStorage]:
    return [upload for upload in uploads if chosen_file(upload) is not None]


# -- the drafting form's choices ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FormChoices:
    """What the drafting form offers: units, their issuing bodies, the bodies' people, every recipient."""

    units: tuple[TreePlace, ...]
    bodies: tuple[Organisation, ...]
    signers: dict[int, list[Person]]
    types: list[DocumentType]
    recipients: tuple[TreePlace, ...]
    answerable: list[IncomingDocument]

    @property
    def type_options(self) -> list[tuple[int, str]]:
        return [(kind.id, kind.name) for kind in self.types]

    @property
    def body_options(self) -> list[tuple[int, str]]:
        return [(body.id, body.name) for body in self.bodies]

    @property
    def answer_options(self) -> list[tuple[int, str]]:
        return [
            (incoming.id, f"Đến số {incoming.arrival_number}/{incoming.arrival_year} — {incoming.summary}")
            for incoming in self.answerable
        ]

    @property
    def unit_options(self) -> list[tuple[int, str]]:
        return [(unit.id, "— " * unit.depth + unit.name) for unit in self.units]


def options(members: Iterable[LabelledEnum]) -> list[tuple[str, str]]:
    """A labelled enum's members as a select's (value, text) pairs."""
    return [(member.value, member.label) for member in members]


def form_choices(session: Session, unit_ids: Iterable[int]) -> FormChoices:
    """The choices of a form drafting for ``unit_ids``: each unit or its parent issues (the service decides)."""
    tree = OrgTree.load(session)
    units = tree.in_tree_order(unit_ids)
    unit_rows = list(session.scalars(select(Organisation).where(Organisation.id.in_([u.id for u in units]))))
    body_ids = {org.id for org in unit_rows} | {org.parent_id for org in unit_rows if org.parent_id is not None}
    bodies = tuple(
        session.scalars(
            select(Organisation)
            .where(Organisation.id.in_(body_ids), Organisation.is_active.is_(True))
            .order_by(Organisation.name)
        )
    )
    signers: dict[int, list[Person]] = {body.id: [] for body in bodies}
    for person in session.scalars(
        select(Person)
        .where(Person.organisation_id.in_(signers), Person.is_active.is_(True))
        .order_by(Person.full_name, Person.id)
    ):
        signers[person.organisation_id].append(person)
    active = session.scalars(select(Organisation.id).where(Organisation.is_active.is_(True)))
    answerable = list(
        session.scalars(
            select(IncomingDocument)
            .where(
                IncomingDocument.receiving_body_id.in_(body_ids),
                IncomingDocument.status == IncomingStatus.REGISTERED,
            )
            .order_by(IncomingDocument.id.desc())
            .limit(_ANSWERABLE)
        )
    )
    types = list(
        session.scalars(
            select(DocumentType)
            .where(DocumentType.is_active.is_(True))
            .order_by(DocumentType.sort_order, DocumentType.name)
        )
    )
    return FormChoices(units, bodies, signers, types, tree.in_tree_order(set(active)), answerable)
