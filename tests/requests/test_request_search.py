"""Searching the request lists (the unit's list, the focal office's queue, the API) by the holder's name
(without its diacritics too), a CCCD, or a certificate serial in any format the forms accept; the search is
bounded, refused with its error under the field, and kept by the pager's links."""

from __future__ import annotations

import re

import pytest

from certsvc.accounts.models import Role
from certsvc.requests.models import RequestStatus
from tests.requests.test_requests_pages import signed_in, text
from tests.requests.test_requests_paging import add_requests, listed, page_links
from tests.support.api import Api
from tests.support.registry import add_certificate
from tests.support.requests import bring_to, draft, individual


@pytest.fixture
def requests(session, world):
    """Three requests of the commune: two people and a revocation of a registered certificate."""
    huong = draft(session, world, fields=individual(full_name="Nguyễn Thị Thu Hương", cccd="001096004512"))
    mai = draft(session, world, fields=individual(full_name="Hoàng Thị Mai", cccd="020196004513"))
    certificate = add_certificate(session, world.orgs["commune"], cn="Đặng Văn Đức")
    revocation = draft(session, world, "revocation", {"certificate_id": certificate.id, "reason": "retirement"})
    for request in (huong, mai, revocation):
        bring_to(session, world, request, RequestStatus.SUBMITTED)
    return {"huong": huong.id, "mai": mai.id, "revocation": revocation.id, "serial": certificate.serial_hex}


def _in_pairs(serial_hex: str) -> str:
    """The serial as a CA portal may show it: lower case, in pairs, colon-separated."""
    return ":".join(serial_hex[i : i + 2].lower() for i in range(0, len(serial_hex), 2))


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("nguyen thi thu", "huong"),  # diacritics left out
        ("HƯƠNG", "huong"),  # capitals, with diacritics
        ("dang van duc", "revocation"),  # the certificate's holder, for a request naming a certificate
        ("  hoàng   thị ", "mai"),  # spaces as typed
        ("001096004512", "huong"),
        ("0960045", "huong"),  # part of a CCCD
    ],
)
def test_the_units_list_finds_by_name_and_cccd(make_browser, requests, typed, found):
    page = signed_in(make_browser, "unitofficer").get("/requests/", query_string={"q": typed})
    assert page.status_code == 200 and listed(page) == [requests[found]]
    assert f'name="q" type="search" maxlength="100" value="{typed}"' in text(page)  # the search stays in its box


def test_a_serial_is_found_in_every_format_the_forms_accept(make_browser, requests):
    browser = signed_in(make_browser, "focalofficer")
    serial = requests["serial"]
    for typed in (serial, serial.lower(), _in_pairs(serial), " ".join(_in_pairs(serial).split(":")), serial[-8:]):
        page = browser.get("/requests/queue", query_string={"q": typed})
        assert listed(page) == [requests["revocation"]], typed


def test_a_search_that_finds_nothing_says_so(make_browser, requests):
    page = signed_in(make_browser, "focalofficer").get("/requests/queue", query_string={"q": "Lương Văn Bình"})
    assert page.status_code == 200 and listed(page) == [] and "Không có đề nghị nào phù hợp." in text(page)


@pytest.mark.parametrize(
    ("typed", "message"),
    [("a" * 101, "Nhập tối đa 100 ký tự"), ("Mai\u202e", "Có ký tự ẩn")],
)
def test_a_search_too_long_or_with_hidden_characters_is_refused_under_its_field(make_browser, requests, typed, message):
    page = signed_in(make_browser, "unitofficer").get("/requests/", query_string={"q": typed})
    assert page.status_code == 400 and listed(page) == []
    field = re.search(r'<div class="field has-error">\s*<label for="q-text">.*?</div>', text(page), re.S)
    assert field is not None and message in field.group(0)


def test_the_pager_keeps_the_search(make_browser, session, world):
    commune = world.orgs["commune"]
    found = add_requests(session, commune, 55, name="Lục Văn Tài")
    add_requests(session, commune, 20, name="Vi Thị Yến", first_minute=100)
    browser = signed_in(make_browser, "focalofficer")
    first = browser.get("/requests/queue", query_string={"q": "luc van tai"})
    assert listed(first) == found[:50] and "trong 55" in text(first)
    assert {"q": ["luc van tai"], "page": ["2"]} in page_links(first)
    second = browser.get("/requests/queue", query_string={"q": "luc van tai", "page": "2"})
    assert listed(second) == found[50:]


def test_the_api_takes_the_same_search(app, session, world, requests):
    api = Api(app, session, world.account(Role.UNIT_OFFICER))
    assert [item["id"] for item in api.get("/requests?q=nguyen%20thi")["items"]] == [requests["huong"]]
    assert [item["id"] for item in api.get(f"/requests?q={_in_pairs(requests['serial'])}")["items"]] == [
        requests["revocation"]
    ]
