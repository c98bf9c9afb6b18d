"""Account and role administration pages: who may do what, what each action changes and records."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from certsvc.accounts.models import Account, Role, RoleAssignment
from certsvc.audit.models import AuditEntry
from certsvc.orgs.models import OrgKind
from certsvc.people.models import Person
from tests.conftest import PASSWORD, add_account, add_org

BASE = "/admin/accounts"
NEW_PASSWORD = "Mot-mat-khau-moi-9"
_SECRET = re.compile(r'<code class="secret">([^<]+)</code>')


def _actions(session) -> list[str]:
    return [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


class Audit:
    """The audit entries written after a point in a test."""

    def __init__(self, session):
        self.session = session
        self.mark = len(_actions(session))

    def since(self) -> list[str]:
        return _actions(self.session)[self.mark :]

    def last_entry(self) -> AuditEntry:
        return self.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()


def _fresh(session, account: Account) -> Account:
    session.expire_all()
    return session.get(Account, account.id)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _one_time_password(response) -> str:
    found = _SECRET.findall(_text(response))
    assert len(found) == 1, "the page shows exactly one one-time password"
    return found[0]


def _nav(page: str) -> str:
    return page.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]


def _session_cookie(app, browser) -> dict:
    cookie = browser.client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    if cookie is None:
        return {}
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


@pytest.fixture
def admin(make_browser, world):
    browser = make_browser()
    assert browser.login("administrator").status_code == 302
    return browser


@pytest.fixture
def newcomer(session, world) -> Person:
    person = Person(
        full_name="Nguyễn Thị Hoà", position="Công chức Văn hóa - Xã hội", organisation=world.orgs["commune"]
    )
    session.add(person)
    session.commit()
    return person


def test_admin_creates_an_account_shown_once_and_forced_to_change_password(app, admin, make_browser, newcomer, session):
    form_page = admin.get(f"{BASE}/new?person_id={newcomer.id}")
    assert form_page.status_code == 200
    assert re.search(
        rf'<option selected value="{newcomer.id}">|<option value="{newcomer.id}" selected', _text(form_page)
    )
    audit = Audit(session)

    created = admin.post(f"{BASE}/new", {"person_id": newcomer.id, "username": "Hoa.NT"})

    assert created.status_code == 200
    password = _one_time_password(created)
    page = _text(created)
    assert "chỉ hiển thị một lần" in page and "bàn giao trực tiếp" in page and "hoa.nt" in page
    assert created.headers["Cache-Control"] == "no-store"
    assert audit.since() == ["account.created"]
    account = session.scalar(select(Account).where(Account.username == "hoa.nt"))
    assert account.person_id == newcomer.id and account.must_change_password
    assert password not in audit.last_entry().details

    # Never again: not on the account page, the list, nor in the (signed, readable) session cookie.
    assert password not in _text(admin.get(f"{BASE}/{account.id}"))
    assert password not in _text(admin.get(f"{BASE}/"))
    assert password not in repr(_session_cookie(app, admin))

    user = make_browser()
    response = user.login("hoa.nt", password)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")
    for url in ("/", f"{BASE}/", "/audit/"):
        response = user.get(url)
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")
    changed = user.post(
        "/account/password",
        {
            "current_password": password,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert user.get("/").status_code == 200


def test_new_account_form_lists_only_people_without_account_in_scope(admin, newcomer, session, world):
    other = add_org(
        session, None, "x", "UBND huyện Tràng Định", "UBND", OrgKind.DISTRICT_COMMITTEE, world.orgs["province"]
    )
    session.add(Person(full_name="Người Huyện Khác", organisation=other))
    session.add(Person(full_name="Người Đã Nghỉ", organisation=world.orgs["commune"], is_active=False))
    session.commit()
    page = _text(admin.get(f"{BASE}/new"))
    assert "Nguyễn Thị Hoà" in page
    assert "Người Huyện Khác" not in page  # another district: outside this administrator's scope
    assert "Người Đã Nghỉ" not in page
    assert "Cán bộ clerk" not in page  # already has an account
    stale = admin.get(f"{BASE}/new?person_id={world.account('clerk').person_id}")
    assert stale.status_code == 200 and "đã có tài khoản" in _text(stale)


def test_duplicate_username_is_refused_with_a_message(admin, newcomer, session):
    audit = Audit(session)
    response = admin.post(f"{BASE}/new", {"person_id": newcomer.id, "username": "clerk"})
    assert response.status_code == 400
    assert "Tên đăng nhập này đã có người dùng." in _text(response)
    assert _SECRET.search(_text(response)) is None
    assert audit.since() == []
    assert session.scalar(select(Account).where(Account.person_id == newcomer.id)) is None


def test_invalid_username_is_refused(admin, newcomer, session):
    audit = Audit(session)
    response = admin.post(f"{BASE}/new", {"person_id": newcomer.id, "username": "Hoà Nguyễn"})
    assert response.status_code == 400
    assert "chữ thường không dấu" in _text(response)
    assert audit.since() == []


def test_reset_password_ends_sessions_and_the_old_password(admin, make_browser, session, world):
    clerk = make_browser()
    clerk.login("clerk")
    assert clerk.get("/").status_code == 200
    account = world.account("clerk")
    audit = Audit(session)

    response = admin.post(f"{BASE}/{account.id}/reset-password")

    assert response.status_code == 200
    password = _one_time_password(response)
    assert "Mật khẩu cũ không còn dùng được" in _text(response)
    assert audit.since() == ["account.password_reset"]
    assert clerk.get("/").status_code == 302  # the open session has ended
    assert make_browser().login("clerk", PASSWORD).status_code == 401
    response = make_browser().login("clerk", password)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")
    assert password not in _text(admin.get(f"{BASE}/{account.id}"))


def test_disabled_account_cannot_log_in_and_enable_restores(admin, make_browser, session, world):
    clerk = make_browser()
    clerk.login("clerk")
    account = world.account("clerk")
    audit = Audit(session)

    response = admin.post(f"{BASE}/{account.id}/disable")

    assert response.status_code == 302 and response.headers["Location"].endswith(f"{BASE}/{account.id}")
    page = _text(admin.get(response.headers["Location"]))
    assert "Đã vô hiệu hóa tài khoản clerk" in page and "vô hiệu hóa</span>" in page
    assert _fresh(session, account).is_disabled
    assert audit.since() == ["account.disabled"]
    assert clerk.get("/").status_code == 302
    refused = make_browser().login("clerk")
    assert refused.status_code == 403 and "vô hiệu hóa" in _text(refused)
    assert "clerk" in _text(admin.get(f"{BASE}/?state=disabled"))

    audit = Audit(session)
    assert admin.post(f"{BASE}/{account.id}/enable").status_code == 302
    assert audit.since() == ["account.enabled"]
    assert not _fresh(session, account).is_disabled
    assert make_browser().login("clerk").status_code == 302


def test_unlock_clears_a_lock_made_by_failed_logins(app, admin, make_browser, session, world):
    app.config["CERTSVC_LOGIN_THROTTLE_AFTER"] = 100
    app.config["CERTSVC_LOGIN_LOCK_AFTER"] = 2
    reviewer = make_browser()
    reviewer.login("reviewer", "sai-mat-khau-roi")
    assert reviewer.login("reviewer", "sai-mat-khau-roi").status_code == 429
    assert reviewer.login("reviewer").status_code == 429
    account = world.account("reviewer")
    page = _text(admin.get(f"{BASE}/{account.id}"))
    assert "tạm khóa đến" in page and "Mở khóa" in page
    assert "reviewer" in _text(admin.get(f"{BASE}/?state=locked"))
    audit = Audit(session)

    response = admin.post(f"{BASE}/{account.id}/unlock")

    assert response.status_code == 302
    assert "Đã mở khóa tài khoản reviewer" in _text(admin.get(response.headers["Location"]))
    assert audit.since() == ["account.unlocked"]
    assert _fresh(session, account).locked_until is None
    assert reviewer.login("reviewer").status_code == 302
    assert "Mở khóa" not in _text(admin.get(f"{BASE}/{account.id}"))


def test_grant_then_revoke_role_changes_the_navigation(admin, make_browser, session, world):
    clerk = make_browser()
    clerk.login("clerk")
    assert "Nhật ký" not in _nav(_text(clerk.get("/")))
    account = world.account("clerk")
    audit = Audit(session)

    response = admin.post(f"{BASE}/{account.id}/roles", {"organisation_id": world.orgs["office"].id, "role": "auditor"})

    assert response.status_code == 302
    assert "Đã giao vai trò Kiểm tra, giám sát tại Văn phòng HĐND và UBND huyện" in _text(
        admin.get(response.headers["Location"])
    )
    assert audit.since() == ["role.granted"]
    assert "Nhật ký" in _nav(_text(clerk.get("/")))

    assignment = session.scalar(
        select(RoleAssignment).where(RoleAssignment.account_id == account.id, RoleAssignment.role == Role.AUDITOR)
    )
    audit = Audit(session)
    response = admin.post(f"{BASE}/{account.id}/roles/{assignment.id}/revoke")
    assert response.status_code == 302
    assert "Đã thu hồi vai trò Kiểm tra, giám sát" in _text(admin.get(response.headers["Location"]))
    assert audit.since() == ["role.revoked"]
    assert "Nhật ký" not in _nav(_text(clerk.get("/")))


def test_duplicate_role_is_refused_and_changes_nothing(admin, session, world):
    account = world.account("clerk")
    audit = Audit(session)
    response = admin.post(f"{BASE}/{account.id}/roles", {"organisation_id": world.orgs["office"].id, "role": "clerk"})
    assert response.status_code == 302
    assert "đã có vai trò này" in _text(admin.get(response.headers["Location"]))
    assert audit.since() == []
    assert len(_fresh(session, account).roles) == 1


def test_admin_cannot_disable_themself_nor_revoke_own_administrator_role(admin, session, world):
    me = world.account("administrator")
    own_admin = me.roles[0]
    page = _text(admin.get(f"{BASE}/{me.id}"))
    assert "Vô hiệu hóa</button>" not in page and "Không thể tự thu hồi" in page
    audit = Audit(session)

    response = admin.post(f"{BASE}/{me.id}/disable")
    assert response.status_code == 302
    assert "Không thể tự khóa tài khoản của chính mình." in _text(admin.get(response.headers["Location"]))

    response = admin.post(f"{BASE}/{me.id}/roles/{own_admin.id}/revoke")
    assert response.status_code == 302
    assert "Không thể tự giao hoặc thu hồi vai trò của chính mình." in _text(admin.get(response.headers["Location"]))

    me = _fresh(session, me)
    assert not me.is_disabled and [r.role for r in me.roles] == [Role.ADMINISTRATOR]
    assert audit.since() == []


def test_auditor_sees_the_list_but_may_change_nothing(make_browser, session, world, newcomer):
    auditor = make_browser()
    auditor.login("auditor")
    listing = auditor.get(f"{BASE}/")
    assert listing.status_code == 200
    page = _text(listing)
    for username in ("administrator", "clerk", "unitofficer"):
        assert f">{username}</a>" in page
    assert "Tạo tài khoản" not in page
    assert "Quản trị hệ thống" in page and "tại UBND huyện Văn Quan" in page
    clerk = world.account("clerk")
    details = auditor.get(f"{BASE}/{clerk.id}")
    assert details.status_code == 200
    assert "Đặt lại mật khẩu" not in _text(details) and "Giao vai trò" not in _text(details)

    audit = Audit(session)
    assignment = clerk.roles[0]
    for url, data in [
        (f"{BASE}/new", {"person_id": newcomer.id, "username": "hoa.nt"}),
        (f"{BASE}/{clerk.id}/reset-password", {}),
        (f"{BASE}/{clerk.id}/disable", {}),
        (f"{BASE}/{clerk.id}/enable", {}),
        (f"{BASE}/{clerk.id}/unlock", {}),
        (f"{BASE}/{clerk.id}/roles", {"organisation_id": world.orgs["office"].id, "role": "auditor"}),
        (f"{BASE}/{clerk.id}/roles/{assignment.id}/revoke", {}),
        (f"{BASE}/999999/disable", {}),
    ]:
        assert auditor.post(url, data).status_code == 403, url
    assert auditor.get(f"{BASE}/new").status_code == 403
    assert audit.since() == []


def test_unit_head_may_not_see_accounts(make_browser, world):
    head = make_browser()
    head.login("unithead")
    assert head.get(f"{BASE}/").status_code == 403
    assert head.get(f"{BASE}/{world.account('clerk').id}").status_code == 403
    assert "Tài khoản</a>" not in _nav(_text(head.get("/")))


def test_commune_administrator_cannot_manage_a_district_account(make_browser, session, world):
    commune = world.orgs["commune"]
    add_account(session, "qtxa", commune, (Role.ADMINISTRATOR, commune))
    session.commit()
    browser = make_browser()
    browser.login("qtxa")
    page = _text(browser.get(f"{BASE}/"))
    assert ">unitofficer</a>" in page and ">clerk</a>" not in page and ">administrator</a>" not in page

    district_account = world.account("auditor")
    audit = Audit(session)
    assert browser.get(f"{BASE}/{district_account.id}").status_code == 403
    assert browser.post(f"{BASE}/{district_account.id}/disable").status_code == 403
    assert browser.post(f"{BASE}/{district_account.id}/reset-password").status_code == 403
    # Nor raise a commune account to the district through a tampered organisation.
    officer = world.account("unit_officer")
    response = browser.post(
        f"{BASE}/{officer.id}/roles", {"organisation_id": world.orgs["district"].id, "role": "administrator"}
    )
    assert response.status_code == 400
    assert audit.since() == []
    assert not _fresh(session, district_account).is_disabled
    # What is in scope works.
    assert browser.post(f"{BASE}/{officer.id}/disable").status_code == 302
    assert audit.since() == ["account.disabled"]


def test_post_without_csrf_token_is_refused(admin, session, world):
    clerk = world.account("clerk")
    audit = Audit(session)
    response = admin.post(f"{BASE}/{clerk.id}/disable", csrf=False)
    assert response.status_code == 400 and "CSRF" in _text(response)
    assert not _fresh(session, clerk).is_disabled
    assert audit.since() == []


@pytest.mark.parametrize(
    "data",
    [
        {"person_id": "abc", "username": "hoa.nt"},
        {"person_id": "999999", "username": "hoa.nt"},
        {"person_id": str(2**70), "username": "hoa.nt"},
        {"person_id": "", "username": "hoa.nt"},
    ],
)
def test_tampered_person_is_refused(admin, newcomer, session, data):
    audit = Audit(session)
    response = admin.post(f"{BASE}/new", data)
    assert response.status_code == 400
    assert ("Chọn cán bộ." if not data["person_id"] else "Lựa chọn không hợp lệ") in _text(response)
    assert audit.since() == []


@pytest.mark.parametrize(
    "data",
    [
        {"organisation_id": "x", "role": "auditor"},
        {"organisation_id": "{office}", "role": "superuser"},
        {"organisation_id": "{office}", "role": ""},
        {"organisation_id": str(2**70), "role": "auditor"},
    ],
)
def test_tampered_grant_is_refused(admin, session, world, data):
    data = {key: value.format(office=world.orgs["office"].id) for key, value in data.items()}
    audit = Audit(session)
    response = admin.post(f"{BASE}/{world.account('clerk').id}/roles", data)
    assert response.status_code == 400
    assert ("Chọn vai trò." if not data["role"] else "Lựa chọn không hợp lệ") in _text(response)
    assert audit.since() == []


@pytest.mark.parametrize("query", ["organisation_id=abc", "state=superuser", f"organisation_id={2**70}"])
def test_tampered_list_filter_is_refused(admin, query):
    response = admin.get(f"{BASE}/?{query}")
    assert response.status_code == 400
    assert "Lựa chọn không hợp lệ" in _text(response)


def test_list_filters_by_organisation_and_state(admin, session, world):
    commune_only = _text(admin.get(f"{BASE}/?organisation_id={world.orgs['commune'].id}"))
    assert ">unitofficer</a>" in commune_only and ">clerk</a>" not in commune_only
    account = _fresh(session, world.account("unit_head"))
    account.must_change_password = True
    session.commit()
    must_change = _text(admin.get(f"{BASE}/?state=must_change_password"))
    assert ">unithead</a>" in must_change and ">unitofficer</a>" not in must_change
    assert "phải đổi mật khẩu" in must_change
    active = _text(admin.get(f"{BASE}/?state=active"))
    assert ">unithead</a>" in active and "hoạt động" in active


def test_missing_records_are_not_found(admin, session, world):
    clerk, reviewer = world.account("clerk"), world.account("reviewer")
    assert admin.get(f"{BASE}/999999").status_code == 404
    assert admin.get(f"{BASE}/{2**70}").status_code == 404
    assert admin.post(f"{BASE}/999999/unlock").status_code == 404
    audit = Audit(session)
    # A role of another account, named under this one's address.
    response = admin.post(f"{BASE}/{clerk.id}/roles/{reviewer.roles[0].id}/revoke")
    assert response.status_code == 404
    assert admin.post(f"{BASE}/{clerk.id}/roles/999999/revoke").status_code == 404
    assert audit.since() == []
    assert len(_fresh(session, reviewer).roles) == 1


def test_actions_that_change_nothing_write_nothing(admin, session, world):
    clerk = world.account("clerk")
    audit = Audit(session)
    response = admin.post(f"{BASE}/{clerk.id}/enable")
    assert "không có gì thay đổi" in _text(admin.get(response.headers["Location"]))
    response = admin.post(f"{BASE}/{clerk.id}/unlock")
    assert "không có gì thay đổi" in _text(admin.get(response.headers["Location"]))
    assert audit.since() == []


def test_admin_resetting_their_own_password_keeps_the_session_and_must_change_it(admin, session, world):
    me = world.account("administrator")
    response = admin.post(f"{BASE}/{me.id}/reset-password")
    assert response.status_code == 200
    password = _one_time_password(response)
    follow = admin.get(f"{BASE}/")
    assert follow.status_code == 302 and follow.headers["Location"].endswith("/account/password")
    changed = admin.post(
        "/account/password",
        {
            "current_password": password,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert admin.get(f"{BASE}/").status_code == 200
