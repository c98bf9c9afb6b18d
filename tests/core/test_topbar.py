"""The top bar: the brand and the signed-in person's menu share the first line, the main menu has a band
of its own below, so a long name or a long menu no longer pushes the person's menu onto a second line.
(Screenshots at 1366, 1024 and 390 px were checked by eye; this keeps the structure they rely on.)"""

from __future__ import annotations

import re
from pathlib import Path

from certsvc.accounts.models import Role
from certsvc.config import PROJECT_ROOT

LONG_NAME = "Tôn Nữ Hoàng Thị Phương Thảo Nguyên"
CSS = (Path(PROJECT_ROOT) / "certsvc" / "static" / "app.css").read_text(encoding="utf-8")


def _rule(selector: str) -> str:
    found = re.search(r"(?m)^" + re.escape(selector) + r" \{([^}]*)\}", CSS)
    assert found, selector
    return found.group(1)


def test_the_person_menu_shares_the_first_line_with_the_brand(session, world, make_browser):
    focal = world.account(Role.FOCAL_OFFICER)
    focal.person.full_name = LONG_NAME
    session.commit()
    browser = make_browser()
    browser.login(focal.username)
    page = browser.get("/").get_data(as_text=True)
    header = page.split('<header class="topbar">', 1)[1].split("</header>", 1)[0]
    first_line, _, below = header.partition('<nav class="mainnav"')
    assert below, "the main menu is not in the top bar"
    assert '<a class="brand"' in first_line and '<div class="usermenu">' in first_line
    for text in ("Đổi mật khẩu", "Khóa API", "Đăng xuất"):
        assert text in first_line and text not in below
    # The name may be cut short on a narrow screen: the whole of it, and the login name, on hover.
    assert f'<span class="who" title="{LONG_NAME} (tài khoản {focal.username})">{LONG_NAME}</span>' in first_line


def test_the_stylesheet_keeps_each_line_whole():
    assert "nowrap" in _rule(".usermenu") and "ellipsis" in _rule(".usermenu .who")
    assert "flex-wrap: wrap" in _rule(".mainnav")  # many menu items wrap within their own band
    narrow = CSS.split("@media (max-width: 640px) {", 1)[1].split("\n}\n", 1)[0]
    assert ".usermenu {" in narrow and "flex-wrap: wrap" in narrow  # a phone: name above, links below
