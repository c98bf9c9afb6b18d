"""What the abuse run found in accounts: own roles (item 7), API tokens outliving a password or a
disabling (item 11), login throttling and weak passwords (item 12)."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from certsvc.accounts.administration import grant_role
from certsvc.accounts.api_token_models import ApiToken
from certsvc.accounts.api_tokens import create_token
from certsvc.accounts.models import Account, LoginThrottle, Role, RoleAssignment
from certsvc.errors import Conflict
from tests.accounts.conftest import audit_actions, login_from
from tests.conftest import PASSWORD, Browser

ADMIN = "/admin/accounts"
WRONG = "sai-mat-khau-roi"
NEW_PASSWORD = "Mot-mat-khau-moi-9"
_ALERT = re.compile(r'role="alert">([^<]*)<')


def _alert(response) -> str:
    found = _ALERT.search(response.get_data(as_text=True))
    return found.group(1) if found else ""


def _roles(session, account: Account) -> list[tuple[Role, int]]:
    session.expire_all()
    return sorted((a.role, a.organisation_id) for a in session.get(Account, account.id).roles)


@pytest.fixture
def admin(make_browser, world):
    browser = make_browser()
    assert browser.login("administrator").status_code == 302
    return browser


# --- item 7: nobody changes their own roles ---------------------------------------------------------


def test_an_administrator_cannot_grant_himself_a_role(admin, world, session):
    me = world.account("administrator")
    before, actions = _roles(session, me), audit_actions(session)

    response = admin.post(f"{ADMIN}/{me.id}/roles", {"organisation_id": world.orgs["commune"].id, "role": "unit_head"})

    assert response.status_code == 302
    assert "Không thể tự giao hoặc thu hồi vai trò của chính mình" in admin.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert _roles(session, me) == before
    assert audit_actions(session) == actions


def test_an_administrator_cannot_revoke_any_role_of_his_own(admin, world, session):
    me = world.account("administrator")
    extra = RoleAssignment(account_id=me.id, organisation_id=world.orgs["district"].id, role=Role.AUDITOR)
    session.add(extra)
    session.commit()
    before, actions = _roles(session, me), audit_actions(session)

    response = admin.post(f"{ADMIN}/{me.id}/roles/{extra.id}/revoke")

    assert response.status_code == 302
    assert "Không thể tự giao hoặc thu hồi vai trò" in admin.get(response.headers["Location"]).get_data(as_text=True)
    assert _roles(session, me) == before
    assert audit_actions(session) == actions


def test_own_account_page_offers_no_role_changes_and_the_service_agrees(admin, world, session):
    me = world.account("administrator")
    page = admin.get(f"{ADMIN}/{me.id}").get_data(as_text=True)
    assert "Giao thêm vai trò" not in page and "cần một quản trị viên khác" in page
    assert "Giao thêm vai trò" in admin.get(f"{ADMIN}/{world.account('clerk').id}").get_data(as_text=True)
    with pytest.raises(Conflict) as refused:
        grant_role(session, me, me, world.orgs["district"].id, Role.AUDITOR)
    assert refused.value.code == "own_roles"
    session.rollback()


# --- item 11: API tokens end with the password and the disabling ----------------------------------


def _token(app, session, account: Account) -> tuple:
    _, secret = create_token(session, account, {"name": "đồng bộ"})
    session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    return client, headers


def test_a_password_reset_revokes_the_accounts_api_tokens(app, admin, world, session):
    clerk = world.account("clerk")
    client, headers = _token(app, session, clerk)

    assert admin.post(f"{ADMIN}/{clerk.id}/reset-password").status_code == 200

    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))) == 0
    assert audit_actions(session)[-2:] == ["api_token.revoked", "account.password_reset"]


def test_a_password_change_revokes_the_accounts_api_tokens(app, browser, world, session):
    client, headers = _token(app, session, world.account("auditor"))
    browser.login("auditor")
    assert (
        browser.post(
            "/account/password",
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
        ).status_code
        == 302
    )
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_tokens_of_a_disabled_account_do_not_come_back_when_it_is_enabled(app, admin, world, session):
    clerk = world.account("clerk")
    client, headers = _token(app, session, clerk)
    assert admin.post(f"{ADMIN}/{clerk.id}/disable").status_code == 302
    assert admin.post(f"{ADMIN}/{clerk.id}/enable").status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_an_account_that_must_change_its_password_is_refused_by_the_api(app, world, session):
    clerk = world.account("clerk")
    client, headers = _token(app, session, clerk)
    clerk.must_change_password = True
    session.commit()

    response = client.get("/api/v1/me", headers=headers)

    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "password_change_required" and "đổi mật khẩu" in error["message"]


# --- item 12: throttling per address, unknown names like known ones, weak passwords ------------------


def test_unknown_and_known_usernames_get_the_same_answers(browser, world, clock):
    answers = {}
    for address, username in (("10.0.0.1", "clerk"), ("10.0.0.2", "khong-co-ai")):
        answers[username] = [
            (response.status_code, _alert(response))
            for response in (login_from(browser, address, username, WRONG) for _ in range(4))
        ]
    assert answers["clerk"] == answers["khong-co-ai"]
    assert [status for status, _ in answers["clerk"]] == [401, 401, 401, 429]


def test_unknown_and_known_usernames_are_locked_alike(app, browser, world, clock):
    app.config["CERTSVC_LOGIN_THROTTLE_AFTER"] = 100
    app.config["CERTSVC_LOGIN_LOCK_AFTER"] = 3
    answers = {}
    for username in ("clerk", "khong-co-ai"):
        answers[username] = [
            (response.status_code, _alert(response))
            for response in (login_from(browser, f"10.0.1.{n}", username, WRONG) for n in range(4))
        ]
    assert answers["clerk"] == answers["khong-co-ai"]
    assert [status for status, _ in answers["clerk"]] == [401, 401, 429, 429]
    assert "tạm khóa" in answers["clerk"][-1][1]


def test_failures_from_one_address_slow_that_address_not_the_account(browser, make_browser, world, clock):
    for _ in range(3):
        assert login_from(browser, "10.0.0.66", "clerk", WRONG).status_code == 401
    assert login_from(browser, "10.0.0.66", "clerk", PASSWORD).status_code == 429
    # The clerk, at her own desk, is not shut out by someone guessing elsewhere.
    assert login_from(make_browser(), "10.0.0.7", "clerk", PASSWORD).status_code == 302


def test_spraying_one_password_over_many_accounts_is_slowed(browser, world, clock):
    statuses = [
        login_from(browser, "10.0.0.66", name, "Matkhau@2026").status_code
        for name in ("clerk", "reviewer", "auditor", "unithead", "focalofficer")
    ]
    assert statuses == [401, 401, 401, 429, 429]
    clock.advance(seconds=1)
    assert login_from(browser, "10.0.0.66", "unitofficer", "Matkhau@2026").status_code == 401
    assert login_from(browser, "10.0.0.66", "administrator", "Matkhau@2026").status_code == 429


def test_failure_counts_are_forgotten_after_a_quiet_period(app, browser, world, session, clock):
    for _ in range(3):
        assert login_from(browser, "10.0.0.66", "clerk", WRONG).status_code == 401
    clock.advance(minutes=app.config["CERTSVC_LOGIN_LOCK_MINUTES"])
    assert login_from(browser, "10.0.0.66", "clerk", WRONG).status_code == 401
    assert login_from(browser, "10.0.0.66", "clerk", WRONG).status_code == 401
    session.expire_all()
    assert session.get(Account, world.account("clerk").id).failed_login_count == 2


def test_the_address_is_the_forwarded_one_behind_a_proxy(make_app, world, clock):
    app = make_app(CERTSVC_BEHIND_PROXY=True, CERTSVC_CLOCK=clock)
    browser = Browser(app.test_client())

    def attempt(forwarded_for: str) -> int:
        browser.csrf_token = None
        return browser.post(
            "/login", {"username": "clerk", "password": WRONG}, headers={"X-Forwarded-For": forwarded_for}
        ).status_code

    assert [attempt("203.0.113.5") for _ in range(4)] == [401, 401, 401, 429]
    assert attempt("203.0.113.6") == 401


def test_concurrent_failures_from_one_address_are_all_counted(app, world, session, clock):
    attempts = 6
    browsers = [Browser(app.test_client()) for _ in range(attempts)]
    for browser in browsers:
        browser._refresh_token()
    barrier = threading.Barrier(attempts)
    statuses: list[int] = []

    def attempt(browser: Browser) -> None:
        barrier.wait()
        response = browser.post(
            "/login", {"username": "clerk", "password": WRONG}, environ_base={"REMOTE_ADDR": "10.0.0.66"}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(browser,)) for browser in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [401, 401, 401, 429, 429, 429]
    session.expire_all()
    counted = session.scalar(select(LoginThrottle.failed_login_count).where(LoginThrottle.key == "10.0.0.66"))
    assert counted == 3 and session.get(Account, world.account("clerk").id).failed_login_count == 3


def test_the_csrf_token_changes_at_login(browser, world):
    browser.get("/login")
    before = browser._refresh_token()
    browser.login("clerk")
    assert browser.csrf_token != before
    response = browser.post("/logout", csrf=False, data={"csrf_token": before})
    assert response.status_code == 400
    assert browser.get("/").status_code == 200


@pytest.mark.parametrize(
    "weak, message",
    [
        ("Matkhau@123", "quá phổ biến"),
        ("qwertyuiop", "quá phổ biến"),
        ("auditor-2026-xyz", "không được chứa tên đăng nhập"),
        ("Ngan-9", "ít nhất 10 ký tự"),
    ],
)
def test_weak_new_passwords_are_refused(browser, world, session, weak, message):
    browser.login("auditor")
    actions = audit_actions(session)
    response = browser.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": weak,
            "confirm_password": weak,
        },
    )
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert audit_actions(session) == actions
    assert browser.login("auditor", PASSWORD).status_code == 302
