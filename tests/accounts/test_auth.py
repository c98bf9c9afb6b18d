"""Signing in, CSRF, throttling and lock-out, password change, sessions."""

from datetime import timedelta

from sqlalchemy import select

from certsvc.audit.models import AuditEntry
from tests.conftest import PASSWORD


def _actions(session):
    return [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def test_login_page_is_vietnamese(browser):
    page = browser.get("/login").get_data(as_text=True)
    assert "Đăng nhập" in page and "Tên đăng nhập" in page and "Mật khẩu" in page


def test_anonymous_is_sent_to_login(browser):
    response = browser.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_and_logout_are_audited(browser, world, session):
    response = browser.login("administrator")
    assert response.status_code == 302
    home = browser.get("/").get_data(as_text=True)
    assert "Quản trị hệ thống" in home
    assert browser.logout().status_code == 302
    assert browser.get("/").status_code == 302
    assert _actions(session)[-2:] == ["auth.login", "auth.logout"]


def test_post_without_csrf_token_is_refused(browser, world, session):
    before = _actions(session)
    response = browser.post("/login", {"username": "administrator", "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert _actions(session) == before


def test_wrong_password_then_throttle_then_lock(browser, world, session, clock):
    account = world.account("clerk")
    for _attempt in range(3):
        response = browser.login("clerk", "sai-mat-khau-roi")
        assert response.status_code == 401
        assert "không đúng" in response.get_data(as_text=True)
    # The fourth attempt comes too soon (the clock stands still): refused without checking the password.
    response = browser.login("clerk", PASSWORD)
    assert response.status_code == 429
    assert "thử lại sau" in response.get_data(as_text=True)
    session.refresh(account)
    assert account.failed_login_count == 3
    actions = _actions(session)
    assert actions.count("auth.login_failed") == 3
    assert actions[-1] == "auth.login_refused"
    # Once the wait (1 s after the third failure) is over, the right password gets in.
    clock.advance(seconds=1)
    assert browser.login("clerk", PASSWORD).status_code == 302


def test_lock_after_repeated_failures(browser, world, session, app):
    app.config["CERTSVC_LOGIN_THROTTLE_AFTER"] = 100
    app.config["CERTSVC_LOGIN_LOCK_AFTER"] = 4
    for _ in range(3):
        assert browser.login("reviewer", "sai-mat-khau-roi").status_code == 401
    response = browser.login("reviewer", "sai-mat-khau-roi")
    assert response.status_code == 429
    assert "tạm khóa" in response.get_data(as_text=True)
    # Even the right password is refused while locked.
    assert browser.login("reviewer", PASSWORD).status_code == 429
    account = world.account("reviewer")
    session.refresh(account)
    account.locked_until = account.locked_until - timedelta(hours=1)
    session.commit()
    assert browser.login("reviewer", PASSWORD).status_code == 302


def test_unknown_user_failure_is_audited(browser, world, session):
    assert browser.login("khong-ton-tai", "gi-cung-duoc").status_code == 401
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert last.action == "auth.login_failed"
    assert '"unknown_user"' in last.details


def test_password_change_ends_other_sessions(make_browser, world, session):
    first, second = make_browser(), make_browser()
    first.login("auditor")
    second.login("auditor")
    response = first.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "Mot-mat-khau-moi-9",
            "confirm_password": "Mot-mat-khau-moi-9",
        },
    )
    assert response.status_code == 302
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302  # the old session no longer works
    assert second.login("auditor", "Mot-mat-khau-moi-9").status_code == 302


def test_password_change_refuses_weak_password(browser, world, session):
    browser.login("auditor")
    before = _actions(session)
    response = browser.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "ngan",
            "confirm_password": "ngan",
        },
    )
    assert response.status_code == 400
    assert "ít nhất 10 ký tự" in response.get_data(as_text=True)
    assert _actions(session) == before


def test_open_redirect_is_not_followed(browser, world):
    browser.get("/login")
    response = browser.post(
        "/login?next=x", {"username": "clerk", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/"


def test_a_form_posted_after_the_login_expired_lands_on_its_record_with_a_message(browser, world):
    """The login page brought back by an expired session's POST names the action's address, which only takes
    a POST: after logging in the user sees the record's page and is told the action was not done."""
    browser.get("/login")
    response = browser.post("/login", {"username": "clerk", "password": PASSWORD, "next": "/requests/5/act/submit"})
    assert response.headers["Location"] == "/requests/5"
    page = browser.get("/").get_data(as_text=True)
    assert "thao tác chưa được thực hiện" in page


def test_a_page_named_by_next_is_opened_as_it_is(browser, world):
    browser.get("/login")
    response = browser.post("/login", {"username": "clerk", "password": PASSWORD, "next": "/requests/?tab=mine"})
    assert response.headers["Location"] == "/requests/?tab=mine"


def test_session_cookie_flags(browser, world):
    response = browser.login("clerk")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
