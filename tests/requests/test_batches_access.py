"""Who may see a batch, its letter and annexes (the focal officer and auditors, not the officers of the focal
office's own unit), and the annex CSV as a spreadsheet opens it."""

from __future__ import annotations

import csv
import io

import pytest

from certsvc.accounts.models import Role
from certsvc.errors import PermissionDenied
from certsvc.requests import batches
from certsvc.requests.models import RequestStatus
from certsvc.requests.papers.annex import AnnexTable
from certsvc.requests.papers.annex_tables import build_annex_csv
from tests.conftest import add_account
from tests.support.api import Api
from tests.support.requests import bring_to, draft, focal, individual, open_batch

DOCUMENTS = ("letter.pdf", "annex.pdf", "annex.xlsx", "annex.csv")
#: A value as people type it that a spreadsheet reads as a formula (``- Công`` …).
POSITION = "- Công chức Văn hóa - Xã hội"


@pytest.fixture
def locked(session, world):
    """A locked batch with one request of the commune, whose position a spreadsheet would run as a formula."""
    request = bring_to(
        session,
        world,
        draft(session, world, fields=individual(full_name="Hoàng Thị Mai", position=POSITION)),
        RequestStatus.ACCEPTED,
    )
    batch = open_batch(session, world)
    batches.add_requests(session, focal(world), batch, [request.id])
    batches.lock_batch(session, focal(world), batch)
    session.commit()
    return batch


@pytest.fixture
def own_unit(session, world):
    """An officer and a head of the focal office's own unit (Phòng Văn hóa và Thông tin), not focal officers."""
    office = world.orgs["focal"]
    accounts = [
        add_account(session, "canbovhtt", office, (Role.UNIT_OFFICER, office)),
        add_account(session, "truongphongvhtt", office, (Role.UNIT_HEAD, office)),
    ]
    session.commit()
    return accounts


def _pages(batch) -> list[str]:
    return [
        "/requests/batches",
        f"/requests/batches/{batch.id}",
        *(f"/requests/batches/{batch.id}/documents/{name}" for name in DOCUMENTS),
    ]


@pytest.mark.parametrize("username", ["canbovhtt", "truongphongvhtt"])
def test_officers_of_the_focal_office_s_unit_are_refused_every_batch_page(browser, locked, own_unit, username):
    browser.login(username)
    for url in _pages(locked):
        response = browser.get(url)
        assert response.status_code == 403, url
        page = response.get_data(as_text=True)
        assert "Hoàng Thị Mai" not in page and "Không có quyền" in page


@pytest.mark.parametrize("username", ["focalofficer", "auditor"])
def test_the_focal_officer_and_the_auditor_see_every_batch_page(browser, locked, username):
    browser.login(username)
    for url in _pages(locked):
        assert browser.get(url).status_code == 200, url


def test_the_api_refuses_them_the_list_and_the_batch(app, session, world, locked, own_unit):
    for account in own_unit:
        api = Api(app, session, account)
        api.refused("GET", "/batches", status=403, code="forbidden")
        api.refused("GET", f"/batches/{locked.id}", status=403, code="forbidden")
    answer = Api(app, session, world.account(Role.FOCAL_OFFICER)).get(f"/batches/{locked.id}")
    assert answer["requests"][0]["id"] == locked.requests[0].id


def test_the_service_decides(session, world, locked, own_unit):
    for account in own_unit:
        with pytest.raises(PermissionDenied):
            batches.get_batch(session, account, locked.id)
        with pytest.raises(PermissionDenied):
            batches.batches_in_scope(session, account)
    assert batches.get_batch(session, world.account(Role.AUDITOR), locked.id) is not None
    assert [b.id for b in batches.batches_in_scope(session, world.account(Role.FOCAL_OFFICER))] == [locked.id]


# --- the annex CSV -------------------------------------------------------------------------------------


def test_annex_csv_says_its_charset_once_and_neutralises_formulas(browser, locked):
    browser.login("focalofficer")
    response = browser.get(f"/requests/batches/{locked.id}/documents/annex.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))
    assert [row["Chức vụ"] for row in rows] == ["'" + POSITION]


@pytest.mark.parametrize("value", ["=1+1", "+84912345678", "-2+3", "@SUM(A1)", "\t=1"])
def test_annex_csv_cells_a_spreadsheet_would_run_get_an_apostrophe(value):
    table = AnnexTable(title="Bảng 1. Thử", columns=["Ghi chú", "Họ và tên"], rows=[[value, "Lê Văn Bình"]])
    (row,) = csv.DictReader(io.StringIO(build_annex_csv([table]).decode("utf-8-sig"), newline=""))
    assert row["Ghi chú"] == "'" + value
    assert row["Họ và tên"] == "Lê Văn Bình" and row["STT"] == "1"
