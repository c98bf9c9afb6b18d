"""Paging of the request lists: the focal office's queue and a unit's list, 50 a page in list order,
page links that keep the filters, bad page numbers refused, and the scope kept on every page."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from certsvc.accounts.models import Role
from certsvc.orgs.models import OrgKind
from certsvc.requests.listing import QUEUE_STATUSES, RequestFilter, count_requests, find_requests, page_requests
from certsvc.requests.models import CertificateRequest, RequestStatus, RequestType
from certsvc.timeutil import utcnow
from tests.conftest import add_account, add_org
from tests.requests.test_requests_pages import signed_in, text

START = utcnow() - timedelta(days=30)


def add_requests(
    session,
    org,
    count: int,
    *,
    status=RequestStatus.SUBMITTED,
    kind=RequestType.NEW_INDIVIDUAL,
    first_minute: int = 0,
    name: str = "Người",
) -> list[int]:
    """``count`` requests of ``org`` submitted a minute apart (drafts: never submitted); their ids."""
    rows = [
        CertificateRequest(
            request_type=kind,
            status=status,
            organisation_id=org.id,
            subject_key=f"bench:{org.id}:{first_minute + n}",
            data={"full_name": f"{name} số {first_minute + n:03d}"},
            submitted_at=None if status is RequestStatus.DRAFT else START + timedelta(minutes=first_minute + n),
        )
        for n in range(count)
    ]
    session.add_all(rows)
    session.commit()
    return [row.id for row in rows]


def listed(response) -> list[int]:
    """The request numbers a list page shows, top to bottom."""
    return [int(n) for n in re.findall(r'<td class="num"[^>]*><a href="/requests/(\d+)"', text(response))]


def page_links(response) -> list[dict[str, list[str]]]:
    nav = re.search(r'<nav class="pager".*?</nav>', text(response), re.S)
    hrefs = re.findall(r'href="([^"]+)"', nav.group(0)) if nav else []
    return [parse_qs(urlsplit(href.replace("&amp;", "&")).query, keep_blank_values=True) for href in hrefs]


@pytest.fixture
def focal_page(make_browser, world):
    return signed_in(make_browser, "focalofficer")


def test_queue_shows_120_requests_in_three_pages_oldest_first(focal_page, session, world):
    ids = add_requests(session, world.orgs["commune"], 120)
    first = focal_page.get("/requests/queue")
    assert first.status_code == 200 and listed(first) == ids[:50]
    assert "Đề nghị 1–50 trong 120, 50 đề nghị một trang" in text(first) and "Trang 1/3" in text(first)
    assert {"page": ["2"], "status": ["submitted"]} not in page_links(first)  # the default filter is not added
    assert {"page": ["2"]} in page_links(first) and {"page": ["3"]} in page_links(first)
    second = focal_page.get("/requests/queue?page=2")
    assert listed(second) == ids[50:100] and "Trang 2/3" in text(second)
    third = focal_page.get("/requests/queue?page=3")
    assert listed(third) == ids[100:] and "Đề nghị 101–120 trong 120" in text(third)
    beyond = focal_page.get("/requests/queue?page=9")
    assert beyond.status_code == 200 and listed(beyond) == []
    assert "danh sách chỉ có 3 trang" in text(beyond) and {"page": ["3"]} in page_links(beyond)


def test_same_submission_time_lists_the_newest_request_first(focal_page, session, world):
    older, newer = add_requests(session, world.orgs["commune"], 1) + add_requests(session, world.orgs["commune"], 1)
    assert listed(focal_page.get("/requests/queue")) == [newer, older]


def test_page_links_keep_the_filters(focal_page, session, world):
    commune, other = world.orgs["commune"], world.orgs["other_commune"]
    renewals = add_requests(session, commune, 60, kind=RequestType.RENEWAL)
    add_requests(session, commune, 30, first_minute=100)
    add_requests(session, other, 40, kind=RequestType.RENEWAL, first_minute=200)
    accepted = add_requests(session, other, 55, status=RequestStatus.ACCEPTED, first_minute=300)
    query = f"organisation_id={commune.id}&request_type=renewal"
    first = focal_page.get(f"/requests/queue?{query}")
    assert listed(first) == renewals[:50] and "trong 60" in text(first)
    expected = {"organisation_id": [str(commune.id)], "request_type": ["renewal"], "page": ["2"]}
    assert expected in page_links(first)
    second = focal_page.get(f"/requests/queue?{query}&page=2")
    assert listed(second) == renewals[50:]
    everything = focal_page.get("/requests/queue?status=accepted&page=2")
    assert listed(everything) == accepted[50:]
    assert {"status": ["accepted"]} in page_links(everything)  # the first page's link
    # The filter form starts again from page 1: it does not carry the page number.
    form = re.search(r'<form method="get".*?</form>', text(second), re.S).group(0)
    assert 'name="page"' not in form


def test_every_page_keeps_to_the_focal_office_scope(focal_page, session, world):
    outside = add_org(session, world, "outside", "Sở Tư pháp", "STP", OrgKind.AGENCY, world.orgs["province"])
    theirs = set(add_requests(session, outside, 70, name="Ngoài vùng"))
    ours = add_requests(session, world.orgs["commune"], 70, first_minute=500)
    shown = [n for page in (1, 2) for n in listed(focal_page.get(f"/requests/queue?status=&page={page}"))]
    assert shown == ours and not theirs & set(shown)
    assert "trong 70" in text(focal_page.get("/requests/queue"))
    assert "Ngoài vùng" not in text(focal_page.get("/requests/queue?status=&page=2"))
    assert focal_page.get(f"/requests/queue?organisation_id={outside.id}&page=2").status_code == 400


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "２", "9" * 5000])
@pytest.mark.parametrize("url", ["/requests/", "/requests/queue"])
def test_bad_page_numbers_are_refused_in_vietnamese(focal_page, world, url, page):
    response = focal_page.get(f"{url}?page={page}")
    assert response.status_code == 400
    assert "Số trang phải là số nguyên dương" in text(response) and listed(response) == []


def test_huge_page_number_is_an_empty_page(focal_page, session, world):
    add_requests(session, world.orgs["commune"], 3)
    response = focal_page.get("/requests/queue?page=" + "9" * 30)
    assert response.status_code == 200 and listed(response) == []


def test_unit_list_pages_its_own_requests_drafts_last(make_browser, session, world):
    unit = world.orgs["commune"]
    submitted = add_requests(session, unit, 45)
    drafts = add_requests(session, unit, 15, status=RequestStatus.DRAFT, first_minute=100)
    add_requests(session, world.orgs["other_commune"], 10, first_minute=200)
    officer = signed_in(make_browser, "unitofficer")
    first = officer.get("/requests/")
    assert listed(first) == submitted + drafts[::-1][:5] and "Đề nghị 1–50 trong 60" in text(first)
    assert listed(officer.get("/requests/?page=2")) == drafts[::-1][5:]


def test_a_second_office_sees_only_its_units_on_every_page(make_browser, session, world):
    district = world.orgs["district"]
    north = add_org(session, world, "north_focal", "Phòng Nội vụ", "NV", OrgKind.OFFICE, district)
    served = add_org(
        session, world, "served", "UBND xã Bắc Sơn", "UBND", OrgKind.COMMUNE_COMMITTEE, district, focal_office=north
    )
    add_account(session, "daumoibac", north, (Role.FOCAL_OFFICER, north))
    session.commit()
    mine = add_requests(session, served, 55)
    add_requests(session, world.orgs["commune"], 55, first_minute=100)
    north_page = signed_in(make_browser, "daumoibac")
    shown = listed(north_page.get("/requests/queue")) + listed(north_page.get("/requests/queue?page=2"))
    assert shown == mine


def test_service_pages_and_slices_agree(session, world):
    scope = {world.orgs["commune"].id, world.orgs["other_commune"].id}
    ids = add_requests(session, world.orgs["commune"], 30) + add_requests(
        session, world.orgs["other_commune"], 30, first_minute=30
    )
    filters = RequestFilter(status=RequestStatus.SUBMITTED)
    page = page_requests(session, scope=scope, filters=filters, statuses=QUEUE_STATUSES, page=2, per_page=25)
    assert [r.id for r in page] == ids[25:50] and page.total == 60 and page.pages == 3
    sliced = find_requests(session, scope=scope, filters=filters, statuses=QUEUE_STATUSES, limit=25, offset=25)
    assert [r.id for r in sliced] == ids[25:50]
    assert count_requests(session, scope=scope, filters=filters, statuses=QUEUE_STATUSES) == 60
    assert [r.id for r in find_requests(session, scope, filters)] == ids


def test_a_queue_longer_than_the_count_limit_says_more_than_and_pages_on(focal_page, session, world):
    """Past 1,000 rows the list is not counted to its end: "hơn 1.000", no last page, but every
    page is still reachable one after another, and the page that is not full tells the whole length;
    the API's total stays exact."""
    from sqlalchemy import insert

    from certsvc.core.paging import COUNT_LIMIT

    org = world.orgs["commune"]
    extra = 30
    session.execute(
        insert(CertificateRequest),
        [
            dict(
                request_type=RequestType.NEW_INDIVIDUAL,
                status=RequestStatus.SUBMITTED,
                organisation_id=org.id,
                subject_key=f"many:{n}",
                data={"full_name": f"Người số {n:05d}"},
                created_at=START,
                updated_at=START,
                submitted_at=START + timedelta(seconds=n),
            )
            for n in range(COUNT_LIMIT + extra)
        ],
    )
    session.commit()

    first = focal_page.get("/requests/queue")
    assert "Đề nghị 1–50 trong hơn 1.000, 50 đề nghị một trang" in text(first)
    assert "Trang 1</span>" in text(first) and "Trang cuối" not in text(first)
    assert {"page": ["2"]} in page_links(first)
    last_counted = COUNT_LIMIT // 50
    beyond_count = focal_page.get(f"/requests/queue?page={last_counted + 1}")
    assert len(listed(beyond_count)) == extra and f"Trang {last_counted + 1}/{last_counted + 1}</span>" in text(
        beyond_count
    )
    assert "Đề nghị 1.001–1.030 trong 1.030" in text(beyond_count)
    assert "Trang sau" not in text(beyond_count)  # a page not full is the last one
    deep = focal_page.get(f"/requests/queue?page={last_counted}")
    assert "Đề nghị 951–1.000 trong hơn 1.000" in text(deep) and {"page": [str(last_counted + 1)]} in page_links(deep)
    past = focal_page.get(f"/requests/queue?page={last_counted + 5}")
    assert listed(past) == [] and "không có mục nào" in text(past) and {} in page_links(past)
    assert page_requests(session, {org.id}, RequestFilter(status=RequestStatus.SUBMITTED)).total == COUNT_LIMIT + extra


def test_the_list_names_the_certificate_holder_and_the_token_user_of_registry_requests(
    focal_page, make_browser, session, world
):
    """A revocation names the certificate's holder and its serial, a recovery the token's user and serial;
    a new certificate the person on its form; each on the queue and on the unit's list."""
    from tests.support.registry import add_certificate
    from tests.support.requests import bring_to, draft, individual

    commune = world.orgs["commune"]
    revoked = add_certificate(session, commune, cn="Vi Văn Tùng")
    locked = add_certificate(session, commune, cn="Hoàng Thị Mai")
    for request in (
        draft(session, world, "revocation", {"certificate_serial": revoked.serial_hex.lower(), "reason": "retirement"}),
        draft(session, world, "recovery", {"token_serial": locked.token.serial, "problem": "pin_locked"}),
        draft(session, world, fields=individual(full_name="Lộc Thị Hoa")),
    ):
        bring_to(session, world, request, RequestStatus.SUBMITTED)
    user = locked.token.holder.full_name
    for page in (focal_page.get("/requests/queue"), signed_in(make_browser, "unitofficer").get("/requests/")):
        shown = text(page)
        assert f'Vi Văn Tùng <span class="muted">(chứng thư {revoked.serial_hex[-8:]})</span>' in shown
        assert f'{user} <span class="muted">(thiết bị {locked.token.serial})</span>' in shown
        assert re.search(r"<td[^>]*>Lộc Thị Hoa</td>", shown)


def test_the_queue_statements_carry_no_parameters_so_their_plans_are_kept(app, focal_page, session, world):
    """Scope, status, type and slice are written into the SQL: PostgreSQL plans such a statement once
    when the driver prepares it, where a parameter for OFFSET made it plan again on every page. And a
    page within the counted rows is one statement: the count comes along with the lines."""
    from sqlalchemy import event

    from certsvc.extensions import db

    ids = add_requests(session, world.orgs["commune"], 60)
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "FROM certificate_request" in statement:
            statements.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = focal_page.get("/requests/queue?page=2&request_type=new_individual")
        everything = focal_page.get("/requests/queue?status=")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert listed(page) == ids[50:] and listed(everything) == ids[:50]
    assert len(statements) == 2  # one statement a page: its lines, with the count selected along
    assert all("count(*)" in statement for statement, _ in statements)
    # SQLite's dialect binds the OFFSET 0 it adds after a LIMIT alone; its statements keep no plans anyway.
    quirk = [(0,), (0,)] if engine.dialect.name == "sqlite" else []
    assert [parameters for _, parameters in statements if parameters] == quirk
    assert "LIMIT 50 OFFSET 50" in statements[0][0] and "'new_individual'" in statements[0][0]


def test_only_whole_numbers_and_enum_members_are_inlined_into_sql():
    from certsvc.core.sql import inlined

    for value in ("1 OR 1=1", 1.5, True, None):
        with pytest.raises(TypeError):
            inlined(value)
