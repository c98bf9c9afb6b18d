"""The home page is each person's work list: what waits for them, counted within what their roles reach,
pressing lines first, each linking to the list of those records."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from certsvc.accounts.models import Role
from certsvc.custody import handovers
from certsvc.demo import DEMO_PASSWORD
from certsvc.documents.models import IncomingDocument, IncomingStatus, Urgency
from certsvc.registry.models import Token, TokenKind, TokenReturn, TokenState
from certsvc.requests.models import CertificateRequest, RequestStatus
from certsvc.timeutil import to_vietnam, utcnow
from tests.conftest import Browser
from tests.support.custody import SETTINGS as CUSTODY_SETTINGS
from tests.support.custody import handover_form
from tests.support.requests import bring_to, draft, individual

ROW = re.compile(
    r'<tr(?: class="overdue")?>\s*<td><a href="([^"]+)">([^<]+)</a></td>\s*'
    r'<td class="num">([^<]+)</td>\s*<td>(.*?)</td>',
    re.S,
)
SECTION = re.compile(r"<h3>([^<]+)</h3>(.*?)</table>", re.S)
NOTHING = "Hiện không có việc nào chờ bạn xử lý."


def work_of(page: str) -> dict[str, dict[str, tuple[int, str]]]:
    """The work list of a home page: heading -> line -> (count, the pressing ones' badge, or "")."""
    work = page.split("<h2>Việc cần làm</h2>", 1)[1].split("</section>", 1)[0]
    return {
        unescape(title): {
            unescape(label): (int(count.replace(".", "")), unescape(re.sub(r"<[^>]+>", "", badge)).strip())
            for _, label, count, badge in ROW.findall(body)
        }
        for title, body in SECTION.findall(work)
    }


def links_of(page: str) -> dict[str, str]:
    """Each work line's label -> the list it links to."""
    return {unescape(label): unescape(url) for url, label, _, _ in ROW.findall(page)}


def home(browser: Browser) -> str:
    return browser.get("/").get_data(as_text=True)


def signed_in(make_browser, username: str) -> Browser:
    browser = make_browser()
    assert browser.login(username).status_code == 302
    return browser


# --- the demo: each role's own work -------------------------------------------------------------------

REQUESTS, OUTGOING, INCOMING = "Đề nghị chứng thư số", "Văn bản đi", "Văn bản đến"
CUSTODY = "Sổ theo dõi thiết bị"
CLERK_WORK = {OUTGOING: {"Chờ lấy số": (1, ""), "Chờ ký phát hành": (1, ""), "Chờ phát hành": (1, "")}}
DEMO_WORK = {
    "quantri": {},
    "kiemtra": {},
    "daumoi": {
        REQUESTS: {"Chờ cơ quan đầu mối tiếp nhận": (1, ""), "Đã tiếp nhận, chờ đưa vào đợt tổng hợp": (1, "")},
        "Chứng thư số và thiết bị": {"Thiết bị phải nộp lại tổ chức cung cấp dịch vụ chứng thực": (1, "")},
        "Sẵn sàng triển khai": {"Đơn vị chưa sẵn sàng trước ngày triển khai": (4, "")},
    },
    "thutruong": {REQUESTS: {"Dự thảo chờ phê duyệt": (1, ""), "Bị trả lại, cần sửa và gửi lại": (1, "")}},
    "canbo": {INCOMING: {"Chờ kiểm tra, vào sổ": (1, "")}, REQUESTS: {"Bị trả lại, cần sửa và gửi lại": (1, "")}},
    "lanhdaophong": {OUTGOING: {"Chờ thẩm định": (1, "")}},
    "chuyenvien": {OUTGOING: {"Bị trả lại, cần sửa": (1, "")}},
    # The letter waiting for his signature is marked Khẩn: a pressing line.
    "phochutich": {OUTGOING: {"Chờ ký duyệt": (1, "1 khẩn")}},
    "vanthu": CLERK_WORK,
    # Handed the seal token over, still the clerk of the district: the clerk's steps stay his work.
    "vanthucu": CLERK_WORK,
}


@pytest.mark.demo
def test_each_demo_role_finds_its_own_work_on_the_home_page(app):
    """One demo for all (loading it signs documents with SoftHSM tokens): each role's lines and counts,
    nothing of another role's, "nothing to do" for those with nothing; and after the unit head sends the
    commune's draft, his line is gone and the focal office's queue counts one more."""
    pages = {}
    for username in DEMO_WORK:
        browser = Browser(app.test_client())
        assert browser.login(username, DEMO_PASSWORD).status_code == 302
        pages[username] = home(browser)
    assert {username: work_of(page) for username, page in pages.items()} == DEMO_WORK
    assert NOTHING in pages["quantri"] and NOTHING in pages["kiemtra"] and NOTHING not in pages["daumoi"]
    # Pressing lines first: the letter to sign is the first line of the vice-chairman's page.
    assert "Chờ ký duyệt" in pages["phochutich"].split("<tbody>", 1)[1].split("</tr>", 1)[0]

    links = links_of(pages["thutruong"])
    assert links["Dự thảo chờ phê duyệt"] == "/requests/?status=draft"
    head = Browser(app.test_client())
    head.login("thutruong", DEMO_PASSWORD)
    drafts = head.get(links["Dự thảo chờ phê duyệt"]).get_data(as_text=True)
    (waiting,) = set(re.findall(r'href="/requests/(\d+)"', drafts))  # the link leads to the one draft
    sent = head.post(f"/requests/{waiting}/act/approve_submit")
    assert sent.status_code == 302
    assert work_of(home(head)) == {REQUESTS: {"Bị trả lại, cần sửa và gửi lại": (1, "")}}
    focal = Browser(app.test_client())
    focal.login("daumoi", DEMO_PASSWORD)
    assert work_of(home(focal))[REQUESTS]["Chờ cơ quan đầu mối tiếp nhận"] == (2, "")


# --- a request's way through the unit and the focal office ---------------------------------------------


def test_the_work_lists_follow_a_request_and_the_flash_says_what_comes_next(make_browser, session, world):
    officer = signed_in(make_browser, "unitofficer")
    head = signed_in(make_browser, "unithead")
    focal = signed_in(make_browser, "focalofficer")
    assert NOTHING in home(officer) and NOTHING in home(head) and NOTHING in home(focal)

    saved = officer.post(
        "/requests/new/new_individual",
        individual(organisation_id=str(world.orgs["commune"].id)),
        follow_redirects=True,
    ).get_data(as_text=True)
    created = session.scalars(select(CertificateRequest)).one()
    assert f"Đã lưu dự thảo số {created.id}. Bước tiếp theo: thủ trưởng đơn vị phê duyệt và gửi đầu mối." in unescape(
        saved
    )
    # The drafter's own draft waits for the head, not for him.
    assert NOTHING in home(officer)
    assert work_of(home(head)) == {REQUESTS: {"Dự thảo chờ phê duyệt": (1, "")}}
    page = unescape(head.get(f"/requests/{created.id}").get_data(as_text=True))
    assert "đề nghị ở lại đơn vị, gửi đầu mối sau bằng nút «Gửi đầu mối»" in page
    assert "Đồng ý và gửi ngay cơ quan đầu mối tiếp nhận, trong một bước." in page

    assert head.post(f"/requests/{created.id}/act/approve").status_code == 302
    assert work_of(home(head)) == {REQUESTS: {"Đã phê duyệt, chờ gửi đầu mối": (1, "")}}
    assert head.post(f"/requests/{created.id}/act/submit").status_code == 302
    assert NOTHING in home(head)
    assert work_of(home(focal)) == {REQUESTS: {"Chờ cơ quan đầu mối tiếp nhận": (1, "")}}

    returned = focal.post(f"/requests/{created.id}/act/return", {"comment": "Ghi đủ chức danh"})
    assert returned.status_code == 302
    assert NOTHING in home(focal)
    fix = {REQUESTS: {"Bị trả lại, cần sửa và gửi lại": (1, "")}}
    assert work_of(home(officer)) == fix and work_of(home(head)) == fix
    edited = officer.post(
        f"/requests/{created.id}/edit",
        {**created.data, "position": "Công chức Văn hóa - Xã hội"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"Đã lưu nội dung đề nghị số {created.id}. Bước tiếp theo: thủ trưởng đơn vị gửi lại đầu mối." in unescape(
        edited
    )


def test_the_focal_office_counts_only_the_units_it_serves(make_browser, session, world):
    """A draft of a unit the focal office does not serve is nobody's work there; the accepted ones wait for
    a batch."""
    focal = signed_in(make_browser, "focalofficer")
    for _ in range(3):
        bring_to(session, world, draft(session, world), RequestStatus.SUBMITTED)
    bring_to(session, world, draft(session, world), RequestStatus.ACCEPTED)
    draft(session, world)
    assert work_of(home(focal)) == {
        REQUESTS: {"Chờ cơ quan đầu mối tiếp nhận": (3, ""), "Đã tiếp nhận, chờ đưa vào đợt tổng hợp": (1, "")}
    }
    links = links_of(home(focal))
    assert links["Chờ cơ quan đầu mối tiếp nhận"] == "/requests/queue?status=submitted"
    assert links["Đã tiếp nhận, chờ đưa vào đợt tổng hợp"] == "/requests/queue?status=accepted"


# --- custody, incoming documents, the registry ---------------------------------------------------------


def test_a_handover_waits_for_each_party_and_the_head_until_each_has_acted(make_browser, session, world, seal):
    handover = handovers.start_handover(
        session,
        seal.keeper,
        seal.token,
        handover_form(seal, decision_number="", decision_date="", ask_approval="y"),
        CUSTODY_SETTINGS,
    )
    session.commit()
    confirm = {CUSTODY: {"Biên bản bàn giao chờ bạn xác nhận": (1, "")}}
    giver = signed_in(make_browser, seal.keeper.username)
    for account in (seal.keeper, seal.other, seal.witness_account):
        assert work_of(home(signed_in(make_browser, account.username))) == confirm
    assert work_of(home(signed_in(make_browser, seal.head.username))) == {
        CUSTODY: {"Biên bản bàn giao chờ thủ trưởng phê duyệt": (1, "")}
    }
    assert links_of(home(giver))["Biên bản bàn giao chờ bạn xác nhận"] == "/custody/"
    assert giver.post(f"/custody/handovers/{handover.id}/confirm").status_code == 302
    assert NOTHING in home(giver)
    # Another unit's officers see nothing of a MẬT token's handover.
    assert NOTHING in home(signed_in(make_browser, "focalofficer"))


def test_incoming_documents_to_register_to_direct_and_past_their_deadline(make_browser, session, world):
    today = to_vietnam(utcnow()).date()
    commune, office = world.orgs["commune"], world.orgs["office"]
    handler = world.account(Role.UNIT_OFFICER)

    def arrived(body, status, **values) -> None:
        session.add(
            IncomingDocument(
                receiving_body=body, status=status, sender_name="Sở Nội vụ", summary="V/v kiểm tra", **values
            )
        )

    arrived(office, IncomingStatus.RECEIVED, urgency=Urgency.FLASH)
    arrived(office, IncomingStatus.RECEIVED)
    arrived(commune, IncomingStatus.REGISTERED)
    arrived(commune, IncomingStatus.REGISTERED, handler_id=handler.person_id, handle_by=today - timedelta(days=1))
    arrived(commune, IncomingStatus.REGISTERED, handler_id=handler.person_id, handle_by=today)
    session.commit()
    clerk_page = home(signed_in(make_browser, "clerk"))
    assert work_of(clerk_page)[INCOMING] == {"Chờ kiểm tra, vào sổ": (2, "1 khẩn")}
    assert links_of(clerk_page)["Chờ kiểm tra, vào sổ"] == "/documents/incoming?tab=waiting"
    assert work_of(home(signed_in(make_browser, "unithead"))) == {
        INCOMING: {"Quá hạn xử lý": (1, "1 quá hạn"), "Đã vào sổ, chờ giao xử lý": (1, "")}
    }
    assert work_of(home(signed_in(make_browser, "unitofficer"))) == {INCOMING: {"Quá hạn xử lý": (1, "1 quá hạn")}}


def test_token_returns_overdue_come_first(make_browser, session, world):
    today = to_vietnam(utcnow()).date()
    for serial, due in (("TK-QUAHAN", today - timedelta(days=2)), ("TK-CONHAN", today + timedelta(days=10))):
        token = Token(serial=serial, kind=TokenKind.PERSONAL, organisation=world.orgs["commune"], state=TokenState.LOST)
        session.add(TokenReturn(token=token, due_on=due))
    bring_to(session, world, draft(session, world), RequestStatus.SUBMITTED)
    session.commit()
    page = home(signed_in(make_browser, "focalofficer"))
    assert list(work_of(page)) == ["Chứng thư số và thiết bị", REQUESTS]
    assert work_of(page)["Chứng thư số và thiết bị"] == {
        "Thiết bị phải nộp lại tổ chức cung cấp dịch vụ chứng thực": (2, "1 quá hạn")
    }
    # The unit's head keeps no registry: the returns are the focal office's work.
    assert "Thiết bị phải nộp lại" not in home(signed_in(make_browser, "unithead"))
