"""Each custody form marks (asterisk and the browser's ``required``) exactly the fields its kind of entry
requires, and the marks agree with the service: a marked field sent empty is refused under that field and
nothing is written; every field left unmarked may be sent empty."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, update

from certsvc.audit.models import AuditEntry
from certsvc.custody.models import CustodyEvent, Handover
from certsvc.registry.models import Token, TokenKind, TokenState
from tests.conftest import Browser
from tests.support.custody import handover_form

_FIELD = re.compile(r'<div class="field(?: has-error)?">(.*?)</div>', re.S)
_LABEL = re.compile(r'<label for="([a-z_]+)">')
_MARK = '<span class="required" title="Bắt buộc">*</span></label>'
_ERROR = re.compile(r'<small class="error">([^<]*)</small>')


def _fields(page: str) -> dict[str, str]:
    """The form's labelled fields, by name: each one's block (label, control, hint, errors)."""
    blocks = {}
    for block in _FIELD.findall(page):
        label = _LABEL.search(block)
        if label is not None:
            blocks[label.group(1)] = block
    return blocks


def _marked(page: str) -> set[str]:
    """The fields marked required, each with the asterisk and the ``required`` attribute on its control."""
    marked = set()
    for name, block in _fields(page).items():
        control = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{name}"[^>]*>', block)
        assert control is not None, name
        has_attribute = re.search(r"\srequired[\s>]", control.group(0)) is not None
        assert (_MARK in block) == has_attribute, (name, block)
        if has_attribute:
            marked.add(name)
    return marked


def _errors(page: str) -> dict[str, list[str]]:
    return {name: errors for name, block in _fields(page).items() if (errors := _ERROR.findall(block))}


def _written(session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(session.scalar(select(func.count()).select_from(m)) for m in (CustodyEvent, Handover, AuditEntry))


def _signed_in(browser: Browser, username: str) -> Browser:
    assert browser.login(username).status_code == 302
    return browser


def _agrees_with_the_service(
    browser: Browser, session, url: str, filled: dict[str, str], required: set[str], **unmarked: str
) -> None:
    """The page at ``url`` marks ``required``; each of them sent empty (the others as ``filled``) is refused
    with a message under it and writes nothing; the marked ones filled and every other field of the page empty
    (but for ``unmarked``: what a field that is not marked is sent as) are recorded."""
    page = browser.get(url).get_data(as_text=True)
    assert _marked(page) == required
    before = _written(session)
    for name in sorted(required):
        response = browser.post(url, {**filled, name: ""})
        assert response.status_code == 400, name
        assert list(_errors(response.get_data(as_text=True))) == [name]
        assert _written(session) == before
    empty = dict.fromkeys(_fields(page), "")
    response = browser.post(url, {**empty, **{name: filled[name] for name in required}, **unmarked})
    assert response.status_code == 302, _errors(response.get_data(as_text=True))
    assert _written(session) != before


def _text(seal, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, "Có nội dung") | {"keeper_id": str(seal.keeper.person_id)}


def test_receiving_marks_the_keeper(make_browser, session, world, seal):
    token = Token(
        serial="540101B7C8D9",
        kind=TokenKind.ORGANISATION,
        organisation=world.orgs["commune"],
        is_secret=True,
        state=TokenState.IN_STOCK,
    )
    session.add(token)
    session.commit()
    browser = _signed_in(make_browser(), seal.keeper.username)
    filled = _text(seal, "place", "condition", "accessories", "seal_numbers", "note")
    _agrees_with_the_service(browser, session, f"/custody/tokens/{token.id}/receive", filled, {"keeper_id"})


def test_a_loss_marks_its_circumstances(make_browser, session, seal):
    browser = _signed_in(make_browser(), seal.keeper.username)
    filled = _text(seal, "place", "circumstances", "note") | {"head_id": str(seal.head.person_id)}
    _agrees_with_the_service(browser, session, f"/custody/tokens/{seal.token.id}/lost", filled, {"circumstances"})


#: What the handover page marks whatever the settings.
_HANDOVER = {"giver_id", "receiver_id", "handed_date", "handed_time", "place", "condition", "reason"}


def test_a_handover_marks_its_parties_and_the_witness_the_settings_require(make_browser, session, seal):
    browser = _signed_in(make_browser(), seal.keeper.username)
    url = f"/custody/tokens/{seal.token.id}/handover"
    # The letter of permission is required unless the head is asked instead: neither is marked.
    _agrees_with_the_service(browser, session, url, handover_form(seal), _HANDOVER | {"witness_id"}, ask_approval="y")
    assert "Bắt buộc nhập số và ngày văn bản, trừ khi chọn xin thủ trưởng" in browser.get(url).get_data(as_text=True)


def test_without_a_required_witness_the_witness_is_not_marked(make_app, session, seal):
    browser = _signed_in(Browser(make_app(CERTSVC_CUSTODY_WITNESS_REQUIRED=False).test_client()), seal.keeper.username)
    url = f"/custody/tokens/{seal.token.id}/handover"
    _agrees_with_the_service(browser, session, url, handover_form(seal), _HANDOVER, ask_approval="y")
    assert session.scalars(select(Handover)).one().witness_id is None


@pytest.mark.parametrize(
    ("kind", "state", "required"),
    [
        ("inventory", TokenState.ACTIVE, set()),
        ("damaged", TokenState.ACTIVE, {"note"}),
        ("found", TokenState.LOST, {"keeper_id", "note"}),
        ("returned", TokenState.ACTIVE, {"ca_name", "ca_representative", "reason"}),
        ("destroyed", TokenState.DAMAGED, {"note"}),
    ],
)
def test_each_kind_of_event_marks_what_it_requires(make_browser, session, seal, kind, state, required):
    session.execute(update(Token).where(Token.id == seal.token.id).values(state=state))
    session.commit()
    browser = _signed_in(make_browser(), seal.keeper.username)
    url = f"/custody/tokens/{seal.token.id}/event?kind={kind}"
    filled = _text(seal, "place", "condition", "seal_numbers", "ca_name", "ca_representative", "reason", "note")
    _agrees_with_the_service(browser, session, url, filled, required)
    session.expire_all()
    assert session.scalars(select(CustodyEvent).order_by(CustodyEvent.seq.desc())).first().kind.value == kind


def test_an_event_page_asks_only_for_its_kind_s_own_fields(make_browser, seal):
    browser = _signed_in(make_browser(), seal.keeper.username)
    base = f"/custody/tokens/{seal.token.id}/event"
    returned = _fields(browser.get(f"{base}?kind=returned").get_data(as_text=True))
    found = _fields(browser.get(f"{base}?kind=found").get_data(as_text=True))
    inventory = _fields(browser.get(f"{base}?kind=inventory").get_data(as_text=True))
    assert {"ca_name", "reason"} <= set(returned) and "keeper_id" not in returned
    assert "keeper_id" in found and "ca_name" not in found
    assert set(inventory) == {"event_date", "event_time", "place", "condition", "seal_numbers", "note"}


@pytest.mark.parametrize("query", ["", "?kind=", "?kind=lost", "?kind=received"])
def test_without_a_kind_the_event_page_offers_the_kinds(make_browser, session, seal, query):
    browser = _signed_in(make_browser(), seal.keeper.username)
    url = f"/custody/tokens/{seal.token.id}/event{query}"
    page = browser.get(url).get_data(as_text=True)
    links = re.findall(rf'href="/custody/tokens/{seal.token.id}/event\?kind=([a-z]+)"', page)
    assert links == ["inventory", "damaged", "returned"]  # what a token in use allows
    assert "Ghi sổ: chọn sự việc" in page and "<form" not in page.split("<main", 1)[-1]
    before = _written(session)
    assert browser.post(url, {"note": "Không chọn sự việc"}).status_code == 400
    assert _written(session) == before


def test_the_kind_of_the_page_is_the_one_recorded(make_browser, session, seal):
    """A kind sent with the form does not change the page's: a damage page records a damage, with its note."""
    browser = _signed_in(make_browser(), seal.keeper.username)
    url = f"/custody/tokens/{seal.token.id}/event?kind=damaged"
    assert browser.post(url, {"kind": "inventory", "note": ""}).status_code == 400
    assert browser.post(url, {"kind": "inventory", "note": "Vỡ vỏ"}).status_code == 302
    session.expire_all()
    assert session.get(Token, seal.token.id).state is TokenState.DAMAGED


def test_a_refusal_of_the_kind_shows_above_the_form(make_browser, seal):
    browser = _signed_in(make_browser(), seal.keeper.username)
    response = browser.post(f"/custody/tokens/{seal.token.id}/event?kind=found", _text(seal, "note"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(
        r'class="flash flash-error" role="alert">\s*<p>Chỉ ghi «Tìm thấy» cho thiết bị đang báo mất.', page
    )


def test_an_event_the_token_s_state_does_not_allow_is_refused_on_the_filled_form(make_browser, session, seal):
    """Destroying a token still in use: refused with the reason above the form, what was typed kept, and
    nothing written; the choice of kinds shows it unavailable, with the same reason."""
    browser = _signed_in(make_browser(), seal.keeper.username)
    before = _written(session)
    response = browser.post(
        f"/custody/tokens/{seal.token.id}/event?kind=destroyed", {"note": "Hủy theo biên bản số 7", "place": "Kho"}
    )
    page = response.get_data(as_text=True)
    reason = "Chỉ ghi «Tiêu hủy» cho thiết bị ở trạng thái «Hỏng» hoặc «Đã nộp lại»; thiết bị này đang «Đang sử dụng»."
    assert response.status_code == 400
    assert reason in page.split('<div class="flash flash-error" role="alert">', 1)[1].split("</div>", 1)[0]
    assert "Hủy theo biên bản số 7" in page
    assert _written(session) == before
    assert session.get(Token, seal.token.id).state is TokenState.ACTIVE
    chooser = browser.get(f"/custody/tokens/{seal.token.id}/event").get_data(as_text=True)
    unavailable = re.findall(
        r'<li class="unavailable"><span>([^<]+)</span><small class="muted">([^<]+)</small>', chooser
    )
    assert ("Tiêu hủy", reason) in unavailable
    assert [label for label, _ in unavailable] == ["Tìm thấy", "Tiêu hủy"]
