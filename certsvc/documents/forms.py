"""What the pages of outgoing documents read from a request and offer in their forms: the drafter's values
and files as the services take them, the choices of the drafting form, and the list's work tabs and filters.

No rule lives here: the services check every value (:mod:`certsvc.documents.drafting`,
:mod:`certsvc.documents.register`); this only turns form fields into their raw input and builds queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, case, false, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict

from certsvc.accounts.models import Account
from certsvc.core.enums import LabelledEnum
from certsvc.core.records import to_id
from certsvc.core.sql import one_of_ids
from certsvc.documents.models import (
    DocumentStatus,
    DocumentType,
    IncomingDocument,
    IncomingStatus,
    OutgoingDocument,
    Urgency,
)
from certsvc.orgs.models import Organisation
from certsvc.orgs.tree import OrgTree, TreePlace
from certsvc.people.models import Person
from certsvc.policy import Permission, orgs_in_scope

__all__ = [
    "DOCUMENT_FIELDS",
    "PAPER_FIELDS",
    "TABS",
    "Tab",
    "FormChoices",
    "ListFilter",
    "document_input",
    "chosen_file",
    "chosen_files",
    "form_choices",
    "options",
    "tab_query",
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


# -- the list ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tab:
    """A work tab of the list: the documents waiting for what its holders may do now."""

    key: str
    label: str
    #: The permission the tab's holders act with, None for the tabs of what one only sees.
    permission: Permission | None
    statuses: tuple[DocumentStatus, ...]
    #: Whether the permission is held at the drafting unit (else at the issuing body).
    at_drafting_unit: bool = True
    #: Only the documents the account's person is the proposed signer of.
    signer_only: bool = False


_S = DocumentStatus
TABS = (
    Tab("drafts", "Dự thảo, bị trả lại", Permission.DRAFT_DOCUMENTS, (_S.DRAFT, _S.RETURNED)),
    Tab("review", "Chờ thẩm định", Permission.REVIEW_DOCUMENTS, (_S.IN_REVIEW,)),
    Tab("sign", "Chờ ký duyệt", Permission.SIGN_DOCUMENTS, (_S.AWAITING_SIGNATURE,), False, signer_only=True),
    Tab("number", "Chờ lấy số", Permission.ISSUE_DOCUMENTS, (_S.SIGNED,), False),
    Tab("issue", "Chờ ký phát hành", Permission.ISSUE_DOCUMENTS, (_S.NUMBERED,), False),
    Tab("send", "Chờ phát hành", Permission.ISSUE_DOCUMENTS, (_S.ISSUED,), False),
    Tab("sent", "Đã phát hành", None, (_S.SENT, _S.RECALLED)),
    Tab("all", "Tất cả", None, ()),
)

#: Hỏa tốc first, an ordinary document last (:attr:`Urgency.rank`).
_URGENCY_ORDER = case(*((OutgoingDocument.urgency == u, u.rank) for u in Urgency), else_=len(Urgency))


def _seen(session: Session, account: Account) -> ColumnElement[bool]:
    """The documents ``account`` may view: of a drafting unit or an issuing body where it holds VIEW."""
    scope = orgs_in_scope(session, account, Permission.VIEW_DOCUMENTS)
    if not scope:
        return false()
    doc = OutgoingDocument
    return or_(one_of_ids(doc.drafting_unit_id, scope), one_of_ids(doc.issuing_body_id, scope))


def tab_query(session: Session, account: Account, tab: Tab) -> Select[OutgoingDocument] | None:
    """The documents of ``tab`` for ``account``, or None when it holds the tab's permission nowhere."""
    query = select(OutgoingDocument).where(_seen(session, account))
    if tab.statuses:
        query = query.where(OutgoingDocument.status.in_(tab.statuses))
    if tab.permission is not None:
        scope = orgs_in_scope(session, account, tab.permission)
        if not scope:
            return None
        column = OutgoingDocument.drafting_unit_id if tab.at_drafting_unit else OutgoingDocument.issuing_body_id
        query = query.where(one_of_ids(column, scope))
    if tab.signer_only:
        query = query.where(OutgoingDocument.signer_id == account.person_id)
    return query


@dataclass(frozen=True)
class ListFilter:
    """The list's filters from the query string: status, unit (drafting or issuing), type, text in the summary."""

    status: DocumentStatus | None = None
    organisation_id: int | None = None
    document_type_id: int | None = None
    text: str | None = None

    ARGS = ("status", "organisation_id", "document_type_id", "q")

    @classmethod
    def parse(cls, args: Mapping[str, str], errors: dict[str, str]) -> ListFilter:
        """The filters ``args`` ask for; a value that cannot be one records its message in ``errors``."""
        status = None
        if raw := (args.get("status") or "").strip():
            try:
                status = DocumentStatus(raw)
            except ValueError:
                errors["status"] = "Trạng thái không hợp lệ."
        organisation_id = _id_arg(args, "organisation_id", "Đơn vị không hợp lệ.", errors)
        document_type_id = _id_arg(args, "document_type_id", "Loại văn bản không hợp lệ.", errors)
        text = " ".join((args.get("q") or "").split())[:200] or None
        return cls(status, organisation_id, document_type_id, text)

    def apply(self, query: Select[OutgoingDocument]) -> Select[OutgoingDocument]:
        """``query`` narrowed by these filters, urgent documents first, then the most recently changed."""
        doc = OutgoingDocument
        if self.status is not None:
            query = query.where(doc.status == self.status)
        if self.organisation_id is not None:
            query = query.where(
                or_(doc.drafting_unit_id == self.organisation_id, doc.issuing_body_id == self.organisation_id)
            )
        if self.document_type_id is not None:
            query = query.where(doc.document_type_id == self.document_type_id)
        if self.text is not None:
            query = query.where(func.lower(doc.summary).contains(self.text.lower(), autoescape=True))
        return query.order_by(_URGENCY_ORDER, doc.updated_at.desc(), doc.id.desc())


def _id_arg(args: Mapping[str, str], name: str, message: str, errors: dict[str, str]) -> int | None:
    """The id an argument names (None when absent); a value that cannot be an id records ``message``."""
    raw = (args.get(name) or "").strip()
    found = to_id(raw) if raw else None
    if raw and found is None:
        errors[name] = message
    return found
