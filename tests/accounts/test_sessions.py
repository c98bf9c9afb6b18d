"""Login sessions live in the database (item 10 of the abuse run): logging out, a password change or
reset, disabling the account and the session's age end them on the server, for every worker."""

from __future__ import annotations

import hashlib

from flask import Flask
from sqlalchemy import event, func, select

from certsvc.accounts.models import LoginSession
from certsvc.extensions import db
from tests.conftest import PASSWORD

ADMIN = "/admin/accounts"


def _cookie(browser) -> str:
    return browser.client.get_cookie("session").value


def _replay(app: Flask, cookie: str):
    """A request from another machine carrying a cookie saved earlier."""
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client.get("/")


def _sessions(session, account) -> list[LoginSession]:
    session.expire_all()
    return list(session.scalars(select(LoginSession).where(LoginSession.account_id == account.id)))


def test_a_saved_cookie_no_longer_works_after_logout(app, browser, world, session):
    browser.login("clerk")
    saved = _cookie(browser)
    assert _replay(app, saved).status_code == 200

    assert browser.logout().status_code == 302

    response = _replay(app, saved)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _sessions(session, world.account("clerk")) == []


def test_each_login_is_a_record_keeping_only_the_hash_of_its_secret(app, make_browser, world, session):
    first, second = make_browser(), make_browser()
    first.login("clerk")
    second.login("clerk")
    records = _sessions(session, world.account("clerk"))
    assert len(records) == 2
    secret = app.session_interface.get_signing_serializer(app).loads(_cookie(first))["_user_id"]
    assert hashlib.sha256(secret.encode()).hexdigest() in {r.secret_sha256 for r in records}
    assert all(secret not in (r.secret_sha256, str(r.id)) for r in records)
    hours = (records[0].expires_at - records[0].created_at).total_seconds() / 3600
    assert hours == app.config["CERTSVC_SESSION_HOURS"]
    # Logging one browser out leaves the other signed in.
    first.logout()
    assert first.get("/").status_code == 302 and second.get("/").status_code == 200


def test_a_session_ends_after_session_hours(app, browser, world, clock):
    browser.login("clerk")
    clock.advance(hours=app.config["CERTSVC_SESSION_HOURS"], seconds=-1)
    assert browser.get("/").status_code == 200
    clock.advance(seconds=1)
    response = browser.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_user_loader_reads_once_and_notes_last_seen_at_most_once_a_minute(app, browser, world, session, clock):
    browser.login("clerk")
    account = world.account("clerk")
    started = _sessions(session, account)[0].last_seen_at
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        if "login_session" in statement:
            statements.append(statement.split()[0].upper())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        clock.advance(seconds=50)
        assert browser.get("/").status_code == 200
        assert statements == ["SELECT"]
        assert _sessions(session, account)[0].last_seen_at == started
        statements.clear()
        clock.advance(seconds=20)
        assert browser.get("/").status_code == 200
        assert statements == ["SELECT", "UPDATE"]
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert _sessions(session, account)[0].last_seen_at == clock.now


def test_password_change_ends_the_other_sessions_and_renews_this_one(app, make_browser, world, session):
    first, second = make_browser(), make_browser()
    first.login("auditor")
    second.login("auditor")
    before = _cookie(first)
    new = "Mot-mat-khau-moi-9"
    assert (
        first.post(
            "/account/password", {"current_password": PASSWORD, "new_password": new, "confirm_password": new}
        ).status_code
        == 302
    )
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302
    assert _replay(app, before).status_code == 302  # this browser's old cookie is spent too
    assert len(_sessions(session, world.account("auditor"))) == 1


def test_reset_and_disable_end_every_session_of_the_account(app, make_browser, browser, world, session):
    clerk = make_browser()
    clerk.login("clerk")
    saved = _cookie(clerk)
    browser.login("administrator")
    account = world.account("clerk")

    assert browser.post(f"{ADMIN}/{account.id}/disable").status_code == 302
    assert _sessions(session, account) == []
    assert browser.post(f"{ADMIN}/{account.id}/enable").status_code == 302
    assert _replay(app, saved).status_code == 302  # enabling again does not bring the session back

    clerk.login("clerk")
    assert browser.post(f"{ADMIN}/{account.id}/reset-password").status_code == 200
    assert clerk.get("/").status_code == 302
    assert (
        session.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.account_id == account.id)) == 0
    )
