"""Settings read once at start-up show on the pages: the expiring threshold, the holidays, the reminder marks."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from certsvc.accounts.models import Role
from certsvc.core.workdays import WorkCalendar
from certsvc.timeutil import to_vietnam, utcnow
from tests.conftest import Browser
from tests.support.registry import add_certificate


def signed_in(app, role: Role) -> Browser:
    browser = Browser(app.test_client())
    browser.login(role.value.replace("_", ""))
    return browser


def status_badges(page: str) -> list[str]:
    """The status badges of a page (the filter's options carry the same words, so look at badges only)."""
    return re.findall(r'<span class="badge (?:ok|warn|bad)">([^<]+)</span>', page)


def returns_section(page: str) -> str:
    """The board's table of token returns to the CA."""
    return page[page.index("Thời hạn nộp lại thiết bị cho CA") : page.index("Thời hạn CA xử lý hồ sơ cấp mới")]


def test_the_expiring_threshold_set_at_start_up_shows_on_the_registry_pages(app, make_app, session, world):
    cert = add_certificate(session, world.orgs["commune"], cn="Nông Văn Khánh", ends=timedelta(days=45))
    usual = signed_in(app, Role.UNIT_HEAD)
    wider = signed_in(make_app(CERTSVC_EXPIRY_WARNING_DAYS=60), Role.UNIT_HEAD)

    assert status_badges(usual.get("/registry/certificates").get_data(as_text=True)) == ["Còn hiệu lực"]
    assert status_badges(wider.get("/registry/certificates").get_data(as_text=True)) == ["Sắp hết hạn"]
    assert status_badges(wider.get(f"/registry/certificates/{cert.id}").get_data(as_text=True))[0] == "Sắp hết hạn"
    # the status filter counts the same way
    expiring = "/registry/certificates?status=expiring"
    assert "Nông Văn Khánh" not in usual.get(expiring).get_data(as_text=True)
    assert "Nông Văn Khánh" in wider.get(expiring).get_data(as_text=True)


def test_a_holiday_configured_at_start_up_moves_the_token_return_deadline(app, make_app, session, world, monkeypatch):
    first = add_certificate(session, world.orgs["commune"], cn="Nông Văn Khánh")
    second = add_certificate(session, world.orgs["commune"], cn="Hoàng Văn Dũng")
    today = to_vietnam(utcnow()).date()
    usual_due = WorkCalendar().add_working_days(today, 5)
    holiday = WorkCalendar().add_working_days(today, 1)
    monkeypatch.setenv("CERTSVC_HOLIDAYS", holiday.isoformat())
    with_holiday = make_app()
    monkeypatch.delenv("CERTSVC_HOLIDAYS")  # read once at start-up: later changes do not count
    later_due = WorkCalendar(holidays=frozenset({holiday})).add_working_days(today, 5)
    assert later_due > usual_due

    focal = signed_in(app, Role.FOCAL_OFFICER)
    assert (
        focal.post(
            f"/registry/certificates/{first.id}/revoke", {"revoked_on": today.isoformat(), "reason": "Nghỉ hưu"}
        ).status_code
        == 302
    )
    focal_on_holiday_app = signed_in(with_holiday, Role.FOCAL_OFFICER)
    assert (
        focal_on_holiday_app.post(
            f"/registry/certificates/{second.id}/revoke", {"revoked_on": today.isoformat(), "reason": "Nghỉ hưu"}
        ).status_code
        == 302
    )

    board = returns_section(focal_on_holiday_app.get("/registry/board").get_data(as_text=True))
    rows = {
        token: due
        for token, due in re.findall(
            r'class="code" href="[^"]+">([^<]+)</a>.*?<td class="nowrap">([0-9/]+)</td>', board, re.DOTALL
        )
    }
    assert rows == {
        first.token.serial: usual_due.strftime("%d/%m/%Y"),
        second.token.serial: later_due.strftime("%d/%m/%Y"),
    }


def test_a_configured_holiday_moves_the_return_deadline_of_a_revocation_the_ca_completed(
    make_app, session, world, monkeypatch
):
    pytest.importorskip("certsvc.requests.models")
    from certsvc.registry.service import open_returns
    from certsvc.requests.models import RequestStatus
    from tests.support.requests import bring_to, draft

    cert = add_certificate(session, world.orgs["commune"], cn="Nông Văn Khánh")
    revocation = bring_to(
        session,
        world,
        draft(session, world, "revocation", {"certificate_serial": cert.serial_hex, "reason": "retirement"}),
        RequestStatus.SENT,
    )
    today = to_vietnam(utcnow()).date()
    holiday = WorkCalendar().add_working_days(today, 1)
    monkeypatch.setenv("CERTSVC_HOLIDAYS", holiday.isoformat())
    focal = signed_in(make_app(), Role.FOCAL_OFFICER)

    assert focal.post(f"/requests/{revocation.id}/outcome", {"outcome": "done"}).status_code == 302
    session.expire_all()
    (token_return,) = open_returns(session, [cert.token_id])
    assert token_return.due_on == WorkCalendar(holidays=frozenset({holiday})).add_working_days(today, 5)
    assert token_return.due_on > WorkCalendar().add_working_days(today, 5)


def test_the_board_names_the_configured_reminder_marks(make_app, session, world):
    add_certificate(session, world.orgs["commune"], ends=timedelta(days=10))
    page = signed_in(make_app(CERTSVC_REMINDER_DAYS="45, 15"), Role.UNIT_HEAD).get("/registry/board")
    assert "ở mỗi mốc còn 45, 15 ngày trước khi hết hạn" in page.get_data(as_text=True)


def test_the_remind_command_uses_the_configured_marks(make_app, session, world):
    from certsvc.registry.cli import registry

    add_certificate(session, world.orgs["commune"], ends=timedelta(days=10))
    result = make_app(CERTSVC_REMINDER_DAYS="45,15").test_cli_runner().invoke(registry, ["remind"])
    assert result.exit_code == 0, result.output
    assert "mốc 15 ngày" in result.output


@pytest.mark.parametrize(
    ("name", "value"), [("CERTSVC_REMINDER_DAYS", "90,sáu mươi"), ("CERTSVC_HOLIDAYS", "30/04/2026")]
)
def test_a_bad_setting_stops_the_app_from_starting(make_app, monkeypatch, name, value):
    from certsvc.config import ConfigError

    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        make_app()


def test_statuses_of_two_kinds_with_one_value_keep_their_own_badges():
    """A request "sent" (to the CA) and a document "sent" (issued) are equal strings, yet read differently."""
    from certsvc.documents.models import DocumentStatus
    from certsvc.requests.models import RequestStatus
    from certsvc.web import badge

    assert RequestStatus.SENT == DocumentStatus.SENT  # the trap: string enums compare by value
    assert DocumentStatus.SENT.label in badge(DocumentStatus.SENT)
    assert RequestStatus.SENT.label in badge(RequestStatus.SENT)
    assert DocumentStatus.SENT.label not in badge(RequestStatus.SENT)
