"""Error pages in Vietnamese, and an unexpected failure leaves nothing half-written."""

from sqlalchemy import func, select

from certsvc.extensions import db
from certsvc.orgs.models import Organisation, OrgKind


def test_not_found_page(browser, world):
    browser.login("administrator")
    response = browser.get("/khong-co-trang-nay")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Không tìm thấy trang" in page and 'lang="vi"' in page


def test_method_not_allowed(browser, world):
    browser.login("clerk")
    assert browser.get("/logout").status_code == 405


def test_unexpected_error_rolls_back_and_shows_vietnamese_page(app, browser, world, session):
    def half_written():
        db.session.add(Organisation(name="Bản ghi dở dang", symbol="DD", kind=OrgKind.OTHER))
        db.session.flush()
        raise RuntimeError("boom")

    app.add_url_rule("/half-written", "half_written", half_written)
    before = session.scalar(select(func.count()).select_from(Organisation))
    response = browser.get("/half-written")
    assert response.status_code == 500
    assert "Lỗi hệ thống" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Organisation)) == before


def test_security_headers(browser):
    response = browser.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_stylesheet_is_served_locally(browser):
    page = browser.get("/login").get_data(as_text=True)
    assert "http://" not in page and "https://" not in page
    assert browser.get("/static/app.css").status_code == 200
