"""Who did something is shown by the person's name, the login name beside it, on every page that says
who acted: the request timeline and its "returned" note, the token timeline, the custody register's
entry and yearly book, the audit log. What the audit log and the registers store stays the login name."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import event, select

from certsvc.accounts.actors import ActorName, ActorNames, actor_names
from certsvc.accounts.models import Role
from certsvc.audit.models import AuditEntry
from certsvc.audit.service import verify_chain
from certsvc.extensions import db
from certsvc.registry.models import TokenState
from certsvc.registry.tokens import change_state
from certsvc.requests.models import RequestEvent, RequestStatus
from certsvc.requests.transitions import Action, apply_transition
from tests.conftest import add_account
from tests.support.registry import add_certificate
from tests.support.requests import draft, focal, head

NAMES = {Role.UNIT_OFFICER: "Vi Văn Tùng", Role.UNIT_HEAD: "Nông Văn Khánh", Role.FOCAL_OFFICER: "Lương Thị Hằng"}
REASON = "Ghi đủ chức danh theo quyết định tuyển dụng"


@pytest.fixture
def named(session, world):
    """The world's people with real names (theirs otherwise contain the login name)."""
    for role, full_name in NAMES.items():
        world.account(role).person.full_name = full_name
    session.commit()
    return world


def _signed_in(make_browser, username):
    browser = make_browser()
    assert browser.login(username).status_code == 302
    return browser


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _shown(name: str, login: str) -> str:
    return f'<span class="actor" title="Tài khoản: {login}">{name}</span>'


def test_request_timeline_and_returned_note_name_people(session, named, make_browser):
    request = draft(session, named)
    apply_transition(session, head(named), request, Action.APPROVE_SUBMIT)
    apply_transition(session, focal(named), request, Action.RETURN, REASON)
    session.commit()
    page = _text(_signed_in(make_browser, "unitofficer").get(f"/requests/{request.id}"))
    note = page.split('class="card returned-note"', 1)[1].split("</section>", 1)[0]
    assert _shown("Lương Thị Hằng", "focalofficer") in note and REASON in note
    timeline = page.split("<h2>Diễn biến</h2>", 1)[1]
    for role, login in (
        (Role.UNIT_OFFICER, "unitofficer"),
        (Role.UNIT_HEAD, "unithead"),
        (Role.FOCAL_OFFICER, "focalofficer"),
    ):
        assert _shown(NAMES[role], login) in timeline
    # The login names are no longer what a reader sees: only in the title attributes.
    visible = re.sub(r"<[^>]+>", " ", page)
    for login in ("unitofficer", "unithead", "focalofficer"):
        assert login not in visible.split("Đăng xuất", 1)[1]


def test_request_page_reads_the_names_in_one_query(app, session, named, make_browser):
    """However many people acted, their names cost the page the same queries (no query per event)."""
    few, many = draft(session, named), draft(session, named)
    org = named.orgs["commune"]
    for number in range(8):
        account = add_account(session, f"canbo{number}", org, (Role.UNIT_OFFICER, org), full_name=f"Người sửa {number}")
        session.add(
            RequestEvent(
                request_id=many.id,
                action="edit",
                from_status=RequestStatus.DRAFT,
                to_status=RequestStatus.DRAFT,
                actor_id=account.id,
                actor_label=account.username,
            )
        )
    session.commit()
    browser = _signed_in(make_browser, "unitofficer")
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        sizes = []
        for request in (few, many):
            statements.clear()
            page = _text(browser.get(f"/requests/{request.id}"))
            sizes.append(len(statements))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert all(f"Người sửa {number}" in page for number in range(8))
    assert sizes[0] == sizes[1], sizes


def test_token_timeline_names_who_changed_the_state(session, named, make_browser):
    certificate = add_certificate(session, named.orgs["commune"])
    change_state(session, focal(named), certificate.token, TokenState.PIN_LOCKED, "Nhập sai mã PIN 10 lần")
    session.commit()
    page = _text(_signed_in(make_browser, "focalofficer").get(f"/registry/tokens/{certificate.token_id}"))
    timeline = page.split("<h2>Diễn biến</h2>", 1)[1]
    assert f"<td>{_shown('Lương Thị Hằng', 'focalofficer')}</td>" in timeline
    # The test's own actor is no account: its label stays.
    assert '<td><span class="actor">test</span></td>' in timeline


def test_custody_entry_and_book_name_who_recorded(seal, make_browser):
    browser = _signed_in(make_browser, seal.head.username)
    page = _text(browser.get(f"/custody/entries/{seal.received.seq}"))
    assert f"bởi {_shown('Hoàng Thị Thu', seal.keeper.username)}</dd>" in page
    year, org_id = seal.received.occurred_at.year, seal.token.organisation_id
    book = _text(browser.get(f"/custody/units/{org_id}/book-{year}.csv")).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(book)))
    recorder = rows[0].index("Người ghi")
    assert rows[1][recorder] == f"Hoàng Thị Thu ({seal.keeper.username})"


def test_audit_page_shows_the_name_beside_the_login(session, named, make_browser):
    auditor = named.account(Role.AUDITOR)
    auditor.person.full_name = "Lộc Văn Sơn"
    session.commit()
    browser = _signed_in(make_browser, auditor.username)
    page = _text(browser.get("/audit/?action=auth.login"))
    assert f'<td>Lộc Văn Sơn<br><code class="muted">{auditor.username}</code></td>' in page
    # The filter still takes the login name, as the entries hold it.
    filtered = _text(browser.get(f"/audit/?actor={auditor.username}"))
    assert f'<td>Lộc Văn Sơn<br><code class="muted">{auditor.username}</code></td>' in filtered


def test_what_is_stored_stays_the_login_name(session, named):
    request = draft(session, named)
    apply_transition(session, head(named), request, Action.APPROVE_SUBMIT)
    session.commit()
    labels = set(session.scalars(select(AuditEntry.actor_label).where(AuditEntry.object_type == "certificate_request")))
    assert labels == {"unitofficer", "unithead"}
    assert [e.actor_label for e in request.events] == ["unitofficer", "unithead"]
    assert verify_chain(session).ok


def test_actors_without_an_account(session, named):
    officer = named.account(Role.UNIT_OFFICER)

    class Row:
        def __init__(self, actor_id, actor_label):
            self.actor_id, self.actor_label = actor_id, actor_label

    rows = [
        Row(None, "system"),
        Row(None, "demo"),
        Row(None, "cli:root"),
        Row(officer.id, "unitofficer"),
        Row(10_000, "daxoa"),
    ]
    names = actor_names(session, rows)
    assert [names.of(row) for row in rows] == [
        ActorName("Hệ thống"),
        ActorName("Dữ liệu mẫu"),
        ActorName("Lệnh quản trị trên máy chủ (root)"),
        ActorName("Vi Văn Tùng", "unitofficer"),
        ActorName("daxoa"),
    ]
    assert str(names.of(rows[3])) == "Vi Văn Tùng (unitofficer)"
    assert ActorNames({}).of(rows[3]) == ActorName("unitofficer")
