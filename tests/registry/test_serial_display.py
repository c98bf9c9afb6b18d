"""Certificate serial numbers are written one way everywhere: upper-case hex, as the registry and CA
portals write them, on the request page, its edit form, the annex and in the API, however they were
typed and for requests stored before (lower-case). Matching a typed serial to the registry ignores case."""

from __future__ import annotations

import subprocess

import pytest

from certsvc.accounts.models import Role
from certsvc.requests.fields import clean_serial, display_value, fields_for_display, spec_of
from certsvc.requests.letters import annex_tables, build_document
from certsvc.requests.models import CertificateRequest, RequestType
from certsvc.requests.papers.annex import AnnexTable
from certsvc.requests.papers.annex_pdf import build_annex_pdf
from tests.requests.test_requests_batches import _accepted, _locked
from tests.support.api import Api
from tests.support.registry import add_certificate
from tests.support.requests import draft


def _typed(serial_hex: str, case=str.lower) -> str:
    """The serial as a person may copy it from a CA portal: in pairs, colon-separated, in ``case``."""
    return ":".join(case(serial_hex[i : i + 2]) for i in range(0, len(serial_hex), 2))


@pytest.fixture
def cert(session, world):
    certificate = add_certificate(session, world.orgs["commune"], cn="Nguyễn Văn An")
    assert certificate.serial_hex == certificate.serial_hex.upper()
    return certificate


def _signed_in(make_browser, username):
    browser = make_browser()
    assert browser.login(username).status_code == 302
    return browser


def _serial_on(page: str) -> str:
    return page.split("<dt>Số hiệu (serial) chứng thư số</dt><dd>", 1)[1].split("</dd>", 1)[0]


@pytest.mark.parametrize("case", [str.lower, str.upper], ids=["lower", "upper"])
def test_a_typed_serial_matches_the_registry_whatever_its_case(session, world, cert, case):
    request = draft(
        session, world, "revocation", {"certificate_serial": _typed(cert.serial_hex, case), "reason": "retirement"}
    )
    assert request.certificate_id == cert.id and request.subject_key == f"certificate:{cert.id}"


def test_request_page_and_edit_form_write_the_serial_upper_case(session, world, cert, make_browser):
    request = draft(
        session, world, "revocation", {"certificate_serial": _typed(cert.serial_hex), "reason": "retirement"}
    )
    browser = _signed_in(make_browser, "unitofficer")
    page = browser.get(f"/requests/{request.id}").get_data(as_text=True)
    assert _serial_on(page) == cert.serial_hex
    form = browser.get(f"/requests/{request.id}/edit").get_data(as_text=True)
    assert f'name="certificate_serial" type="text" value="{cert.serial_hex}"' in form
    # Saving the form as shown keeps the request on the same certificate.
    fields = {"certificate_serial": cert.serial_hex, "reason": "left_state_sector"}
    assert browser.post(f"/requests/{request.id}/edit", fields).status_code == 302
    session.expire_all()
    assert session.get(CertificateRequest, request.id).certificate_id == cert.id


def test_requests_stored_lower_case_are_written_upper_case(session, world, cert, make_browser):
    """Requests saved before kept the typed serial lower-case in their JSON: shown upper-case too."""
    request = _accepted(session, world, "revocation", {"certificate_serial": cert.serial_hex, "reason": "retirement"})
    assert request.data["certificate_serial"] == cert.serial_hex.lower()  # as stored, then and now
    unknown = draft(session, world, "renewal", {"certificate_serial": "0a1b2c3d", "extension_years": "1"})
    assert unknown.certificate_id is None
    browser = _signed_in(make_browser, "unitofficer")
    assert _serial_on(browser.get(f"/requests/{request.id}").get_data(as_text=True)) == cert.serial_hex
    assert _serial_on(browser.get(f"/requests/{unknown.id}").get_data(as_text=True)) == "0A1B2C3D"

    batch = _locked(session, world, request)
    revocations = annex_tables(batch)[0]
    assert cert.serial_hex in revocations.rows[0] and cert.serial_hex.lower() not in revocations.rows[0]
    _, annex = build_document(batch, "annex.csv")
    assert cert.serial_hex in annex.decode("utf-8-sig")
    assert cert.serial_hex.lower() not in annex.decode("utf-8-sig")


def test_the_api_writes_serials_like_the_registry(app, session, world, cert):
    request = draft(
        session, world, "revocation", {"certificate_serial": _typed(cert.serial_hex), "reason": "retirement"}
    )
    api = Api(app, session, world.account(Role.UNIT_OFFICER))
    # The answers are checked against the OpenAPI document, which gives the format as a pattern.
    assert api.get(f"/requests/{request.id}")["fields"]["certificate_serial"] == cert.serial_hex
    assert api.get(f"/certificates/{cert.id}")["serial_hex"] == cert.serial_hex
    patched = api.patch(
        f"/requests/{request.id}",
        {"fields": {"certificate_serial": _typed(cert.serial_hex), "reason": "other", "reason_detail": "Điều động"}},
    )
    assert patched["fields"]["certificate_serial"] == cert.serial_hex and patched["certificate_id"] == cert.id


def test_one_way_of_writing_a_serial():
    spec = spec_of(RequestType.REVOCATION).field("certificate_serial")
    assert clean_serial(" 54:01:0a 3F ") == "54010a3f"  # the stored, matched form
    assert display_value(spec, "54010a3f") == "54010A3F"
    assert spec.form_value("54010a3f") == "54010A3F" and spec.form_value(None) is None
    assert fields_for_display(
        RequestType.REVOCATION, {"certificate_serial": "54010a3f", "reason": "other", "reason_detail": "abc"}
    ) == {"certificate_serial": "54010A3F", "reason": "other", "reason_detail": "abc"}
    # Other fields are written as stored.
    assert fields_for_display(RequestType.NEW_INDIVIDUAL, {"email": "mai.td@langson.gov.vn"}) == {
        "email": "mai.td@langson.gov.vn"
    }


def test_the_annex_pdf_keeps_a_long_serial_whole(tmp_path):
    """Upper-case digits are wider: a 20-byte serial (40 digits, the widest letters) still fits its cell
    unbroken, and so does the holder's name beside it; the long reasons wrap instead."""
    serial = "D" * 40
    columns = [spec.label for spec in spec_of(RequestType.REVOCATION).fields]
    columns = ["Đơn vị đề nghị", "Số đề nghị", "Chủ thể chứng thư số", *columns]
    rows = [
        ["UBND xã Tân Đoàn", "2", "Vi Văn Tùng", serial, "Thôi việc, chuyển ra ngoài khu vực nhà nước", "", ""],
        [
            "UBND xã Tân Đoàn",
            "3",
            "Nguyễn Văn An",
            serial,
            "Lý do khác",
            "Điều động sang đơn vị khác của tỉnh theo quyết định số 123/QĐ-UBND ngày 01/11/2026",
            "20/12/2026",
        ],
    ]
    rows = [row + [""] * (len(columns) - len(row)) for row in rows]  # the fields after the date left blank
    path = tmp_path / "annex.pdf"
    path.write_bytes(build_annex_pdf([AnnexTable(title="Bảng 1", columns=columns, rows=rows)], heading="PHỤ LỤC"))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert text.count(serial) == 2 and "Vi Văn Tùng" in text and "Nguyễn Văn An" in text, text
