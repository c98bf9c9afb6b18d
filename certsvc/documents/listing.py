"""The list of outgoing documents: its work tabs (what the reader may do now), its filters and its order
(urgent documents first). Used by the pages and the JSON API alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.core.records import to_id
from certsvc.core.sql import one_of_ids
from certsvc.documents.models import DocumentStatus, OutgoingDocument, urgent_first
from certsvc.policy import Permission, orgs_in_scope

__all__ = ["Tab", "TABS", "tab_query", "ListFilter"]


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


TABS = (
    Tab("drafts", "Dự thảo, bị trả lại", Permission.DRAFT_DOCUMENTS, (DocumentStatus.DRAFT, DocumentStatus.RETURNED)),
    Tab("review", "Chờ thẩm định", Permission.REVIEW_DOCUMENTS, (DocumentStatus.IN_REVIEW,)),
    Tab(
        "sign", "Chờ ký duyệt", Permission.SIGN_DOCUMENTS, (DocumentStatus.AWAITING_SIGNATURE,), False, signer_only=True
    ),
    Tab("number", "Chờ lấy số", Permission.ISSUE_DOCUMENTS, (DocumentStatus.SIGNED,), False),
    Tab("issue", "Chờ ký phát hành", Permission.ISSUE_DOCUMENTS, (DocumentStatus.NUMBERED,), False),
    Tab("send", "Chờ phát hành", Permission.ISSUE_DOCUMENTS, (DocumentStatus.ISSUED,), False),
    Tab("sent", "Đã phát hành", None, (DocumentStatus.SENT, DocumentStatus.RECALLED)),
    Tab("all", "Tất cả", None, ()),
)


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
        return query.order_by(urgent_first(doc.urgency), doc.updated_at.desc(), doc.id.desc())


def _id_arg(args: Mapping[str, str], name: str, message: str, errors: dict[str, str]) -> int | None:
    """The id an argument names (None when absent); a value that cannot be an id records ``message``."""
    raw = (args.get(name) or "").strip()
    found = to_id(raw) if raw else None
    if raw and found is None:
        errors[name] = message
    return found
