"""Once-only form tokens: a creating form sent three times (a double click, Back then save) makes one record,
and the later sends lead to the record the first one made, with a message."""

from __future__ import annotations

import re
import threading

from sqlalchemy import func, select

from certsvc.accounts.models import Role
from certsvc.custody.models import Handover
from certsvc.requests.models import Batch, CertificateRequest
from certsvc.ui.onceonly import FormSubmission
from tests.conftest import add_account
from tests.requests.test_requests_pages import signed_in, text
from tests.support.custody import handover_form
from tests.support.requests import individual

_TOKEN = re.compile(r'name="form_token" value="([A-Za-z0-9_-]{32})"')
RESENT = "Biểu mẫu này đã được gửi trước đó nên không tạo thêm bản ghi mới"


def form_token(browser, url: str) -> str:
    """The once-only token of the form on page ``url``."""
    page = browser.get(url)
    assert page.status_code == 200
    found = _TOKEN.search(text(page))
    assert found, "the form has no once-only token"
    return found.group(1)


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def send_three_times(browser, url: str, values: dict, **kwargs) -> list:
    return [browser.post(url, dict(values), **kwargs) for _ in range(3)]


def assert_one_record_and_same_page(browser, answers: list) -> None:
    assert [answer.status_code for answer in answers] == [302, 302, 302]
    assert len({answer.headers["Location"] for answer in answers}) == 1
    page = text(browser.get(answers[-1].headers["Location"]))
    assert RESENT in page


def test_a_request_draft_saved_three_times_is_one_draft(make_browser, session, world):
    browser = signed_in(make_browser, "unitofficer")
    url = "/requests/new/new_individual"
    values = individual(organisation_id=str(world.orgs["commune"].id), form_token=form_token(browser, url))
    answers = send_three_times(browser, url, values)
    assert count(session, CertificateRequest) == 1
    assert_one_record_and_same_page(browser, answers)
    created = session.scalars(select(CertificateRequest)).one()
    assert answers[0].headers["Location"].endswith(f"/requests/{created.id}")


def test_each_opening_of_the_form_makes_its_own_draft(make_browser, session, world):
    browser = signed_in(make_browser, "unitofficer")
    url = "/requests/new/new_individual"
    for _ in range(2):
        values = individual(organisation_id=str(world.orgs["commune"].id), form_token=form_token(browser, url))
        assert browser.post(url, values).status_code == 302
    assert count(session, CertificateRequest) == 2


def test_each_opening_of_the_form_has_a_fresh_token(make_browser, world):
    browser = signed_in(make_browser, "unitofficer")
    assert form_token(browser, "/requests/new/new_individual") != form_token(browser, "/requests/new/new_individual")


def test_a_refused_form_corrected_and_sent_again_is_saved(make_browser, session, world):
    browser = signed_in(make_browser, "unitofficer")
    url = "/requests/new/new_individual"
    token = form_token(browser, url)
    refused = browser.post(url, individual(cccd="123", organisation_id=str(world.orgs["commune"].id), form_token=token))
    assert refused.status_code == 400 and count(session, FormSubmission) == 0
    saved = browser.post(url, individual(organisation_id=str(world.orgs["commune"].id), form_token=token))
    assert saved.status_code == 302 and count(session, CertificateRequest) == 1


def test_a_token_not_issued_or_of_another_account_is_refused(make_browser, session, world):
    officer = signed_in(make_browser, "unitofficer")
    url = "/requests/new/new_individual"
    values = individual(organisation_id=str(world.orgs["commune"].id))
    assert officer.post(url, {**values, "form_token": "x' OR 1=1 --"}).status_code == 409
    token = form_token(officer, url)
    assert officer.post(url, {**values, "form_token": token}).status_code == 302
    add_account(session, "officer2", world.orgs["commune"], (Role.UNIT_OFFICER, world.orgs["commune"]))
    session.commit()
    colleague = signed_in(make_browser, "officer2")
    refused = colleague.post(url, {**values, "form_token": token})
    assert refused.status_code == 409 and "Biểu mẫu không hợp lệ" in text(refused)
    assert count(session, CertificateRequest) == 1


def test_the_form_page_loads_the_script_that_disables_its_button(make_browser, world):
    browser = signed_in(make_browser, "unitofficer")
    page = text(browser.get("/requests/new/new_individual"))
    assert "/static/forms.js" in page
    script = browser.get("/static/forms.js")
    assert script.status_code == 200 and b"form_token" in script.data


def test_the_same_draft_sent_at_once_from_four_threads_is_one_draft(make_browser, session, world):
    browsers = [signed_in(make_browser, "unitofficer") for _ in range(4)]
    url = "/requests/new/new_individual"
    values = individual(organisation_id=str(world.orgs["commune"].id), form_token=form_token(browsers[0], url))
    start = threading.Barrier(len(browsers))
    answers: list = [None] * len(browsers)

    def send(index: int) -> None:
        start.wait()
        try:
            response = browsers[index].post(url, dict(values))
        except Exception as error:  # escaped the app: shown in the assertion below
            answers[index] = (None, repr(error))
            return
        answers[index] = (response.status_code, response.headers.get("Location"))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(browsers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert count(session, CertificateRequest) == 1
    created = session.scalars(select(CertificateRequest)).one()
    # Every answer leads to the one draft; on SQLite a send kept waiting past the lock's timeout is told to
    # try again (409) rather than saved twice.
    assert all(
        (status == 302 and location.endswith(f"/requests/{created.id}")) or status == 409
        for status, location in answers
    ), answers
    assert [status for status, _ in answers].count(302) >= 1, answers


def test_a_batch_created_three_times_is_one_batch(make_browser, session, world):
    browser = signed_in(make_browser, "focalofficer")
    values = {
        "focal_office_id": str(world.orgs["focal"].id),
        "title": "Đợt 1 năm 2026",
        "signer_title": "KT. CHỦ TỊCH\r\nPHÓ CHỦ TỊCH",
        "signer_name": "Lương Văn Bình",
        "form_token": form_token(browser, "/requests/batches"),
    }
    answers = send_three_times(browser, "/requests/batches/new", values)
    assert count(session, Batch) == 1
    assert_one_record_and_same_page(browser, answers)


def test_a_handover_minute_sent_three_times_is_one_minute(make_browser, session, seal):
    browser = signed_in(make_browser, seal.keeper.username)
    url = f"/custody/tokens/{seal.token.id}/handover"
    answers = send_three_times(browser, url, {**handover_form(seal), "form_token": form_token(browser, url)})
    assert count(session, Handover) == 1
    assert_one_record_and_same_page(browser, answers)
