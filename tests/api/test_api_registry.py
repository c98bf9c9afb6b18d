"""The API of the certificate and token registries: lists with the pages' filters, records with their links."""

from __future__ import annotations

from datetime import timedelta

import pytest

from certsvc.accounts.models import Role
from certsvc.registry import service
from certsvc.registry.models import TokenKind, TokenState
from certsvc.timeutil import utcnow
from tests.conftest import add_account
from tests.support.api import Api
from tests.support.registry import TESTER, add_certificate


@pytest.fixture
def records(session, world):
    commune, other = world.orgs["commune"], world.orgs["other_commune"]
    old = add_certificate(session, commune, cn="Nguyễn Văn An", ends=timedelta(days=10))
    new = add_certificate(session, commune, cn="Nguyễn Văn An", predecessor=old, serial=old.token.serial)
    seal = add_certificate(session, commune, kind=TokenKind.ORGANISATION, cn="UBND xã Tân Đoàn")
    elsewhere = add_certificate(session, other, kind=TokenKind.DEVICE, cn="dvc.yenphuc.gov.vn")
    service.transition_token(session, TESTER, seal.token, TokenState.PIN_LOCKED, "Nhập sai PIN 5 lần")
    session.commit()
    return {"old": old, "new": new, "seal": seal, "elsewhere": elsewhere}


def _api(app, session, world, role: Role) -> Api:
    return Api(app, session, world.account(role))


def test_certificates_filtered_and_paged_like_the_page(app, session, world, records):
    officer = _api(app, session, world, Role.UNIT_OFFICER)
    listed = officer.get("/certificates")
    assert listed["total"] == 3 and listed["items"][0]["id"] == records["old"].id  # soonest expiry first
    assert [c["id"] for c in officer.get("/certificates?status=expiring")["items"]] == [records["old"].id]
    assert [c["id"] for c in officer.get("/certificates?q=t%C3%A2n%20%C4%91o%C3%A0n")["items"]] == [records["seal"].id]
    page = officer.get("/certificates?per_page=2&page=2")
    assert (page["page"], page["pages"], len(page["items"])) == (2, 2, 1)
    focal = _api(app, session, world, Role.FOCAL_OFFICER)
    assert focal.get("/certificates")["total"] == 4
    assert focal.get(f"/certificates?organisation_id={world.orgs['other_commune'].id}")["total"] == 1
    fields = officer.refused(
        "GET",
        f"/certificates?organisation_id={world.orgs['other_commune'].id}&status=x&per_page=0",
        status=400,
        code="validation_failed",
    )
    assert fields == {
        "organisation_id": "Đơn vị không có trong danh sách bạn được xem.",
        "status": "Giá trị lọc không hợp lệ.",
        "per_page": "Phải là số nguyên từ 1 đến 100.",
    }


def test_a_certificate_with_its_chain_and_no_file(app, session, world, records):
    officer = _api(app, session, world, Role.UNIT_OFFICER)
    old = officer.get(f"/certificates/{records['old'].id}")
    assert old["successor_id"] == records["new"].id and old["predecessor_id"] is None
    assert old["status"] == {"value": "expiring", "label": "Sắp hết hạn"}
    assert old["holder"]["full_name"] and old["subject_cn"] == "Nguyễn Văn An"
    assert "der" not in old and "pem" not in old
    new = officer.get(f"/certificates/{records['new'].id}")
    assert new["predecessor_id"] == records["old"].id and new["token_id"] == old["token_id"]
    officer.refused("GET", f"/certificates/{records['elsewhere'].id}", status=403, code="forbidden")
    officer.refused("GET", "/certificates/999999", status=404, code="not_found")
    _api(app, session, world, Role.CLERK).refused(
        "GET", f"/certificates/{records['old'].id}", status=403, code="forbidden"
    )
    _api(app, session, world, Role.REVIEWER).refused("GET", "/certificates", status=403, code="forbidden")


def test_tokens_filtered_and_a_token_with_its_events(app, session, world, records):
    head = _api(app, session, world, Role.UNIT_HEAD)
    assert head.get("/tokens")["total"] == 2
    locked = head.get("/tokens?state=pin_locked")["items"]
    assert [t["id"] for t in locked] == [records["seal"].token_id] and locked[0]["kind"]["value"] == "organisation"
    assert head.get("/tokens?kind=device")["total"] == 0
    # A filter sent with no value is refused like the OpenAPI document says: a program leaves it out instead.
    assert head.refused("GET", "/tokens?kind=usb&state=", status=400, code="validation_failed") == {
        "kind": "Giá trị lọc không hợp lệ.",
        "state": "Không được để trống: bỏ tham số này để không lọc.",
    }
    token = head.get(f"/tokens/{records['seal'].token_id}")
    assert [e["to_state"] for e in token["events"]] == ["active", "pin_locked"]
    assert token["events"][-1]["reason"] == "Nhập sai PIN 5 lần" and token["state"]["label"] == "Khóa PIN"
    assert token["certificate_ids"] == [records["seal"].id]
    shared = head.get(f"/tokens/{records['old'].token_id}")
    assert set(shared["certificate_ids"]) == {records["old"].id, records["new"].id}
    head.refused("GET", f"/tokens/{records['elsewhere'].token_id}", status=403, code="forbidden")
    head.refused("GET", "/tokens/999999999", status=404, code="not_found")


def test_the_clerk_sees_only_its_own_office(app, session, world, records):
    office = world.orgs["office"]
    add_certificate(
        session, office, kind=TokenKind.DEVICE, cn="vanthu.vanquan.gov.vn", ends=timedelta(days=400), now=utcnow()
    )
    clerk = _api(app, session, world, Role.CLERK)
    assert [c["organisation"]["id"] for c in clerk.get("/certificates")["items"]] == [office.id]
    assert clerk.get("/tokens")["total"] == 1
    other = add_account(session, "vanthuxa", world.orgs["commune"], (Role.CLERK, world.orgs["commune"]))
    session.commit()
    assert Api(app, session, other).get("/tokens")["total"] == 2
