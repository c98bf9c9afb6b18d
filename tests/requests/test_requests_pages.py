"""The request pages: drafting per type, the request page's buttons and timeline, the focal office's
queue (scope, filters, bulk accept/return all or nothing), and the batch pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from certsvc.accounts.models import Role
from certsvc.orgs.models import OrgKind
from certsvc.requests.models import CertificateRequest, RequestStatus
from certsvc.requests.service import create_draft
from certsvc.requests.transitions import Action, apply_transition
from certsvc.timeutil import utcnow
from tests.conftest import add_account, add_org
from tests.support.requests import bring_to, counts, draft, individual


def signed_in(make_browser, username):
    browser = make_browser()
    assert browser.login(username).status_code == 302
    return browser


@pytest.fixture
def officer_page(make_browser, world):
    return signed_in(make_browser, "unitofficer")


@pytest.fixture
def head_page(make_browser, world):
    return signed_in(make_browser, "unithead")


@pytest.fixture
def focal_page(make_browser, world):
    return signed_in(make_browser, "focalofficer")


def text(response) -> str:
    return response.get_data(as_text=True)


def test_officer_drafts_a_request_from_the_form(officer_page, session, world):
    page = officer_page.get("/requests/new/new_individual")
    assert page.status_code == 200 and "Số CCCD" in text(page) and "Mẫu 01" in text(page)
    before = counts(session)
    bad = officer_page.post(
        "/requests/new/new_individual",
        individual(cccd="123", email="x@", organisation_id=str(world.orgs["commune"].id)),
    )
    assert bad.status_code == 400
    assert "Số CCCD phải gồm đúng 12 chữ số." in text(bad) and "Địa chỉ thư điện tử không hợp lệ." in text(bad)
    assert counts(session) == before
    good = officer_page.post("/requests/new/new_individual", individual(organisation_id=str(world.orgs["commune"].id)))
    assert good.status_code == 302
    session.expire_all()
    created = session.scalars(select(CertificateRequest)).one()
    assert created.status is RequestStatus.DRAFT and created.data["full_name"] == "Hoàng Thị Mai"


def test_drafting_in_another_unit_is_refused(officer_page, session, world):
    before = counts(session)
    response = officer_page.post(
        "/requests/new/new_individual", individual(organisation_id=str(world.orgs["other_commune"].id))
    )
    assert response.status_code == 403 and counts(session) == before


def test_unknown_type_and_missing_request_are_404(officer_page, world):
    assert officer_page.get("/requests/new/ca_phe").status_code == 404
    assert officer_page.get("/requests/999999").status_code == 404
    assert officer_page.get("/requests/99999999999999").status_code == 404
    assert officer_page.post("/requests/1/act/nhay_mua").status_code == 404


def test_request_page_shows_only_the_buttons_of_the_user(officer_page, head_page, session, world):
    request = draft(session, world)
    url = f"/requests/{request.id}"
    as_officer, as_head = text(officer_page.get(url)), text(head_page.get(url))
    assert "Phê duyệt và gửi đầu mối" in as_head and "Phê duyệt và gửi đầu mối" not in as_officer
    assert "Hủy đề nghị" in as_officer and "Sửa nội dung" in as_officer
    assert "Hoàng Thị Mai" in as_officer and "Dự thảo" in as_officer
    assert officer_page.post(f"{url}/act/approve").status_code == 403


def test_submitting_shows_policy_problems_and_changes_nothing(head_page, session, world):
    request = draft(session, world, fields=individual(validity_years="7"))
    page = text(head_page.get(f"/requests/{request.id}"))
    assert "Chưa thể gửi đầu mối" in page and "tối đa 5 năm" in page
    before = counts(session)
    response = head_page.post(f"/requests/{request.id}/act/approve_submit")
    assert response.status_code == 400 and "tối đa 5 năm" in text(response)
    assert counts(session) == before


def test_full_walk_through_pages(officer_page, head_page, focal_page, session, world):
    request = draft(session, world)
    assert head_page.post(f"/requests/{request.id}/act/approve_submit").status_code == 302
    refused = focal_page.post(f"/requests/{request.id}/act/return", {"comment": ""})
    assert refused.status_code == 400 and "Ghi rõ lý do." in text(refused)
    assert focal_page.post(f"/requests/{request.id}/act/return", {"comment": "Thiếu ngày cấp CCCD"}).status_code == 302
    edit = officer_page.post(f"/requests/{request.id}/edit", {**request.data, "cccd_issued_by": "Bộ Công an"})
    assert edit.status_code == 302
    assert head_page.post(f"/requests/{request.id}/act/resubmit", {"comment": "Đã sửa"}).status_code == 302
    assert focal_page.post(f"/requests/{request.id}/act/accept").status_code == 302
    session.expire_all()
    request = session.get(CertificateRequest, request.id)
    assert request.status is RequestStatus.ACCEPTED
    timeline = text(officer_page.get(f"/requests/{request.id}"))
    assert "Thiếu ngày cấp CCCD" in timeline and "Gửi lại đầu mối" in timeline
    # Conflict on the page: the request is no longer a draft.
    assert head_page.post(f"/requests/{request.id}/act/approve").status_code == 409


@pytest.fixture
def outsider(session, world):
    """A unit outside the focal office's area (the province has no focal office), with its own officer and head."""
    unit = add_org(session, world, "outside", "Sở Tư pháp", "STP", OrgKind.AGENCY, world.orgs["province"])
    drafter = add_account(session, "canbongoai", unit, (Role.UNIT_OFFICER, unit))
    boss = add_account(session, "thutruongngoai", unit, (Role.UNIT_HEAD, unit))
    session.commit()
    return unit, drafter, boss


def _submitted(session, world, **fields):
    return bring_to(session, world, draft(session, world, fields=individual(**fields)), RequestStatus.SUBMITTED)


def test_queue_scope_and_filters(focal_page, session, world, outsider):
    unit, far_officer, boss = outsider
    far = create_draft(session, far_officer, unit.id, "new_individual", individual(full_name="Người Ngoài Vùng"))
    apply_transition(session, boss, far, Action.APPROVE_SUBMIT)
    old = _submitted(session, world, full_name="Đề Nghị Cũ")
    old.submitted_at = utcnow() - timedelta(days=10)
    _submitted(session, world, full_name="Đề Nghị Mới")
    draft(session, world, fields=individual(full_name="Còn Dự Thảo"))
    session.commit()
    page = text(focal_page.get("/requests/queue"))
    assert "Đề Nghị Cũ" in page and "Đề Nghị Mới" in page
    assert "Người Ngoài Vùng" not in page and "Còn Dự Thảo" not in page
    aged = text(focal_page.get("/requests/queue?min_age_days=7"))
    assert "Đề Nghị Cũ" in aged and "Đề Nghị Mới" not in aged
    by_unit = text(focal_page.get(f"/requests/queue?organisation_id={world.orgs['other_commune'].id}"))
    assert "Đề Nghị Cũ" not in by_unit
    by_type = text(focal_page.get("/requests/queue?request_type=revocation"))
    assert "Đề Nghị Cũ" not in by_type
    everything = text(focal_page.get("/requests/queue?status="))
    assert "Đề Nghị Mới" in everything
    assert focal_page.get(f"/requests/queue?organisation_id={unit.id}").status_code == 400
    assert focal_page.get("/requests/queue?status=bay_lac").status_code == 400
    assert focal_page.get("/requests/queue?min_age_days=-1").status_code == 400
    # a date typed where a number of days goes is told apart, not silently listing nothing
    typed_date = focal_page.get("/requests/queue?min_age_days=06/12/2026")
    assert typed_date.status_code == 400 and "không phải ngày tháng" in text(typed_date)
    assert focal_page.get(f"/requests/{far.id}").status_code == 403


def test_bulk_accept_and_return_are_all_or_nothing(focal_page, session, world):
    first, second = _submitted(session, world), _submitted(session, world)
    still_draft = draft(session, world)
    before = counts(session)
    response = focal_page.post(
        "/requests/queue/bulk", {"action": "accept", "request_ids": [first.id, still_draft.id, second.id]}
    )
    assert response.status_code == 409
    assert f"đề nghị số {still_draft.id}" in text(response) and "Không thay đổi đề nghị nào" in text(response)
    assert counts(session) == before
    no_reason = focal_page.post("/requests/queue/bulk", {"action": "return", "request_ids": [first.id]})
    assert no_reason.status_code == 400 and "lý do" in text(no_reason) and counts(session) == before
    nothing = focal_page.post("/requests/queue/bulk", {"action": "accept"})
    assert nothing.status_code == 400 and "Chọn ít nhất một đề nghị." in text(nothing)
    done = focal_page.post(
        "/requests/queue/bulk", {"action": "return", "reason": "Thiếu hồ sơ", "request_ids": [first.id, second.id]}
    )
    assert done.status_code == 302
    assert counts(session) == (before[0], before[1] + 2, before[2] + 2)
    session.expire_all()
    assert {session.get(CertificateRequest, r.id).status for r in (first, second)} == {RequestStatus.RETURNED}


def test_batch_pages(focal_page, session, world):
    accepted = bring_to(session, world, draft(session, world), RequestStatus.ACCEPTED)
    bad = focal_page.post(
        "/requests/batches/new",
        {"focal_office_id": str(world.orgs["focal"].id), "title": "", "signer_title": "CHỦ TỊCH", "signer_name": ""},
    )
    assert bad.status_code == 400
    created = focal_page.post(
        "/requests/batches/new",
        {
            "focal_office_id": str(world.orgs["focal"].id),
            "title": "Đợt 1 năm 2026",
            "signer_title": "KT. CHỦ TỊCH\r\nPHÓ CHỦ TỊCH",
            "signer_name": "Lương Văn Bình",
        },
    )
    assert created.status_code == 302
    batch_url = created.headers["Location"]
    assert "Hoàng Thị Mai" in text(focal_page.get(batch_url))
    assert focal_page.post(f"{batch_url}/add", {"request_ids": [accepted.id]}).status_code == 302
    assert focal_page.get(f"{batch_url}/documents/letter.pdf").status_code == 409
    assert focal_page.post(f"{batch_url}/lock").status_code == 302
    assert focal_page.post(f"{batch_url}/lock").status_code == 409
    letter = focal_page.get(f"{batch_url}/documents/letter.pdf")
    assert letter.status_code == 200 and letter.data[:4] == b"%PDF"
    annex = focal_page.get(f"{batch_url}/documents/annex.pdf")
    assert annex.status_code == 200 and annex.data[:4] == b"%PDF"
    assert focal_page.get(f"{batch_url}/documents/khac.pdf").status_code == 404
    # The letter is a document to create, sign and issue first (test_batch_letter.py follows it through).
    early = focal_page.post(f"{batch_url}/sent")
    assert early.status_code == 409 and "chưa được ký phát hành" in text(early)
    session.expire_all()
    assert session.get(CertificateRequest, accepted.id).status is RequestStatus.IN_BATCH


@pytest.mark.parametrize(
    "action", ["complete", "reject", "mark_sent", "add_to_batch", "create", "edit", "void_approval"]
)
def test_steps_of_other_pages_cannot_be_taken_as_buttons(focal_page, officer_page, session, world, action):
    request = bring_to(session, world, draft(session, world), RequestStatus.SENT)
    before = counts(session)
    for page in (focal_page, officer_page):
        assert page.post(f"/requests/{request.id}/act/{action}", {"comment": "x"}).status_code == 404
    assert counts(session) == before


def test_outcome_with_the_issued_certificate_file(focal_page, officer_page, session, world):
    from io import BytesIO

    from tests.support.registry import make_cert, pem, trust_test_issuer

    request = bring_to(session, world, draft(session, world), RequestStatus.SENT)
    trust_test_issuer(session)
    url = f"/requests/{request.id}/outcome"
    page = text(focal_page.get(f"/requests/{request.id}"))
    assert "Ghi kết quả của cơ quan cấp" in page
    assert "Ghi kết quả của cơ quan cấp" not in text(officer_page.get(f"/requests/{request.id}"))
    assert officer_page.post(url, {"outcome": "done"}).status_code == 403
    before = counts(session)
    junk = focal_page.post(
        url, {"outcome": "done", "certificate_file": (BytesIO(b"rac"), "rac.cer")}, content_type="multipart/form-data"
    )
    assert junk.status_code == 400 and "Tệp không phải chứng thư số" in text(junk)
    assert counts(session) == before
    issued = pem(make_cert("Hoàng Thị Mai", f"CCCD:{request.data['cccd']}"))
    done = focal_page.post(
        url,
        {"outcome": "done", "token_serial": "TKMAI01", "certificate_file": (BytesIO(issued), "mai.pem")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302
    session.expire_all()
    finished = session.get(CertificateRequest, request.id)
    assert finished.status is RequestStatus.DONE and finished.issued_certificate.token.serial == "TKMAI01"
    assert "Chứng thư số được cấp" in text(officer_page.get(f"/requests/{request.id}"))
    # the serial leads to the certificate's page in the registry
    assert f'href="/registry/certificates/{finished.issued_certificate_id}"' in text(
        officer_page.get(f"/requests/{request.id}")
    )


def test_the_return_reason_stays_until_the_request_is_sent_again(officer_page, head_page, session, world):
    request = bring_to(session, world, draft(session, world), RequestStatus.RETURNED)  # reason "Ý kiến kiểm thử"
    url = f"/requests/{request.id}"

    def note() -> str:
        """The reason card at the top of the page ('' when there is none)."""
        page = text(officer_page.get(url))
        start = page.find('class="card returned-note"')
        return "" if start < 0 else page[start : page.index("</section>", start)]

    assert "Ý kiến kiểm thử" in note()
    edited = officer_page.post(f"{url}/edit", {**individual(), "full_name": "Nguyễn Văn Sửa"})
    assert edited.status_code == 302, text(edited)
    # the drafter fixed what the reason asked for: the reason is still there to check against
    assert "Ý kiến kiểm thử" in note() and "Nguyễn Văn Sửa" in text(officer_page.get(url))
    assert head_page.post(f"{url}/act/resubmit").status_code == 302
    assert note() == ""


def test_the_validity_hints_say_the_configured_limits(app, officer_page, world):
    app.config.update(CERTSVC_MAX_NEW_YEARS=3, CERTSVC_MAX_EXTENSION_YEARS=2)
    assert "Tối đa 3 năm." in text(officer_page.get("/requests/new/new_individual"))
    assert "Tối đa 2 năm." in text(officer_page.get("/requests/new/renewal"))
