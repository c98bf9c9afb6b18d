"""The audit log shows each viewer the entries of his own scope: a commune's auditor or administrator sees
the commune's entries, not the district's; custody entries only to those who may see the MẬT register;
entries of no organisation only to a viewer of the whole tree. The page (paged) and the CSV agree."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from certsvc.accounts.models import Account, Role
from certsvc.agents.models import SigningAgent
from certsvc.audit.service import SYSTEM, Actor, record
from certsvc.registry.models import Token, TokenKind
from tests.conftest import add_account

COMMUNE_CCCD = "020100000001"
OTHER_CCCD = "020100000002"


@pytest.fixture
def log(session, world):
    """Accounts of each scope, and one entry of each kind, by name."""
    commune, other, district = world.orgs["commune"], world.orgs["other_commune"], world.orgs["district"]
    province = world.orgs["province"]
    add_account(session, "kiemtoanxa", commune, (Role.AUDITOR, commune))
    add_account(session, "quantrixa", commune, (Role.ADMINISTRATOR, commune))
    add_account(session, "kiemtoantinh", province, (Role.AUDITOR, province))
    neighbour = add_account(session, "canboyenphuc", other, (Role.UNIT_OFFICER, other))
    seal = Token(serial="SEAL-HUYEN", kind=TokenKind.ORGANISATION, organisation_id=district.id, is_secret=True)
    own_seal = Token(serial="SEAL-XA", kind=TokenKind.ORGANISATION, organisation_id=commune.id, is_secret=True)
    session.add_all([seal, own_seal])
    session.flush()
    officer, focal = world.account(Role.UNIT_OFFICER), world.account(Role.FOCAL_OFFICER)
    agent = SigningAgent(
        account=officer, device_name="MAY-XA", credential_sha256="c" * 64, credential_prefix="cag1_abcdef"
    )
    session.add(agent)
    session.flush()
    by = Actor(label="quantri")
    entries = {
        "commune_person": record(session, by, "person.updated", "person", officer.person_id, {"cccd": COMMUNE_CCCD}),
        "other_person": record(session, by, "person.updated", "person", neighbour.person_id, {"cccd": OTHER_CCCD}),
        "commune_login": record(session, Actor.of(officer), "auth.login", "account", officer.id),
        # an agent belongs where its account does
        "commune_agent": record(session, Actor.of(officer), "agent.paired", "signing_agent", agent.id, {}),
        "focal_login": record(session, Actor.of(focal), "auth.login", "account", focal.id),
        "commune_custody": record(session, by, "custody.handover_started", "token", own_seal.id, {}),
        "district_custody": record(session, by, "custody.handover_completed", "token", seal.id, {}),
        "district_token": record(session, by, "token.registered", "token", seal.id, {}),
        "system": record(session, SYSTEM, "certificate.expiry_reminders", "certificate", None, {"count": 3}),
    }
    session.commit()
    return {name: entry.seq for name, entry in entries.items()}


def _seen_on_page(browser, log) -> set[str]:
    page = browser.get("/audit/").get_data(as_text=True)
    shown = {int(seq) for seq in re.findall(r'<td class="num">(\d+)</td>', page)}
    return {name for name, seq in log.items() if seq in shown}


def _seen_in_csv(browser, log) -> set[str]:
    response = browser.get("/audit/export.csv")
    assert response.status_code == 200
    shown = {int(row[0]) for row in list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))[1:]}
    return {name for name, seq in log.items() if seq in shown}


COMMUNE = {"commune_person", "commune_login", "commune_agent"}
DISTRICT = COMMUNE | {"other_person", "focal_login", "district_token"}
CUSTODY = {"commune_custody", "district_custody"}

EXPECTED = {
    "kiemtoanxa": COMMUNE | {"commune_custody"},
    "quantrixa": COMMUNE,  # no custody rights: no custody entries
    "administrator": DISTRICT,
    "auditor": DISTRICT | CUSTODY,
    "kiemtoantinh": DISTRICT | CUSTODY | {"system"},
}


@pytest.mark.parametrize("username", list(EXPECTED))
def test_each_viewer_sees_the_entries_of_his_scope(browser, log, username):
    browser.login(username)
    assert _seen_on_page(browser, log) == EXPECTED[username]
    assert _seen_in_csv(browser, log) == EXPECTED[username]


def test_a_commune_auditor_does_not_read_another_unit_s_data(browser, log):
    browser.login("kiemtoanxa")
    page = browser.get("/audit/").get_data(as_text=True)
    csv_text = browser.get("/audit/export.csv").get_data(as_text=True)
    for text in (page, csv_text):
        assert COMMUNE_CCCD in text
        assert OTHER_CCCD not in text and "SEAL-HUYEN" not in text and "focalofficer" not in text


def test_an_administrator_without_custody_rights_cannot_filter_his_way_to_custody_entries(browser, log):
    browser.login("administrator")
    page = browser.get("/audit/?action=custody.").get_data(as_text=True)
    assert "Không có mục nào khớp bộ lọc." in page
    assert browser.get("/audit/export.csv?object_type=token").get_data(as_text=True).count("custody.") == 0


def test_the_scope_is_applied_before_paging(session, browser, log):
    """Sixty newer entries of the other commune do not push the commune's entry off the first page."""
    neighbour = session.scalar(select(Account).where(Account.username == "canboyenphuc"))
    for number in range(60):
        record(session, Actor(label="quantri"), "person.updated", "person", neighbour.person_id, {"n": number})
    session.commit()
    browser.login("kiemtoanxa")
    page = browser.get("/audit/?action=person.updated").get_data(as_text=True)
    assert "Kết quả: 1 mục" in page
    assert re.findall(r'<td class="num">(\d+)</td>', page) == [str(log["commune_person"])]


@pytest.mark.parametrize("label", ["=cmd|' /C calc'!A0", "+1+1", "-1+1", "@SUM(1)", "\tx"])
def test_the_export_neutralises_every_formula_start(session, browser, log, label):
    entry = record(session, Actor(label=label), "system.demo_loaded", "organisation", None, {})
    session.commit()
    browser.login("kiemtoantinh")
    rows = list(csv.reader(io.StringIO(browser.get("/audit/export.csv").get_data(as_text=True)[1:])))
    assert [row[3] for row in rows if row[0] == str(entry.seq)] == ["'" + label]
