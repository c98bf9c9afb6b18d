"""The outgoing document's lifecycle (certsvc.documents.transitions and the drafting, review, register and
publishing services): every transition allowed and refused as the table says, four eyes, the approval voided
by a return, and bad inputs that change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from certsvc.audit.models import AuditEntry
from certsvc.documents import drafting, review
from certsvc.documents.access import get_document
from certsvc.documents.files import latest
from certsvc.documents.models import DocumentEvent, DocumentStatus, FileKind, OutgoingDocument
from certsvc.documents.transitions import TRANSITIONS, Action, apply_transition
from certsvc.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.documents.conftest import SIGNER


def audit_count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry))


def test_create_keeps_the_draft_and_its_prepared_version(session, docs_world, make_document):
    doc = make_document()
    assert doc.status is DocumentStatus.DRAFT
    assert doc.created_by_id == docs_world["drafter"].id
    assert doc.signer.full_name == SIGNER
    draft, prepared = latest(doc, FileKind.DRAFT), latest(doc, FileKind.PREPARED)
    assert draft is not None and prepared is not None and draft.sha256 != prepared.sha256
    assert [r.organisation_id for r in doc.recipients] == [docs_world.org("commune").id]
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert (entry.action, entry.object_type, entry.object_id) == ("document.create", "outgoing_document", str(doc.id))


#: Who holds each transition's permission where the table asks for it, in the documents world.
HOLDERS = {
    "documents.draft": {"drafter", "lead"},
    "documents.review": {"reviewer", "lead"},
    "documents.sign": {"signer"},  # the deputy is a unit head too, but not the proposed signer
    "documents.issue": {"clerk"},
}
ACCOUNTS = ("drafter", "reviewer", "lead", "signer", "deputy", "clerk", "outsider", "commune_clerk")
MOVES = [t for t in TRANSITIONS if t.source is not None]


def in_status(session, doc: OutgoingDocument, status: DocumentStatus) -> OutgoingDocument:
    """Arrange: put ``doc`` in ``status`` directly (the steps before it are tested on their own)."""
    doc.status = status
    session.commit()
    return doc


def state(session, doc: OutgoingDocument) -> tuple:
    """What a refused step must leave as it was: the status, the timeline and the audit log."""
    session.expire_all()
    events = session.scalar(select(func.count()).select_from(DocumentEvent).where(DocumentEvent.document_id == doc.id))
    return session.get(OutgoingDocument, doc.id).status, events, audit_count(session)


@pytest.mark.parametrize("transition", MOVES, ids=lambda t: f"{t.action}-{t.source.value}")
def test_each_transition_is_taken_only_by_whom_the_table_names(session, docs_world, make_document, transition):
    doc = in_status(session, make_document(), transition.source)
    before = state(session, doc)
    allowed = HOLDERS[transition.permission.value]
    for username in ACCOUNTS:
        if username in allowed:
            continue
        with pytest.raises((PermissionDenied, NotFound)):
            apply_transition(session, docs_world[username], doc, transition.action, "Lý do")
        session.rollback()
        assert state(session, doc) == before, username
    by = docs_world[sorted(allowed)[-1]]
    event = apply_transition(session, by, doc, transition.action, "Lý do")
    session.commit()
    status, events, audits = state(session, doc)
    assert (status, events, audits) == (transition.target, before[1] + 1, before[2] + 1)
    assert (event.action, event.from_status, event.to_status, event.actor_id) == (
        transition.action,
        transition.source,
        transition.target,
        by.id,
    )
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert (entry.action, entry.object_type, entry.object_id) == (
        f"document.{transition.action}",
        "outgoing_document",
        str(doc.id),
    )


@pytest.mark.parametrize("action", sorted({t.action for t in MOVES}))
def test_an_action_is_refused_from_a_status_the_table_does_not_name(session, docs_world, make_document, action):
    sources = {t.source for t in MOVES if t.action == action}
    doc = make_document()
    for status in DocumentStatus:
        if status in sources:
            continue
        in_status(session, doc, status)
        before = state(session, doc)
        holder = next(t for t in MOVES if t.action == action).permission.value
        with pytest.raises(Conflict) as refused:
            apply_transition(session, docs_world[sorted(HOLDERS[holder])[-1]], doc, action, "Lý do")
        session.rollback()
        assert refused.value.code == "transition_refused"
        assert state(session, doc) == before


def test_unknown_action_is_refused(session, docs_world, make_document):
    with pytest.raises(Conflict) as refused:
        apply_transition(session, docs_world["drafter"], make_document(), "publish_everywhere")
    assert refused.value.code == "unknown_action"


def test_four_eyes_the_creator_does_not_forward_his_own_draft(session, docs_world, make_document):
    doc = make_document(by="lead")
    drafting.submit(session, docs_world["lead"], doc)
    session.commit()
    with pytest.raises(PermissionDenied, match="không được tự thẩm định"):
        review.forward(session, docs_world["lead"], doc)
    session.rollback()
    review.forward(session, docs_world["reviewer"], doc)
    session.commit()
    assert doc.status is DocumentStatus.AWAITING_SIGNATURE


def test_four_eyes_the_last_editor_does_not_forward_either(session, docs_world, make_document):
    from tests.documents.conftest import document_values

    doc = make_document()
    drafting.edit(session, docs_world["lead"], doc, document_values(session, docs_world, summary="Sửa trích yếu"))
    drafting.submit(session, docs_world["drafter"], doc)
    session.commit()
    with pytest.raises(PermissionDenied):
        review.forward(session, docs_world["lead"], doc)
    session.rollback()
    review.forward(session, docs_world["reviewer"], doc)
    session.commit()
    assert doc.status is DocumentStatus.AWAITING_SIGNATURE


def test_only_the_proposed_signer_signs_or_returns_at_the_signature_step(session, docs_world, make_document):
    doc = in_status(session, make_document(), DocumentStatus.AWAITING_SIGNATURE)
    for action in (Action.APPROVE, Action.RETURN):
        with pytest.raises(PermissionDenied, match="người được đề xuất ký"):
            apply_transition(session, docs_world["deputy"], doc, action, "Lý do")
        session.rollback()
    review.return_document(session, docs_world["signer"], doc, "Sửa lại đoạn 2")
    session.commit()
    assert doc.status is DocumentStatus.RETURNED


def test_a_return_by_the_clerk_voids_the_approval(session, docs_world, make_document):
    from certsvc.timeutil import utcnow

    doc = make_document()
    doc.approved_at = utcnow()
    in_status(session, doc, DocumentStatus.SIGNED)
    review.return_document(session, docs_world["clerk"], doc, "Sai thể thức, ký lại")
    session.commit()
    assert (doc.status, doc.approved_at, doc.personal_certificate_id) == (DocumentStatus.RETURNED, None, None)
    assert doc.events[-1].comment == "Sai thể thức, ký lại"


@pytest.mark.parametrize("comment", [None, "   ", "Có ký tự\x00 lạ", "x" * 2001])
def test_a_return_needs_a_clean_bounded_comment(session, docs_world, make_document, comment):
    doc = in_status(session, make_document(), DocumentStatus.IN_REVIEW)
    before = state(session, doc)
    with pytest.raises(ValidationFailed) as refused:
        review.return_document(session, docs_world["reviewer"], doc, comment)
    session.rollback()
    assert "comment" in refused.value.field_errors
    assert state(session, doc) == before


def test_of_two_simultaneous_steps_one_wins_the_other_changes_nothing(session, database_url, docs_world, make_document):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    doc = in_status(session, make_document(), DocumentStatus.IN_REVIEW)
    engine = create_engine(database_url)
    with Session(engine) as first, Session(engine) as second:
        mine, theirs = first.get(OutgoingDocument, doc.id), second.get(OutgoingDocument, doc.id)
        reviewer, other = (s.get(type(docs_world["reviewer"]), docs_world["reviewer"].id) for s in (first, second))
        review.forward(first, reviewer, mine)
        first.commit()
        with pytest.raises(Conflict) as lost:
            review.return_document(second, other, theirs, "Trả lại")
        second.rollback()
    engine.dispose()
    assert lost.value.code == "already_changed"
    session.expire_all()
    assert session.get(OutgoingDocument, doc.id).status is DocumentStatus.AWAITING_SIGNATURE
    assert [e.action for e in session.get(OutgoingDocument, doc.id).events] == ["create", "forward"]


def test_submit_needs_the_draft_file(session, docs_world):
    from tests.documents.conftest import document_values

    doc = drafting.create(
        session, docs_world["drafter"], docs_world.org("vhtt").id, document_values(session, docs_world)
    )
    session.commit()
    with pytest.raises(ValidationFailed) as refused:
        drafting.submit(session, docs_world["drafter"], doc)
    session.rollback()
    assert "file" in refused.value.field_errors
    assert doc.status is DocumentStatus.DRAFT


def test_cancel_keeps_the_document_and_says_why(session, docs_world, make_document):
    doc = make_document()
    drafting.cancel(session, docs_world["drafter"], doc, "Không tổ chức nữa")
    session.commit()
    assert doc.status is DocumentStatus.CANCELLED and doc.events[-1].comment == "Không tổ chức nữa"
    assert latest(doc, FileKind.DRAFT) is not None


def test_who_sees_a_document(session, docs_world, make_document):
    doc = make_document()
    for username in ("drafter", "reviewer", "lead", "signer", "deputy", "clerk"):
        assert get_document(session, docs_world[username], doc.id) is doc
    for username in ("outsider", "commune_clerk"):
        with pytest.raises(NotFound):
            get_document(session, docs_world[username], doc.id)
    with pytest.raises(PermissionDenied):
        from certsvc.policy import Permission

        get_document(session, docs_world["reviewer"], doc.id, Permission.ISSUE_DOCUMENTS)
    for bad in ("abc", 0, -1, 2**31, "1e3", None):
        with pytest.raises(NotFound):
            get_document(session, docs_world["drafter"], bad)
