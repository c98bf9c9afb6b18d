"""What the abuse run found in the custody register: services that trusted their caller (item 4), the registry
changing a MẬT token's state behind the register's back (5), confirmations and losses racing (9), a return to
the CA that left the registry's deadline open and a time typed without a date (19)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.audit.service import Actor
from certsvc.custody import entries, handovers, service
from certsvc.custody.minutes import minutes_pdf
from certsvc.custody.models import CustodyEvent, CustodyEventKind, Handover, HandoverStatus
from certsvc.errors import NotFound, PermissionDenied, ValidationFailed
from certsvc.registry.models import Certificate, Token, TokenEvent, TokenKind, TokenReturn, TokenState
from certsvc.registry.service import RegistrySettings, open_returns, revoke_certificate
from certsvc.requests.models import CertificateRequest
from tests.conftest import add_account
from tests.custody.test_custody_documents import _text
from tests.support.custody import SETTINGS, handover_form


def _counts(session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (CustodyEvent, Handover, AuditEntry, TokenEvent, CertificateRequest)
    )


def _signed_in(make_browser, username):
    browser = make_browser()
    assert browser.login(username).status_code == 302
    return browser


def _pending(session, seal, settings=SETTINGS, **changes) -> Handover:
    handover = handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal, **changes), settings)
    session.commit()
    return handover


# -- 4. only the keeper and the head act on a token; the witness is of the body and confirms ---------------


def test_a_clerk_who_does_not_keep_the_token_cannot_report_it_lost(make_browser, session, seal):
    handover = _pending(session, seal)
    clerk = _signed_in(make_browser, seal.other.username)
    before = _counts(session)
    response = clerk.post(f"/custody/tokens/{seal.token.id}/lost", {"circumstances": "Không thấy trong tủ"})
    assert response.status_code == 403
    assert _counts(session) == before  # no loss, no revocation drafted in his name
    session.refresh(handover), session.refresh(seal.token)
    assert handover.status is HandoverStatus.PENDING and seal.token.state is TokenState.ACTIVE


@pytest.mark.parametrize(
    "act",
    [
        pytest.param(
            lambda s, by, seal: entries.record_event(s, by, seal.token, {"kind": "destroyed", "note": "Tiêu hủy"}),
            id="destroyed",
        ),
        pytest.param(
            lambda s, by, seal: entries.record_event(
                s,
                by,
                seal.token,
                {"kind": "returned", "ca_name": "CA", "ca_representative": "Ông A", "reason": "Thu hồi"},
            ),
            id="returned",
        ),
        pytest.param(lambda s, by, seal: entries.report_loss(s, by, seal.token, {"circumstances": "Mất"}), id="lost"),
        pytest.param(
            lambda s, by, seal: handovers.start_handover(
                s,
                by,
                seal.token,
                handover_form(seal, giver_id=str(seal.keeper.person_id), receiver_id=str(seal.other.person_id)),
                SETTINGS,
            ),
            id="handover",
        ),
    ],
)
def test_former_keeper_is_refused_by_the_service_itself(session, seal, act):
    """The JSON API calls the services directly: they ask the policy, not the pages."""
    _hand_over(session, seal)  # keeper → other: ``seal.keeper`` keeps nothing any more
    before = _counts(session)
    with pytest.raises(PermissionDenied):
        act(session, seal.keeper, seal)
    session.rollback()
    assert _counts(session) == before


def test_the_unit_head_acts_on_the_token_he_does_not_keep(session, seal):
    event = entries.record_event(session, seal.head, seal.token, {"kind": "inventory", "condition": "Tốt"})
    session.commit()
    assert event.kind is CustodyEventKind.INVENTORY


def test_readers_ask_the_policy(session, world, seal):
    outsider = world.account(Role.CLERK)  # a clerk of another office
    with pytest.raises(NotFound):
        service.get_token(session, outsider, seal.token.id)
    handover = _pending(session, seal)
    with pytest.raises(NotFound):
        service.get_handover(session, outsider, handover.id)
    assert service.custody_tokens(session, outsider) == []
    assert service.pending_for(session, outsider) == []
    assert service.pending_for(session, seal.witness_account) == [handover]


def test_witness_from_another_body_is_refused(session, world, seal):
    other_commune = world.orgs["other_commune"]
    stranger = add_account(session, "vanthuyenphuc", other_commune, (Role.CLERK, other_commune))
    focal = world.account(Role.FOCAL_OFFICER)  # sees the commune's register, is not of the commune
    session.commit()
    before = _counts(session)
    for witness in (stranger, focal):
        with pytest.raises(ValidationFailed) as refused:
            handovers.start_handover(
                session, seal.keeper, seal.token, handover_form(seal, witness_id=str(witness.person_id)), SETTINGS
            )
        session.rollback()
        assert "chứng kiến" in refused.value.field_errors["witness_id"]
    assert _counts(session) == before
    # The head may name a witness from outside the body, if he can see the register to confirm.
    handover = handovers.start_handover(
        session, seal.head, seal.token, handover_form(seal, witness_id=str(focal.person_id)), SETTINGS
    )
    session.commit()
    assert handover.witness_id == focal.person_id


def test_the_witness_confirms_like_the_parties(make_browser, session, seal, tmp_path):
    handover = _pending(session, seal)
    assert handovers.confirm_handover(session, seal.keeper, handover) is None
    assert handovers.confirm_handover(session, seal.other, handover) is None  # the witness has not confirmed
    session.commit()
    witness = _signed_in(make_browser, seal.witness_account.username)
    page = witness.get(f"/custody/handovers/{handover.id}").get_data(as_text=True)
    assert "Tôi xác nhận biên bản" in page and page.count("chưa xác nhận") == 1
    assert witness.post(f"/custody/handovers/{handover.id}/confirm").status_code == 302
    session.expire_all()
    assert handover.status is HandoverStatus.COMPLETED
    assert service.current_keeper(session, seal.token).id == seal.other.person_id
    page = witness.get(f"/custody/handovers/{handover.id}").get_data(as_text=True)
    assert page.count("đã xác nhận") == 3
    event = session.get(CustodyEvent, handover.event_seq)
    text = " ".join(_text(minutes_pdf(event, "http://x.test/check"), tmp_path, "handover.pdf").split())
    assert "người chứng kiến lúc" in text


def _hand_over(session, seal) -> CustodyEvent:
    handover = _pending(session, seal)
    for party in (seal.keeper, seal.witness_account, seal.other):
        event = handovers.confirm_handover(session, party, handover)
    session.commit()
    return event


# -- 5. the registry does not change a token that is in the custody register -------------------------


def test_registry_refuses_to_change_a_token_in_the_custody_register(make_browser, session, world, seal):
    focal = _signed_in(make_browser, world.account(Role.FOCAL_OFFICER).username)
    before = _counts(session)
    response = focal.post(f"/registry/tokens/{seal.token.id}/transition", {"to_state": "lost", "reason": "Mất"})
    assert response.status_code == 400
    assert "phải ghi qua sổ theo dõi" in response.get_data(as_text=True)
    assert _counts(session) == before
    session.refresh(seal.token)
    assert seal.token.state is TokenState.ACTIVE
    # The clerk's "found" is not refused later: the register still holds the only story.
    entries.report_loss(session, seal.keeper, seal.token, {"circumstances": "Không thấy trong tủ"})
    entries.record_event(
        session,
        seal.head,
        seal.token,
        {"kind": "found", "keeper_id": str(seal.keeper.person_id), "note": "Tìm thấy trong ngăn kéo"},
    )
    session.commit()
    assert seal.token.state is TokenState.ACTIVE


def test_registry_still_changes_tokens_outside_the_register(make_browser, session, world):
    token = Token(
        serial="PERS-0001",
        kind=TokenKind.PERSONAL,
        organisation=world.orgs["commune"],
        state=TokenState.ACTIVE,
        is_secret=False,
        recoveries=0,
        replacements=0,
    )
    session.add(token)
    session.commit()
    focal = _signed_in(make_browser, world.account(Role.FOCAL_OFFICER).username)
    response = focal.post(f"/registry/tokens/{token.id}/transition", {"to_state": "lost", "reason": "Mất"})
    assert response.status_code == 302
    session.refresh(token)
    assert token.state is TokenState.LOST


# -- 9. races: each change takes the token's row first ------------------------------------------------------


def _at_once(*calls) -> list:
    """Run each call in its own thread, released together; their results (or errors) in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        barrier.wait(timeout=10)
        try:
            results[index] = call()
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _post_status(browser, url: str) -> Callable[[], int]:
    """A call for :func:`_at_once`: post to ``url`` as ``browser`` (both bound now), giving the status."""
    return lambda: browser.post(url).status_code


def test_giver_and_receiver_confirming_at_once_complete_it_once(make_browser, session, seal):
    giver = _signed_in(make_browser, seal.keeper.username)
    receiver = _signed_in(make_browser, seal.other.username)
    for done in range(1, 4):  # there and back again, three times: each a fresh race
        # No witness: the two parties' confirmations are the last ones.
        handover = _pending(session, seal, service.CustodySettings(witness_required=False), witness_id="")
        url = f"/custody/handovers/{handover.id}/confirm"
        statuses = _at_once(_post_status(giver, url), _post_status(receiver, url))
        assert statuses == [302, 302]
        session.expire_all()
        assert handover.status is HandoverStatus.COMPLETED and handover.event_seq is not None
        assert (
            session.scalar(
                select(func.count()).select_from(CustodyEvent).where(CustodyEvent.kind == CustodyEventKind.HANDED_OVER)
            )
            == done
        )
        seal.keeper, seal.other = seal.other, seal.keeper
        giver, receiver = receiver, giver


def test_two_losses_reported_at_once_one_wins(make_browser, session, seal):
    keeper = _signed_in(make_browser, seal.keeper.username)
    head = _signed_in(make_browser, seal.head.username)
    url = f"/custody/tokens/{seal.token.id}/lost"
    statuses = _at_once(
        lambda: keeper.post(url, {"circumstances": "Mất khi đi công tác"}),
        lambda: head.post(url, {"circumstances": "Không thấy trong két"}),
    )
    assert sorted(r.status_code for r in statuses) == [302, 400]
    refused = next(r for r in statuses if r.status_code == 400).get_data(as_text=True)
    assert "Bị mất" in refused
    session.expire_all()
    assert (
        session.scalar(select(func.count()).select_from(CustodyEvent).where(CustodyEvent.kind == CustodyEventKind.LOST))
        == 1
    )
    assert (
        session.scalar(
            select(func.count())
            .select_from(TokenEvent)
            .where(TokenEvent.token_id == seal.token.id, TokenEvent.to_state == TokenState.LOST)
        )
        == 1
    )


# -- 19. the return to the CA goes through the registry; a time needs its date --------------------------


def test_returning_the_token_closes_the_registry_deadline(make_browser, session, world, seal):
    certificate = session.scalars(select(Certificate).where(Certificate.token_id == seal.token.id)).one()
    revoke_certificate(
        session,
        Actor(label="test"),
        certificate,
        revoked_at=datetime.now(UTC),
        reason="Thôi sử dụng",
        calendar=RegistrySettings().calendar,
    )
    session.commit()
    assert open_returns(session, [seal.token.id])
    keeper = _signed_in(make_browser, seal.keeper.username)
    response = keeper.post(
        f"/custody/tokens/{seal.token.id}/event",
        {
            "kind": "returned",
            "ca_name": "Cục Chứng thực số và Bảo mật thông tin",
            "ca_representative": "Ông Nguyễn Văn A",
            "reason": "Chứng thư số đã thu hồi",
            "event_date": "2026-11-25",
            "event_time": "10:00",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    assert seal.token.state is TokenState.RETURNED
    assert open_returns(session, [seal.token.id]) == []
    assert session.scalars(select(TokenReturn)).one().returned_at is not None
    focal = _signed_in(make_browser, world.account(Role.FOCAL_OFFICER).username)
    assert "Nộp lại thiết bị cho CA" not in focal.get(f"/registry/tokens/{seal.token.id}").get_data(as_text=True)


def test_a_time_without_a_date_is_refused(make_browser, session, seal):
    keeper = _signed_in(make_browser, seal.keeper.username)
    before = _counts(session)
    response = keeper.post(
        f"/custody/tokens/{seal.token.id}/event",
        {"kind": "inventory", "condition": "Tốt", "event_date": "", "event_time": "14:30"},
    )
    assert response.status_code == 400
    assert "Đã nhập giờ thì nhập cả ngày xảy ra." in response.get_data(as_text=True)
    assert _counts(session) == before
