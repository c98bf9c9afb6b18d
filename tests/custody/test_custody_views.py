"""The custody pages: handover through the browser, 404 for outsiders, audited minutes, the verify page."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.custody.models import CustodyEvent, Handover, HandoverStatus
from certsvc.registry.models import TokenState
from tests.conftest import add_account
from tests.custody.test_custody_chain import tamper_rewrite, unguard
from tests.support.custody import handover_form


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _audits(session, action: str) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def _signed_in(make_browser, username):
    browser = make_browser()
    assert browser.login(username).status_code == 302
    return browser


def _hand_over(make_browser, seal) -> int:
    giver = _signed_in(make_browser, seal.keeper.username)
    response = giver.post(f"/custody/tokens/{seal.token.id}/handover", handover_form(seal))
    assert response.status_code == 302, response.get_data(as_text=True)
    handover_url = response.headers["Location"]
    assert giver.post(f"{handover_url}/confirm").status_code == 302
    assert _signed_in(make_browser, seal.witness_account.username).post(f"{handover_url}/confirm").status_code == 302
    receiver = _signed_in(make_browser, seal.other.username)
    assert receiver.post(f"{handover_url}/confirm").status_code == 302
    return int(handover_url.rstrip("/").rsplit("/", 1)[1])


def test_handover_through_the_pages_moves_the_keeper(make_browser, session, seal):
    handover_id = _hand_over(make_browser, seal)
    handover = session.get(Handover, handover_id)
    assert handover.status is HandoverStatus.COMPLETED
    page = _signed_in(make_browser, seal.head.username).get(f"/custody/tokens/{seal.token.id}").get_data(as_text=True)
    assert "Nông Văn Đức" in page and "Bàn giao" in page and "MẬT" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"giver_id": "other"}, "không phải là người đang giữ thiết bị"),
        ({"receiver_id": "keeper"}, "tự bàn giao"),
        ({"witness_id": "other"}, "Người chứng kiến không được là bên giao hoặc bên nhận"),
        ({"decision_number": "", "decision_date": ""}, "Thiếu văn bản cho phép"),
    ],
)
def test_bad_handover_answers_400_and_writes_nothing(make_browser, session, seal, changes, message):
    people = {"other": str(seal.other.person_id), "keeper": str(seal.keeper.person_id), "": ""}
    browser = _signed_in(make_browser, seal.keeper.username)
    before = (_count(session, Handover), _count(session, CustodyEvent), _count(session, AuditEntry))
    response = browser.post(
        f"/custody/tokens/{seal.token.id}/handover", handover_form(seal, **{k: people[v] for k, v in changes.items()})
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert (_count(session, Handover), _count(session, CustodyEvent), _count(session, AuditEntry)) == before


def test_lost_token_is_refused_on_the_page(make_browser, session, seal):
    session.execute(update(type(seal.token)).values(state=TokenState.LOST))
    session.commit()
    browser = _signed_in(make_browser, seal.keeper.username)
    response = browser.post(f"/custody/tokens/{seal.token.id}/handover", handover_form(seal))
    assert response.status_code == 400 and "không bàn giao được" in response.get_data(as_text=True)


def test_confirmation_by_someone_else_is_refused(make_browser, session, seal):
    browser = _signed_in(make_browser, seal.keeper.username)
    url = browser.post(f"/custody/tokens/{seal.token.id}/handover", handover_form(seal)).headers["Location"]
    head = _signed_in(make_browser, seal.head.username)
    assert head.post(f"{url}/confirm").status_code == 403
    handover = session.scalars(select(Handover)).one()
    assert handover.giver_confirmed_at is None and handover.receiver_confirmed_at is None


def test_outsiders_get_404(make_browser, session, world, seal):
    other = world.orgs["other_commune"]
    add_account(session, "chutichkhac", other, (Role.UNIT_HEAD, other))
    add_account(session, "canbo2", world.orgs["commune"], (Role.UNIT_OFFICER, world.orgs["commune"]))
    session.commit()
    for username in ("chutichkhac", "canbo2", "administrator"):
        browser = _signed_in(make_browser, username)
        for url in (
            f"/custody/tokens/{seal.token.id}",
            f"/custody/entries/{seal.received.seq}",
            f"/custody/tokens/{seal.token.id}/handover",
        ):
            assert browser.get(url).status_code == 404, (username, url)


def test_minute_views_and_downloads_are_audited(make_browser, session, seal):
    handover_id = _hand_over(make_browser, seal)
    seq = session.get(Handover, handover_id).event_seq
    auditor = _signed_in(make_browser, "auditor")
    before = (_audits(session, "custody.minutes_viewed"), _audits(session, "custody.minutes_downloaded"))
    assert auditor.get(f"/custody/entries/{seq}").status_code == 200
    pdf = auditor.get(f"/custody/entries/{seq}/minutes.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    after = (_audits(session, "custody.minutes_viewed"), _audits(session, "custody.minutes_downloaded"))
    assert after == (before[0] + 1, before[1] + 1)


def test_loss_reported_on_the_page_shows_to_the_focal_office(make_browser, session, seal):
    browser = _signed_in(make_browser, seal.keeper.username)
    response = browser.post(f"/custody/tokens/{seal.token.id}/lost", {"circumstances": "Mất khi đi công tác"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(type(seal.token), seal.token.id).state is TokenState.LOST
    focal = _signed_in(make_browser, "focalofficer").get("/custody/").get_data(as_text=True)
    assert "Thiết bị báo mất cần thu hồi chứng thư số" in focal and seal.token.serial in focal


def test_verify_page_matches_an_intact_hash_and_not_a_rewritten_one(make_browser, session, seal):
    handover_id = _hand_over(make_browser, seal)
    event = session.get(CustodyEvent, session.get(Handover, handover_id).event_seq)
    printed = event.hash
    browser = _signed_in(make_browser, seal.head.username)
    spaced = f"{printed[:32]}\n{printed[32:]}"  # as typed from the two printed lines
    page = browser.get("/custody/verify", query_string={"hash": spaced}).get_data(as_text=True)
    assert "Khớp: sổ theo dõi có mục này" in page and "Nông Văn Đức" in page
    unguard(session)
    tamper_rewrite(session, event.seq)
    page = browser.get("/custody/verify", query_string={"hash": printed}).get_data(as_text=True)
    assert "Không khớp: sổ theo dõi không có mục nào mang mã băm này" in page
    assert browser.get("/custody/verify", query_string={"hash": "xyz"}).status_code == 400


def test_book_downloads(make_browser, seal):
    browser = _signed_in(make_browser, seal.head.username)
    year = seal.received.occurred_at.year
    org_id = seal.token.organisation_id
    assert browser.get(f"/custody/units/{org_id}/book-{year}.pdf").data.startswith(b"%PDF")
    csv_text = browser.get(f"/custody/units/{org_id}/book-{year}.csv").get_data(as_text=True)
    assert seal.received.hash in csv_text


def test_the_witness_list_offers_who_may_witness(make_browser, world, seal):
    """The handover form lists exactly the people the handover accepts as witness: the commune's own, and the
    district's inspector too when the head, who may name him, opens the form."""
    inspector = world.accounts["auditor"].person.full_name
    url = f"/custody/tokens/{seal.token.id}/handover"

    def witnesses(username: str) -> str:
        page = _signed_in(make_browser, username).get(url).get_data(as_text=True)
        start = page.index('name="witness_id"')
        return page[start : page.index("</select>", start)]

    by_keeper, by_head = witnesses(seal.keeper.username), witnesses(seal.head.username)
    assert seal.witness.full_name in by_keeper and inspector not in by_keeper
    assert seal.witness.full_name in by_head and inspector in by_head
