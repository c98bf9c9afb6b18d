"""The demo district shows units in every state of the board, one assisted visit and one request from a check."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from certsvc.accounts.models import Account
from certsvc.readiness.board import ReadinessSettings, UnitState, readiness_board
from certsvc.readiness.models import AssistedVisit
from certsvc.requests.models import CertificateRequest, RequestType

pytestmark = pytest.mark.demo


def test_the_demo_district_has_units_in_every_state(session):
    focal = session.scalars(select(Account).where(Account.username == "daumoi")).one()
    states = {unit.unit_name: unit.state for unit in readiness_board(session, focal, ReadinessSettings()).units}
    assert states["UBND huyện Văn Quan"] is UnitState.READY
    assert states["UBND xã Tràng Phái"] is UnitState.FAILING
    assert states["UBND xã Yên Phúc"] is UnitState.UNCHECKED
    assert states["UBND thị trấn Văn Quan"] is UnitState.EXPIRING
    assert states["UBND xã Tân Đoàn"] is UnitState.INCOMPLETE
    (visit,) = session.scalars(select(AssistedVisit)).all()
    assert visit.report is not None and visit.report.test_signature_verified
    reasons = [
        r.data.get("reason_detail", "")
        for r in session.scalars(
            select(CertificateRequest).where(CertificateRequest.request_type == RequestType.REVOCATION)
        )
    ]
    assert any(reason.endswith("Không có khóa bí mật khớp chứng thư số.") for reason in reasons)
