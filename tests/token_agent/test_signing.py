"""prepare → approve → issue on SoftHSM tokens, each output checked by pyHanko, pdfsig and qpdf."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import ImageChops
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from token_agent import appearance, demo, signing
from token_agent.certs import to_asn1
from token_agent.errors import (
    DocumentError,
    PlacementNotFoundError,
    SigningRefusedError,
)
from token_agent.verification import SIGNING_KEY_USAGE, Modification, Verdict

from .conftest import (
    field_rects,
    pdfsig,
    pixel_box,
    qpdf_ok,
    render,
    signer_on,
    tampered,
    today,
)


def test_formats_follow_decree_30():
    assert signing.format_number("1/UBND-VHTT") == "01/UBND-VHTT"
    assert signing.format_number("193/UBND-VHTT") == "193/UBND-VHTT"
    assert signing.format_date_line("Văn Quan", dt.date(2026, 2, 5)) == "Văn Quan, ngày 05 tháng 02 năm 2026"
    assert signing.format_date_line("Văn Quan", dt.date(2026, 11, 21)) == "Văn Quan, ngày 21 tháng 11 năm 2026"
    assert signing.format_date_line("Văn Quan", dt.date(2026, 3, 9)) == "Văn Quan, ngày 09 tháng 3 năm 2026"
    for wrong in ("UBND-VHTT", "9" * 5000 + "/UBND-VHTT", "٣/UBND-VHTT", "²/UBND-VHTT", "1/" + "X" * 61):
        with pytest.raises(SigningRefusedError):
            signing.format_number(wrong)


def test_prepare_places_fields_where_the_draft_has_them(issuing_round):
    reader = PdfFileReader(issuing_round.prepared.open("rb"))
    fields = {f.get_object()["/T"]: f.get_object() for f in reader.root["/AcroForm"]["/Fields"]}
    assert set(fields) == {signing.NUMBER_FIELD, signing.DATE_FIELD, signing.PERSONAL_FIELD, signing.ORGANISATION_FIELD}
    personal = [float(v) for v in fields[signing.PERSONAL_FIELD]["/Rect"]]
    seal = [float(v) for v in fields[signing.ORGANISATION_FIELD]["/Rect"]]
    assert seal[2] == pytest.approx(personal[0] + (personal[2] - personal[0]) / 3)
    assert qpdf_ok(issuing_round.prepared)


def test_prepare_says_what_it_cannot_find(tmp_path):
    with pytest.raises(PlacementNotFoundError, match="Trần Văn Bình"):
        signing.prepare(demo.make_draft(), signer_name="Trần Văn Bình")
    with pytest.raises(PlacementNotFoundError, match="Số:"):
        signing.prepare(demo.make_draft(with_number=False), signer_name=demo.SIGNER)


def test_approved_file_is_valid_three_ways(issuing_round, verifier, nss_db):
    report = verifier.verify(issuing_round.approved.read_bytes())
    (personal,) = report.signatures
    assert personal.field_name == signing.PERSONAL_FIELD
    assert personal.verdict is Verdict.TOTAL_PASSED and personal.modification is Modification.NONE
    assert personal.signer.common_name == "Nguyễn Văn An" and personal.signer.uid == "CCCD:001234567890"
    (checked,) = pdfsig(issuing_round.approved, nss_db)
    assert checked.valid and checked.trusted, checked.text
    assert qpdf_ok(issuing_round.approved)


def test_issue_keeps_the_personal_signature_valid(issuing_round, world, nss_db):
    context = ValidationContext(trust_roots=[to_asn1(world.root.cert)])
    reader = PdfFileReader(issuing_round.issued.open("rb"))
    personal, organisation = reader.embedded_signatures
    status = validate_pdf_signature(personal, context, key_usage_settings=SIGNING_KEY_USAGE)
    assert status.intact and status.valid and status.trusted
    assert status.modification_level is ModificationLevel.FORM_FILLING
    assert validate_pdf_signature(organisation, context, key_usage_settings=SIGNING_KEY_USAGE).trusted
    assert len({s.signed_revision for s in reader.embedded_signatures}) == 2
    checked = pdfsig(issuing_round.issued, nss_db)
    assert [c.signer for c in checked] == ["Nguyễn Văn An", "UBND huyện Văn Quan"]
    assert all(c.valid and c.trusted for c in checked), [c.text for c in checked]
    assert qpdf_ok(issuing_round.issued)


def test_issue_fills_number_and_date(issuing_round):
    reader = PdfFileReader(issuing_round.issued.open("rb"))
    values = {f.get_object()["/T"]: f.get_object().get("/V") for f in reader.root["/AcroForm"]["/Fields"]}
    assert values[signing.NUMBER_FIELD] == "01/UBND-VHTT"
    assert values[signing.DATE_FIELD] == signing.format_date_line("Văn Quan", today())


def test_issue_refuses_without_a_personal_signature(issuing_round, images, verifier):
    with signer_on("VAN-THU") as signer, pytest.raises(SigningRefusedError) as raised:
        signing.issue(
            issuing_round.prepared.read_bytes(),
            signer,
            images["seal"],
            number="2/UBND-VHTT",
            place="Văn Quan",
            issue_date=today(),
            verifier=verifier,
        )
    assert raised.value.code == "personal_missing"


def test_issue_refuses_another_date(issuing_round, images, verifier):
    with signer_on("VAN-THU") as signer, pytest.raises(SigningRefusedError) as raised:
        signing.issue(
            issuing_round.approved.read_bytes(),
            signer,
            images["seal"],
            number="2/UBND-VHTT",
            place="Văn Quan",
            issue_date=today() + dt.timedelta(days=1),
            verifier=verifier,
        )
    assert raised.value.code == "date_mismatch"


def test_issue_refuses_a_broken_personal_signature(issuing_round, images, verifier):
    with signer_on("VAN-THU") as signer, pytest.raises(SigningRefusedError) as raised:
        signing.issue(
            tampered(issuing_round.approved.read_bytes()),
            signer,
            images["seal"],
            number="2/UBND-VHTT",
            place="Văn Quan",
            issue_date=today(),
            verifier=verifier,
        )
    assert raised.value.code == "personal_invalid"


def test_a_signed_field_is_not_signed_again(issuing_round, images):
    with signer_on("LANH-DAO") as signer, pytest.raises(SigningRefusedError) as raised:
        signing.approve(issuing_round.approved.read_bytes(), signer, images["signature"])
    assert raised.value.code == "already_signed"


def test_output_never_overwrites_input(issuing_round):
    with pytest.raises(DocumentError):
        signing.write_output(issuing_round.issued, issuing_round.issued, b"")


def _blue(r, g, b):
    return b > 140 and r < 110 and g < 130


def _red(r, g, b):
    return r > 170 and g < 90 and b < 100


def test_rendered_signer_block(issuing_round):
    """On the rendered last page: the blue signature inside its field, the red seal over its left third."""
    dpi = 50
    scale = dpi / 72
    image = render(issuing_round.issued, 1, dpi)
    height = image.size[1]
    rects = field_rects(issuing_round.issued)

    def to_pixels(rect):
        x1, y1, x2, y2 = rect
        return x1 * scale, height - y2 * scale, x2 * scale, height - y1 * scale

    blue, red = pixel_box(image, _blue), pixel_box(image, _red)
    assert blue is not None and red is not None
    personal, seal = to_pixels(rects[signing.PERSONAL_FIELD]), to_pixels(rects[signing.ORGANISATION_FIELD])
    assert personal[0] - 2 <= blue[0] and blue[2] <= personal[2] + 2
    assert personal[1] - 2 <= blue[1] and blue[3] <= personal[3] + 2
    assert seal[0] - 2 <= red[0] and red[2] <= seal[2] + 2
    covered = (red[2] - blue[0]) / (blue[2] - blue[0])
    assert 0.2 < covered < 0.45, covered
    assert red[0] < blue[0]  # the seal sits on the left


@pytest.mark.parametrize("role", ["appendix", "copy"])
def test_top_right_signatures(role, issuing_round, nss_db, verifier, tmp_path):
    attachment = tmp_path / "phu-luc.pdf"
    attachment.write_bytes(demo.make_draft(with_number=False))
    with signer_on("VAN-THU") as signer:
        if role == "appendix":
            signed = signing.sign_appendix(attachment.read_bytes(), signer, number="1/UBND-VHTT")
        else:
            signed = signing.sign_copy(attachment.read_bytes(), signer, kind=signing.CopyKind.SAO_Y)
    output = tmp_path / f"{role}.pdf"
    signing.write_output(attachment, output, signed)
    (signature,) = verifier.verify(signed).signatures
    assert signature.field_name == signing.TOP_RIGHT_FIELD and signature.verdict is Verdict.TOTAL_PASSED
    (checked,) = pdfsig(output, nss_db)
    assert checked.valid and checked.trusted and qpdf_ok(output)
    x1, y1, x2, y2 = field_rects(output)[signing.TOP_RIGHT_FIELD]
    page_width, page_height = A4
    assert x2 == pytest.approx(page_width - 15 * appearance.MM, abs=1)
    assert y2 == pytest.approx(page_height - 5 * appearance.MM, abs=1)
    header_top = page_height - 20 * appearance.MM + 11
    with signer_on("VAN-THU") as signer:
        with_header = signing.sign_appendix(demo.make_draft(), signer, number="1/UBND-VHTT")
    (_x1, low, _x2, high) = field_rects(with_header)[signing.TOP_RIGHT_FIELD]
    assert low > header_top and high < page_height  # above the header's first line, still on the page
    image = render(output, 0, 50)
    ink = pixel_box(
        image.crop((int(x1 * 50 / 72), 0, image.size[0], int((page_height - y1) * 50 / 72) + 1)),
        lambda r, g, b: r < 100 and g < 100 and b < 100,
    )
    assert ink is not None  # black text drawn in the top right box


def test_timestamp_server_gives_pades_b_t(issuing_round, images, verifier, tsa_url, nss_db, tmp_path):
    with signer_on("LANH-DAO") as signer:
        signed = signing.approve(issuing_round.prepared.read_bytes(), signer, images["signature"], tsa_url=tsa_url)
    (signature,) = verifier.verify(signed).signatures
    assert signature.verdict is Verdict.TOTAL_PASSED and signature.timestamp is not None
    assert abs(signature.timestamp - signature.signing_time) < dt.timedelta(minutes=1)
    output = tmp_path / "b-t.pdf"
    signing.write_output(issuing_round.prepared, output, signed)
    (checked,) = pdfsig(output, nss_db)
    assert checked.valid and checked.trusted and qpdf_ok(output)


def test_rendered_number_and_date_change_only_their_fields(issuing_round):
    """Page 1 before and after issuing differs only inside the number and date fields, and in both."""
    dpi = 50
    scale = dpi / 72
    before, after = render(issuing_round.prepared, 0, dpi), render(issuing_round.issued, 0, dpi)
    difference = ImageChops.difference(before, after).convert("L").point(lambda v: 255 if v > 40 else 0)
    changed = difference.getbbox()
    assert changed is not None
    height = after.size[1]
    rects = field_rects(issuing_round.issued)
    boxes = [
        (x1 * scale, height - y2 * scale, x2 * scale, height - y1 * scale)
        for x1, y1, x2, y2 in (rects[signing.NUMBER_FIELD], rects[signing.DATE_FIELD])
    ]
    left, top = min(b[0] for b in boxes) - 2, min(b[1] for b in boxes) - 2
    right, bottom = max(b[2] for b in boxes) + 2, max(b[3] for b in boxes) + 2
    assert left <= changed[0] and top <= changed[1] and changed[2] <= right and changed[3] <= bottom
    for box in boxes:
        assert difference.crop(tuple(int(v) for v in box)).getbbox() is not None


def test_prepare_finds_lines_written_as_separate_runs():
    """Word processors write "Số:", "/UBND-VHTT" and the parts of the date line as separate runs."""
    appearance.register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for font, size, x, y, text in (
        (appearance.REGULAR, 13, 100, 760, "Số:"),
        (appearance.REGULAR, 13, 150, 760, "/UBND-VHTT"),
        (appearance.ITALIC, 14, 300, 760, "Văn Quan, ngày"),
        (appearance.ITALIC, 14, 420, 760, "tháng"),
        (appearance.ITALIC, 14, 480, 760, "năm 2026"),
        (appearance.BOLD, 13, 380, 300, "CHỦ TỊCH"),
        (appearance.BOLD, 14, 380, 200, demo.SIGNER),
    ):
        canvas.setFont(font, size)
        canvas.drawString(x, y, text)
    canvas.save()
    places = signing.prepare(buffer.getvalue(), signer_name=demo.SIGNER).places
    number, date = places[signing.NUMBER_FIELD], places[signing.DATE_FIELD]
    assert number.x1 < 130 and 220 < number.x2 < 300  # the symbol is in, the date column is not
    assert date.x1 <= 300 and date.x2 >= 480 + appearance.text_width("năm 2026", appearance.ITALIC, 14)
