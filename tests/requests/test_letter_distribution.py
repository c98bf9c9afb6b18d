"""The proposal letter's "Kính gửi" and "Nơi nhận" per batch (issue 15, item 16): the focal office's by default,
set by the officer for one batch until its letter is made, with the "Bản điện tử:" part seed 002 prints under
the paper recipients; bounded, refused under the field that is wrong, changing nothing. Through the service,
the printed letter (text positions), the batch page and the API."""

from __future__ import annotations

import html
import json
import re
import subprocess

import pytest
from sqlalchemy import select

from certsvc.audit.models import AuditEntry
from certsvc.errors import Conflict, ValidationFailed
from certsvc.orgs.models import DEFAULT_RECIPIENT
from certsvc.requests import batches
from certsvc.requests.letters import DOCUMENTS
from certsvc.requests.models import Batch, RequestStatus
from certsvc.requests.papers.letter import MAX_DISTRIBUTION_ROWS
from tests.support.api import Api
from tests.support.requests import audit_count, bring_to, create_letter, draft, focal, open_batch

ELECTRONIC = ["Sở TT&TT;", "Chủ tịch, các PCT UBND huyện;", "LĐVP, CVTH."]
SO = "Sở Khoa học và Công nghệ tỉnh Lạng Sơn"


def _batch(session, world, *, lock: bool = True) -> Batch:
    request = bring_to(session, world, draft(session, world), RequestStatus.ACCEPTED)
    batch = open_batch(session, world)
    batches.add_requests(session, focal(world), batch, [request.id])
    if lock:
        batches.lock_batch(session, focal(world), batch)
    session.commit()
    return batch


def _set(session, world, batch, **values) -> None:
    batches.set_distribution(session, focal(world), batch, values)
    session.commit()


def _words(tmp_path, pdf: bytes) -> list[tuple[str, float, float]]:
    """Every word of the first page: (text, left, top) in points from the top left."""
    path = tmp_path / "cong-van.pdf"
    path.write_bytes(pdf)
    page = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-bbox", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return [
        (html.unescape(text), float(left), float(top))
        for left, top, text in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', page)
    ]


def _lines(words) -> list[tuple[str, float, float]]:
    """Words on one baseline joined, top to bottom: (text, left of its first word, top)."""
    rows: dict[float, list[tuple[float, str]]] = {}
    for text, left, top in words:
        rows.setdefault(round(top), []).append((left, text))
    return [
        (" ".join(text for _left, text in sorted(row)), min(left for left, _text in row), top)
        for top, row in sorted(rows.items())
    ]


def _distribution_block(tmp_path, pdf: bytes) -> list[tuple[str, float, float]]:
    """The lines of the left column from "Nơi nhận:" down (the signer block sits to their right)."""
    lines = _lines(word for word in _words(tmp_path, pdf) if word[1] < 280)  # left of the signer block (30 + 70 mm)
    start = next(index for index, line in enumerate(lines) if line[0].startswith("Nơi nhận:"))
    return lines[start:]


# --- the default, and the batch's own ------------------------------------------------------------------


def test_by_default_the_letter_prints_the_focal_office_recipients_without_an_electronic_part(session, world, tmp_path):
    batch = _batch(session, world)
    block = _distribution_block(tmp_path, DOCUMENTS["letter.pdf"].build(batch))
    assert [text for text, _left, _top in block] == ["Nơi nhận:", "- Như trên;", "- Lưu: VT, VHTT."]
    assert batch.letter_recipient == DEFAULT_RECIPIENT


def test_the_batch_recipients_print_with_the_electronic_part_under_the_paper_ones(session, world, tmp_path):
    batch = _batch(session, world)
    _set(
        session,
        world,
        batch,
        letter_recipient=SO,
        distribution_lines="- Như trên;\n\n  Sở Thông tin và Truyền thông;\nLưu: VT, VHTT.",
        electronic_distribution_lines="\n".join(ELECTRONIC),
    )
    assert batch.distribution_lines == "Như trên;\nSở Thông tin và Truyền thông;\nLưu: VT, VHTT."  # dash dropped
    pdf = DOCUMENTS["letter.pdf"].build(batch)
    block = _distribution_block(tmp_path, pdf)
    assert [text for text, _left, _top in block] == [
        "Nơi nhận:",
        "- Như trên;",
        "- Sở Thông tin và Truyền thông;",
        "- Lưu: VT, VHTT.",
        "Bản điện tử:",
        *(f"- {line}" for line in ELECTRONIC),
    ]
    tops = [top for _text, _left, top in block]
    assert tops == sorted(tops)  # one under the other, the electronic part after "Lưu"
    label_left = block[0][1]
    assert all(abs(left - label_left) < 1 for _text, left, _top in block)  # all on the column's left edge
    kinh_gui = next(text for text, _left, _top in _lines(_words(tmp_path, pdf)) if text.startswith("Kính gửi:"))
    assert kinh_gui == f"Kính gửi: {SO}"


def test_a_batch_recipient_set_while_open_is_kept_when_it_is_locked(session, world):
    batch = _batch(session, world, lock=False)
    _set(session, world, batch, letter_recipient=SO)
    batches.lock_batch(session, focal(world), batch)
    session.commit()
    assert batch.letter_recipient == SO
    # Cleared while locked: the office's recipient now, frozen again.
    _set(session, world, batch, letter_recipient="")
    assert batch.letter_recipient == DEFAULT_RECIPIENT


def test_the_letter_document_records_what_it_prints(session, world):
    batch = _batch(session, world)
    _set(session, world, batch, electronic_distribution_lines="\n".join(ELECTRONIC))
    letter = create_letter(session, world, batch)
    assert letter.distribution_lines.splitlines() == [
        "- Như trên;",
        "- Lưu: VT, VHTT.",
        "Bản điện tử:",
        *(f"- {line}" for line in ELECTRONIC),
    ]
    with pytest.raises(Conflict) as refused:
        batches.set_distribution(session, focal(world), batch, {"distribution_lines": "Như trên;"})
    assert refused.value.code == "letter_exists"


# --- bounds: refused under the field, nothing changed --------------------------------------------------


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("distribution_lines", "\n".join(f"Nơi số {n};" for n in range(21)), "Nhiều quá 20 dòng"),
        ("electronic_distribution_lines", "Sở " + "x" * 200, "tối đa 200 ký tự"),
        ("distribution_lines", "Như trên;\x07", "điều khiển"),
        ("letter_recipient", "Cục " + "y" * 260, "Dài quá 255 ký tự"),
        (
            "electronic_distribution_lines",
            "\n".join(
                "Các cơ quan, đơn vị thuộc Ủy ban nhân dân huyện Văn Quan và các xã, thị trấn;" for _ in range(20)
            ),
            f"dài quá {MAX_DISTRIBUTION_ROWS} dòng",
        ),
    ],
)
def test_refused_recipients_change_nothing(session, world, field, value, message):
    batch = _batch(session, world)
    before = (batch.letter_recipient, batch.distribution_lines, batch.electronic_distribution_lines)
    entries = audit_count(session)
    with pytest.raises(ValidationFailed) as refused:
        batches.set_distribution(session, focal(world), batch, {field: value})
    session.rollback()
    assert list(refused.value.field_errors) == [field] and message in refused.value.field_errors[field]
    session.refresh(batch)
    assert (batch.letter_recipient, batch.distribution_lines, batch.electronic_distribution_lines) == before
    assert audit_count(session) == entries


def test_a_change_is_audited(session, world):
    batch = _batch(session, world)
    _set(session, world, batch, electronic_distribution_lines="Sở TT&TT.")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.distribution_set")).one()
    assert entry.object_id == str(batch.id)
    assert json.loads(entry.details)["electronic_distribution_lines"] == "Sở TT&TT."


# --- the batch page ------------------------------------------------------------------------------------


@pytest.fixture
def focal_page(make_browser, world):
    browser = make_browser()
    browser.login("focalofficer")
    return browser


def test_the_batch_page_sets_the_recipients_and_shows_errors_under_their_field(focal_page, session, world):
    batch = _batch(session, world)
    url = f"/requests/batches/{batch.id}"
    page = focal_page.get(url).get_data(as_text=True)
    assert "Nơi nhận của công văn đề nghị" in page
    assert ">Như trên;\nLưu: VT, VHTT.</textarea>" in page  # the lines the letter prints now, to edit
    too_long = "Sở " + "z" * 200
    refused = focal_page.post(
        f"{url}/distribution",
        {"letter_recipient": SO, "distribution_lines": "Như trên;", "electronic_distribution_lines": too_long},
    )
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    field = re.search(r'<div class="field has-error">\s*<label for="d-electronic">.*?</div>', body, re.S)
    assert field and "Mỗi dòng tối đa 200 ký tự." in field.group(0)  # under its own field
    assert f'value="{SO}"' in body and too_long in body  # what was typed is kept
    session.refresh(batch)
    assert batch.electronic_distribution_lines is None
    done = focal_page.post(
        f"{url}/distribution",
        {
            "letter_recipient": SO,
            "distribution_lines": "Như trên;\nLưu: VT.",
            "electronic_distribution_lines": "Sở TT&TT.",
        },
    )
    assert done.status_code == 302
    page = focal_page.get(url).get_data(as_text=True)
    assert "Đã lưu nơi nhận của công văn đề nghị." in page
    facts = re.search(r'<dd class="distribution">(.*?)</dd>', page, re.S).group(1)
    assert " ".join(re.sub(r"<[^>]+>", " ", facts).split()) == "- Như trên; - Lưu: VT. Bản điện tử: - Sở TT&amp;TT."
    # Once the letter is made, the form is gone and a late post is refused.
    create_letter(session, world, batch)
    assert "Lưu nơi nhận" not in focal_page.get(url).get_data(as_text=True)
    late = focal_page.post(f"{url}/distribution", {"distribution_lines": "Như trên;"})
    assert late.status_code == 409 and "nơi nhận không đổi được nữa" in late.get_data(as_text=True)


# --- the API --------------------------------------------------------------------------------------------


def test_the_api_sets_and_shows_the_recipients(app, session, world):
    batch = _batch(session, world)
    api = Api(app, session, focal(world))
    shown = api.get(f"/batches/{batch.id}")
    assert (shown["letter_recipient"], shown["distribution_lines"], shown["electronic_distribution_lines"]) == (
        DEFAULT_RECIPIENT,
        ["Như trên;", "Lưu: VT, VHTT."],
        [],
    )
    changed = api.post(
        f"/batches/{batch.id}/distribution",
        {
            "letter_recipient": SO,
            "distribution_lines": ["- Như trên;", "Lưu: VT."],
            "electronic_distribution_lines": ELECTRONIC,
        },
    )
    assert changed["letter_recipient"] == SO and changed["distribution_lines"] == ["Như trên;", "Lưu: VT."]
    assert changed["electronic_distribution_lines"] == ELECTRONIC
    fields = api.refused(
        "POST",
        f"/batches/{batch.id}/distribution",
        {"distribution_lines": ["Như trên;", 7], "electronic_distribution_lines": {"a": 1}},
        status=400,
        code="validation_failed",
    )
    assert set(fields) == {"distribution_lines", "electronic_distribution_lines"}
    session.refresh(batch)
    assert batch.electronic_distribution_lines == "\n".join(ELECTRONIC)
