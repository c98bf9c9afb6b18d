"""Issue 15 item 25: a request leaves the unit only with the unit's own written request (công văn đề nghị).

A draft saves without the letter (the head may not have signed it yet); sending it to the focal office, from any
status and through the pages or the API, is refused with the missing fields named, and nothing changes.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from certsvc.accounts.models import Role
from certsvc.errors import PermissionDenied, ValidationFailed
from certsvc.requests.models import RequestStatus
from certsvc.requests.service import take_action, update_request
from certsvc.requests.transitions import Action, apply_transition
from tests.requests.test_form_errors_placement import alert_box, field_block
from tests.requests.test_requests_pages import signed_in, text
from tests.support.api import Api
from tests.support.requests import NO_LETTER, bring_to, counts, draft, focal, head, individual, officer, unit_letter

LETTER_FIELDS = {"unit_letter_number", "unit_letter_date", "unit_letter_signer"}
LABELS = {
    "unit_letter_number": "Số, ký hiệu công văn đề nghị của đơn vị",
    "unit_letter_date": "Ngày công văn",
    "unit_letter_signer": "Người ký công văn (thủ trưởng đơn vị)",
}
NEEDED = "Bắt buộc trước khi gửi đầu mối."


def _fact(page: str, label: str) -> str:
    """What the request page shows for the field ``label``: its value and any note under it."""
    found = re.search(rf"<dt>{re.escape(label)}</dt><dd>(.*?)</dd>", page, re.S)
    assert found, f"no «{label}» on the page"
    return found.group(1)


def _unsent_draft(session, world, **letter):
    """The officer's draft saved before the head signed the letter (``letter`` fills some of it)."""
    return draft(session, world, fields=individual(**(NO_LETTER | letter)))


def _returned_without_letter(session, world):
    """A request sent with its letter, returned, then edited by the officer to empty the letter."""
    request = bring_to(session, world, draft(session, world), RequestStatus.RETURNED)
    update_request(session, officer(world), request, {**request.data, **NO_LETTER})
    session.commit()
    return request


def test_a_draft_saves_without_the_letter_but_does_not_leave_the_unit(session, world):
    request = _unsent_draft(session, world)
    assert request.status is RequestStatus.DRAFT and not LETTER_FIELDS & set(request.data)
    before = counts(session)
    with pytest.raises(ValidationFailed) as refused:
        take_action(session, head(world), request, Action.APPROVE_SUBMIT)
    session.rollback()
    assert refused.value.field_errors == dict.fromkeys(LETTER_FIELDS, NEEDED)
    assert all(f"«{label}»" in refused.value.message for label in LABELS.values())
    assert counts(session) == before
    assert session.get(type(request), request.id).status is RequestStatus.DRAFT

    update_request(session, officer(world), request, {**request.data, **unit_letter()})
    take_action(session, head(world), request, Action.APPROVE_SUBMIT)
    session.commit()
    assert request.status is RequestStatus.SUBMITTED


def test_the_head_who_signed_the_letter_types_it_in_and_still_sends(session, world):
    """Recording the letter changes how the request is sent, not what it asks: the head stays the second pair
    of eyes, and an approval stands."""
    request = _unsent_draft(session, world)
    update_request(session, head(world), request, {**request.data, **unit_letter()})
    session.commit()
    assert request.events[-1].action == Action.RECORD_LETTER
    take_action(session, head(world), request, Action.APPROVE_SUBMIT)
    session.commit()
    assert request.status is RequestStatus.SUBMITTED

    approved = _unsent_draft(session, world)
    take_action(session, head(world), approved, Action.APPROVE)
    update_request(session, head(world), approved, {**approved.data, **unit_letter()})
    assert approved.status is RequestStatus.APPROVED  # not voided
    # Changing what the request asks, with or without the letter, still makes its writer an author.
    update_request(session, head(world), approved, {**approved.data, "position": "Phó Chủ tịch"})
    assert approved.status is RequestStatus.DRAFT
    with pytest.raises(PermissionDenied):
        take_action(session, head(world), approved, Action.APPROVE_SUBMIT)


def test_only_the_missing_parts_of_the_letter_are_named(session, world):
    request = _unsent_draft(session, world, unit_letter_number="15/UBND-VP")
    with pytest.raises(ValidationFailed) as refused:
        take_action(session, head(world), request, Action.APPROVE_SUBMIT)
    assert set(refused.value.field_errors) == {"unit_letter_date", "unit_letter_signer"}
    assert LABELS["unit_letter_number"] not in refused.value.message


def test_approving_keeps_the_request_in_the_unit_and_needs_no_letter_yet(session, world):
    request = _unsent_draft(session, world)
    take_action(session, head(world), request, Action.APPROVE)
    session.commit()
    assert request.status is RequestStatus.APPROVED
    with pytest.raises(ValidationFailed) as refused:
        take_action(session, head(world), request, Action.SUBMIT)
    session.rollback()
    assert set(refused.value.field_errors) == LETTER_FIELDS
    assert session.get(type(request), request.id).status is RequestStatus.APPROVED


def test_a_returned_request_is_not_sent_again_without_its_letter(session, world):
    request = _returned_without_letter(session, world)
    with pytest.raises(ValidationFailed) as refused:
        take_action(session, head(world), request, Action.RESUBMIT, "Đã sửa")
    session.rollback()
    assert set(refused.value.field_errors) == LETTER_FIELDS
    assert session.get(type(request), request.id).status is RequestStatus.RETURNED


def test_a_letter_grown_older_than_a_year_since_the_draft_was_saved_is_refused_when_sending(session, world):
    request = draft(session, world)
    # Saved with last year's letter, when it was still valid.
    request.data = {**request.data, "unit_letter_date": (date.today() - timedelta(days=400)).isoformat()}
    session.commit()
    with pytest.raises(ValidationFailed) as refused:
        take_action(session, head(world), request, Action.APPROVE_SUBMIT)
    assert refused.value.field_errors == {
        "unit_letter_date": "Công văn đề nghị đã quá một năm: đơn vị lập công văn mới."
    }


def test_an_outsider_learns_nothing_of_the_letter(session, world):
    """Permission and status come before the letter: the focal office is refused as before."""
    request = _unsent_draft(session, world)
    with pytest.raises(PermissionDenied):
        take_action(session, focal(world), request, Action.APPROVE_SUBMIT)


# --- the pages ------------------------------------------------------------------------------------------


def test_the_form_marks_the_letter_as_needed_for_sending_and_saves_a_draft_without_it(make_browser, session, world):
    officer_page = signed_in(make_browser, "unitofficer")
    form = text(officer_page.get("/requests/new/new_individual"))
    for name in LETTER_FIELDS:
        block = field_block(form, f"f-{name}")
        assert 'title="Bắt buộc khi gửi đầu mối"' in block and "(bắt buộc khi gửi đầu mối)" in block
        assert 'title="Bắt buộc"' not in block and "required" not in block  # the browser does not refuse the draft
    assert "các mục có dấu" in form and "bắt buộc trước khi gửi đầu mối" in form
    saved = officer_page.post(
        "/requests/new/new_individual", {"organisation_id": str(world.orgs["commune"].id), **individual(**NO_LETTER)}
    )
    assert saved.status_code == 302
    page = text(officer_page.get(saved.headers["Location"]))
    assert "Chưa thể gửi đầu mối" in page and "Đề nghị chưa thể gửi đầu mối: thiếu hoặc chưa đúng" in page
    assert "Bổ sung ở trang sửa nội dung" in page
    for label in LABELS.values():
        assert f'<small class="to-send">{NEEDED}</small>' in _fact(page, label)


def test_sending_from_the_page_without_the_letter_names_its_fields_and_changes_nothing(make_browser, session, world):
    head_page = signed_in(make_browser, "unithead")
    request = _unsent_draft(session, world, unit_letter_signer="Nông Văn Khánh")
    before = counts(session)
    refused = head_page.post(f"/requests/{request.id}/act/approve_submit")
    page = text(refused)
    assert refused.status_code == 400
    assert counts(session) == before
    assert "Vui lòng sửa các mục được đánh dấu bên dưới." in alert_box(page)
    assert NEEDED not in alert_box(page)
    for name in ("unit_letter_number", "unit_letter_date"):
        assert f'<small class="error">{NEEDED}</small>' in _fact(page, LABELS[name])
    assert "<small" not in _fact(page, LABELS["unit_letter_signer"])
    session.expire_all()
    assert session.get(type(request), request.id).status is RequestStatus.DRAFT


def test_a_request_page_with_its_letter_shows_no_note(make_browser, session, world):
    officer_page = signed_in(make_browser, "unitofficer")
    request = draft(session, world)
    page = text(officer_page.get(f"/requests/{request.id}"))
    assert NEEDED not in page and "Chưa thể gửi đầu mối" not in page


def test_a_sent_request_without_a_letter_shows_no_note(make_browser, session, world):
    """Requests that left the unit before the letter was required are not marked: nothing is left to send."""
    focal_page = signed_in(make_browser, "focalofficer")
    request = _unsent_draft(session, world)
    apply_transition(session, head(world), request, Action.APPROVE_SUBMIT)
    session.commit()
    assert NEEDED not in text(focal_page.get(f"/requests/{request.id}"))


# --- the API --------------------------------------------------------------------------------------------


def test_the_api_refuses_sending_without_the_letter_with_its_fields(app, session, world):
    officer_api, head_api = Api(app, session, officer(world)), Api(app, session, head(world))
    created = officer_api.post(
        "/requests",
        {"organisation_id": world.orgs["commune"].id, "type": "new_individual", "fields": individual(**NO_LETTER)},
        status=201,
    )
    assert created["status"]["value"] == "draft"
    # Before anyone tries: what blocks sending, as the page's box lists it.
    (problem,) = [p for p in created["problems"] if p["code"] == "unit_letter_missing"]
    assert all(f"«{label}»" in problem["message"] for label in LABELS.values())
    before = counts(session)
    transition = f"/requests/{created['id']}/transitions"
    fields = head_api.refused("POST", transition, {"action": "approve_submit"}, status=400, code="validation_failed")
    assert fields == dict.fromkeys(LETTER_FIELDS, NEEDED)
    assert counts(session) == before
    patched = officer_api.patch(f"/requests/{created['id']}", {"fields": unit_letter()})
    assert "unit_letter_missing" not in {p["code"] for p in patched["problems"]}
    sent = head_api.post(transition, {"action": "approve_submit"})
    assert sent["status"]["value"] == "submitted"


def test_the_api_error_message_names_the_missing_fields(app, session, world):
    request = _unsent_draft(session, world, unit_letter_number="15/UBND-VP")
    response = Api(app, session, world.account(Role.UNIT_HEAD)).raw(
        "POST", f"/requests/{request.id}/transitions", {"action": "approve_submit"}
    )
    error = response.get_json()["error"]
    assert response.status_code == 400 and set(error["fields"]) == {"unit_letter_date", "unit_letter_signer"}
    assert "«Ngày công văn»" in error["message"] and LABELS["unit_letter_number"] not in error["message"]
