"""Sending and recalling: an issued document reaches its recipients' incoming lists in the same step, and a
recall shows on their side; only the issuing body's clerk does either, and nothing is deleted."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from certsvc.documents import publishing, register
from certsvc.documents.files import add_version, content, latest
from certsvc.documents.models import (
    DocumentStatus,
    FileKind,
    IncomingDocument,
    IncomingStatus,
    OutgoingDocument,
)
from certsvc.documents.settings import DocumentSettings
from certsvc.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from certsvc.timeutil import utcnow

SETTINGS = DocumentSettings()


@pytest.fixture
def issued(session, docs_world, make_document) -> OutgoingDocument:
    """Arrange: a numbered document with an issued version (the signatures are tested elsewhere: the file here
    is the prepared one, which carries no signature)."""
    recipients = [docs_world.org("commune").id, docs_world.org("vp").id]
    doc = make_document(recipient_ids=recipients, outside_recipients="Sở Văn hóa, Thể thao và Du lịch")
    doc.status, doc.approved_at = DocumentStatus.SIGNED, utcnow()
    register.take_number(session, docs_world["clerk"], doc)
    add_version(session, docs_world["clerk"], doc, FileKind.ISSUED, content(latest(doc, FileKind.PREPARED)), "vb.pdf")
    doc.status = DocumentStatus.ISSUED
    session.commit()
    return doc


def incoming_of(session, doc: OutgoingDocument) -> list[IncomingDocument]:
    return list(
        session.scalars(
            select(IncomingDocument).where(IncomingDocument.outgoing_id == doc.id).order_by(IncomingDocument.id)
        )
    )


def test_send_creates_the_recipients_incoming_documents(session, docs_world, issued):
    delivered = publishing.send(session, docs_world["clerk"], issued, SETTINGS)
    session.commit()
    assert issued.status is DocumentStatus.SENT and issued.sent_at is not None
    rows = incoming_of(session, issued)
    assert rows == delivered
    assert [row.receiving_body_id for row in rows] == [docs_world.org("commune").id, docs_world.org("vp").id]
    for row in rows:
        assert (row.status, row.original_number, row.summary) == (
            IncomingStatus.RECEIVED,
            issued.number_entry.symbol,
            issued.summary,
        )
        assert row.sha256 == latest(issued, FileKind.ISSUED).sha256
    assert issued.events[-1].details == {"recipient_ids": [row.receiving_body_id for row in rows]}


def test_only_the_clerk_of_the_body_sends(session, docs_world, issued):
    for username, error in (("drafter", PermissionDenied), ("signer", PermissionDenied), ("commune_clerk", NotFound)):
        with pytest.raises(error):
            publishing.send(session, docs_world[username], issued, SETTINGS)
        session.rollback()
    assert session.scalar(select(func.count()).select_from(IncomingDocument)) == 0


def test_a_document_not_issued_is_not_sent(session, docs_world, make_document):
    with pytest.raises(Conflict):
        publishing.send(session, docs_world["clerk"], make_document(), SETTINGS)


def test_recall_shows_on_the_recipients_side(session, docs_world, issued):
    publishing.send(session, docs_world["clerk"], issued, SETTINGS)
    session.commit()
    with pytest.raises(ValidationFailed):
        publishing.recall(session, docs_world["clerk"], issued, "")
    session.rollback()
    with pytest.raises(ValidationFailed):
        publishing.recall(session, docs_world["clerk"], issued, "x" * 501)
    session.rollback()
    publishing.recall(session, docs_world["clerk"], issued, "Sai địa điểm tổ chức")
    session.commit()
    assert (issued.status, issued.recall_reason) == (DocumentStatus.RECALLED, "Sai địa điểm tổ chức")
    assert issued.recalled_at is not None
    session.expire_all()
    rows = incoming_of(session, issued)
    assert len(rows) == 2 and all(row.outgoing.status is DocumentStatus.RECALLED for row in rows)
    with pytest.raises(Conflict):
        publishing.recall(session, docs_world["clerk"], issued, "Lần nữa")
