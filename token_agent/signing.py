"""Preparing drafts and signing them for each step of issuing an electronic document (Nghị định 30/2020).

- :func:`prepare` adds to a plain draft the empty form fields the later steps fill: the number and the date
  (text fields) and the two signature fields of the signer block (personal, then the seal over its left third).
- :func:`approve`: the competent person's signature, their blue signature image in the signer block.
- :func:`issue`: the clerk fills number and date and adds the organisation's signature with the red seal, all
  in ONE incremental revision, so the personal signature stays valid (pyHanko: modification level FORM_FILLING).
  A file carrying the metadata of Quyết định 28/2018 gets its number, date and identifier in the same revision
  (:mod:`.document_metadata`).
- :func:`sign_appendix` and :func:`sign_copy`: the organisation's signature at the top right of the first
  page, no image, text in Times New Roman metrics size 10 with the signing time in ISO 8601 (+07:00).
Signatures are PAdES baseline B-B (B-T when a timestamp server is given).
"""

from __future__ import annotations

import datetime as dt
import enum
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pkcs11
from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import PdfContent
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import (
    AxisAlignment,
    BoxConstraints,
    Margins,
    SimpleBoxLayoutRule,
)
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import SigningError
from pyhanko.sign.pkcs11 import PKCS11Signer
from pyhanko.stamp import StaticStampStyle

from . import appearance, document_metadata, placement
from .certs import is_ca, summarise_subject, to_asn1
from .errors import (
    DocumentError,
    KeyNotFoundError,
    PlacementNotFoundError,
    SigningRefusedError,
    TokenAgentError,
)
from .pkcs11_access import find_private_key, is_ec, list_certificates
from .placement import BASELINE_DEPTH, Box
from .verification import Verdict, Verifier, open_pdf

__all__ = [
    "VN_TZ",
    "NUMBER_FIELD",
    "DATE_FIELD",
    "PERSONAL_FIELD",
    "ORGANISATION_FIELD",
    "TOP_RIGHT_FIELD",
    "SEAL_DIAMETER",
    "CopyKind",
    "Prepared",
    "prepare",
    "token_signer",
    "approve",
    "issue",
    "sign_appendix",
    "sign_copy",
    "format_number",
    "format_date_line",
    "vn_iso_time",
    "seal_box",
    "write_output",
]

VN_TZ = dt.timezone(dt.timedelta(hours=7))
"""Vietnam time (ICT, UTC+07:00, no daylight saving)."""

NUMBER_FIELD = "SoKyHieu"
DATE_FIELD = "DiaDanhNgayThang"
PERSONAL_FIELD = "ChuKyCaNhan"
ORGANISATION_FIELD = "ChuKyCoQuan"
TOP_RIGHT_FIELD = "ChuKyCoQuanGocPhai"

SEAL_DIAMETER = 36 * appearance.MM
"""Real size of a district committee's round seal (configurable in :func:`prepare`)."""

_TOP_RIGHT_MARGIN = 15 * appearance.MM
_TOP_MARGIN = 5 * appearance.MM
_EDGE = 1 * appearance.MM
#: A register's number (ASCII digits: int() takes other scripts' digits too, and has a limit) and its symbol.
_NUMBER = re.compile(r"^\s*([0-9]{1,7})\s*/\s*(\S{1,60})\s*$")
_DA = re.compile(r"/(\S+)\s+([\d.]+)\s+Tf")
_FALLBACK_FONTS = {appearance.REGULAR: "/Times-Roman", appearance.ITALIC: "/Times-Italic"}


class CopyKind(enum.StrEnum):
    """Forms of electronic copy (Nghị định 30/2020, Điều 25)."""

    SAO_Y = "SAO Y"
    SAO_LUC = "SAO LỤC"
    TRICH_SAO = "TRÍCH SAO"


@dataclass(frozen=True)
class Prepared:
    """A prepared draft and where its fields were put."""

    pdf: bytes
    places: dict[str, Box]


# --- formats -------------------------------------------------------------------------------------------


def format_number(number: str) -> str:
    """``1/UBND-VHTT`` → ``01/UBND-VHTT``: numbers below 10 get a leading zero."""
    match = _NUMBER.match(number)
    if match is None:
        raise SigningRefusedError(f"Số và ký hiệu «{number}» không đúng dạng «01/UBND-VHTT».", code="bad_number")
    return f"{int(match.group(1)):02d}/{match.group(2)}"


def format_date_line(place: str, day: dt.date) -> str:
    """``Văn Quan, ngày 05 tháng 02 năm 2026``: days below 10 and months 1 and 2 get a leading zero."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def vn_iso_time(moment: dt.datetime) -> str:
    """``2026-11-21T09:30:00+07:00``: ISO 8601 in Vietnam time, to the second (Nghị định 30, Phụ lục I)."""
    return moment.astimezone(VN_TZ).isoformat(timespec="seconds")


# --- files ---------------------------------------------------------------------------------------------


def write_output(source: Path, target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically (temporary file, fsync, rename); never over ``source``."""
    if target.exists() and target.resolve() == source.resolve():
        raise DocumentError("Tệp kết quả phải khác tệp đầu vào.", code="output_is_input")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _writer(pdf: bytes) -> IncrementalPdfFileWriter:
    """An incremental writer on ``pdf``; an encrypted file keeps its encryption (opened as :func:`open_pdf` does,
    the new revision is encrypted with the same key, as incremental updates must be)."""
    reader = open_pdf(pdf)
    try:
        return IncrementalPdfFileWriter.from_reader(reader)
    except (PdfError, ValueError) as exc:
        raise DocumentError(f"Không đọc được tệp PDF: {exc}", code="pdf_unreadable") from exc


# --- prepare -------------------------------------------------------------------------------------------


def _form(writer: IncrementalPdfFileWriter) -> generic.DictionaryObject:
    return writer.root["/AcroForm"]


def _add_text_field(
    writer: IncrementalPdfFileWriter, name: str, box: Box, font: str, size: float, centred: bool
) -> None:
    page_ref = writer.find_page_for_modification(box.page)[0]
    field = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Annot"),
            pdf_name("/Subtype"): pdf_name("/Widget"),
            pdf_name("/FT"): pdf_name("/Tx"),
            pdf_name("/T"): generic.TextStringObject(name),
            pdf_name("/F"): generic.NumberObject(4),
            pdf_name("/Rect"): generic.ArrayObject(generic.FloatObject(v) for v in box.rect),
            pdf_name("/P"): page_ref,
            pdf_name("/DA"): generic.TextStringObject(f"/{font} {size:g} Tf 0 g"),
            pdf_name("/Q"): generic.NumberObject(1 if centred else 0),
        }
    )
    ref = writer.add_object(field)
    writer.register_annotation(page_ref, ref)
    form = _form(writer)
    form["/Fields"].append(ref)
    form[pdf_name("/DR")] = generic.DictionaryObject(
        {
            pdf_name("/Font"): generic.DictionaryObject(
                {
                    pdf_name(f"/{alias}"): generic.DictionaryObject(
                        {
                            pdf_name("/Type"): pdf_name("/Font"),
                            pdf_name("/Subtype"): pdf_name("/Type1"),
                            pdf_name("/BaseFont"): pdf_name(base),
                            pdf_name("/Encoding"): pdf_name("/WinAnsiEncoding"),
                        }
                    )
                    for alias, base in _FALLBACK_FONTS.items()
                }
            )
        }
    )
    writer.update_container(form)


def seal_box(personal: Box, diameter: float = SEAL_DIAMETER) -> Box:
    """The seal's square: its right third over the left third of the personal signature, centred on its height."""
    right = personal.x1 + personal.width / 3
    middle = (personal.y1 + personal.y2) / 2
    return Box(personal.page, right - diameter, middle - diameter / 2, right, middle + diameter / 2)


def _text_place(found: tuple[Box, float] | None, given: Box | None) -> tuple[Box, float]:
    if given is not None:
        return given, placement.font_size_for(given.height)
    assert found is not None
    return found


def prepare(
    pdf: bytes,
    *,
    signer_name: str | None = None,
    number_box: Box | None = None,
    date_box: Box | None = None,
    signature_box: Box | None = None,
    seal_diameter: float = SEAL_DIAMETER,
) -> Prepared:
    """Add the number and date text fields and the personal and organisation signature fields.

    Places are found on the pages unless given: ``Số:`` and the date line on the first page, the signer's
    name on the last. Raises PlacementNotFoundError with a message saying what was not found.
    """
    writer = _writer(pdf)
    if any(_find_field(writer, name) is not None for name in (PERSONAL_FIELD, NUMBER_FIELD)):
        raise DocumentError("Dự thảo đã được chuẩn bị (đã có trường chữ ký, số, ngày).", code="already_prepared")
    page_count = int(writer.root["/Pages"]["/Count"])
    first_lines = placement.read_lines(pdf, 0)
    number, number_size = _text_place(None if number_box else placement.number_place(first_lines), number_box)
    date, date_size = _text_place(None if date_box else placement.date_place(first_lines), date_box)
    if signature_box is None:
        if not signer_name:
            raise PlacementNotFoundError("Cần tên người ký (--signer) hoặc vị trí chữ ký (--signature-box).")
        signature_box = placement.signer_place(placement.read_lines(pdf, page_count - 1), signer_name)
    seal = seal_box(signature_box, seal_diameter)
    for name, box in ((PERSONAL_FIELD, signature_box), (ORGANISATION_FIELD, seal)):
        fields.append_signature_field(writer, fields.SigFieldSpec(name, on_page=box.page, box=box.rect))  # type: ignore[arg-type]  # any numbers do
    _add_text_field(writer, NUMBER_FIELD, number, appearance.REGULAR, number_size, centred=False)
    _add_text_field(writer, DATE_FIELD, date, appearance.ITALIC, date_size, centred=True)
    out = io.BytesIO()
    writer.write(out)
    places = {NUMBER_FIELD: number, DATE_FIELD: date, PERSONAL_FIELD: signature_box, ORGANISATION_FIELD: seal}
    return Prepared(pdf=out.getvalue(), places=places)


# --- signing -------------------------------------------------------------------------------------------


def token_signer(session: pkcs11.Session, cert_label: str | None = None) -> PKCS11Signer:
    """A pyHanko signer for the token's one signing certificate (or the one labelled ``cert_label``)."""
    certs = list_certificates(session)
    usable = [
        c
        for c in certs
        if not is_ca(c.certificate) and cert_label in (None, c.label) and find_private_key(session, c) is not None
    ]
    if len(usable) != 1:
        wanted = f"«{cert_label}»" if cert_label else "nào"
        message = (
            f"Thiết bị không có chứng thư số {wanted} kèm khóa bí mật để ký."
            if not usable
            else "Thiết bị có nhiều chứng thư số: hãy chọn bằng --cert-label."
        )
        raise KeyNotFoundError(message)
    chosen = usable[0]
    return PKCS11Signer(
        session,
        signing_cert=to_asn1(chosen.certificate),
        key_id=chosen.key_id,
        ca_chain=[to_asn1(c.certificate) for c in certs if c is not chosen],
        other_certs_to_pull=(),
        use_raw_mechanism=is_ec(chosen.certificate),
    )  # see pkcs11_access.sign_with_key


class _PageAppearance(PdfContent):
    """A one-page PDF (drawn by :mod:`appearance`) shown as a signature's appearance."""

    def __init__(self, pdf: bytes) -> None:
        super().__init__()
        self._pdf = pdf

    def render(self) -> bytes:
        xobject = self._ensure_writer.import_page_as_xobject(PdfFileReader(io.BytesIO(self._pdf)))
        self.resources.xobject["/Appearance"] = xobject
        x1, y1, x2, y2 = xobject.get_object()["/BBox"]
        self.box = BoxConstraints(width=abs(x2 - x1), height=abs(y2 - y1))
        return b"/Appearance Do"


def _entry(dictionary: generic.DictionaryObject, key: str, default: object = None) -> object:
    """``dictionary[key]``, or ``default`` when absent: unlike ``dict.get`` it resolves references and decrypts
    the strings of an encrypted file (``get`` gives them as pyHanko's still encrypted proxies)."""
    try:
        return dictionary[key]
    except KeyError:
        return default


def _find_field(writer: IncrementalPdfFileWriter, name: str) -> generic.DictionaryObject | None:
    try:
        form_fields = _form(writer)["/Fields"]
    except KeyError:
        return None
    return next((ref.get_object() for ref in form_fields if _entry(ref.get_object(), "/T") == name), None)


def _field(writer: IncrementalPdfFileWriter, name: str) -> generic.DictionaryObject:
    field = _find_field(writer, name)
    if field is None:
        raise PlacementNotFoundError(
            f"Tệp không có trường «{name}»: hãy chuẩn bị dự thảo bằng «token-agent prepare».", code="field_missing"
        )
    return field


def _unsigned_field(writer: IncrementalPdfFileWriter, name: str) -> generic.DictionaryObject:
    field = _field(writer, name)
    if _entry(field, "/V") is not None:
        raise SigningRefusedError(f"Trường chữ ký «{name}» đã được ký.", code="already_signed")
    return field


def _size(rect: tuple[float, float, float, float] | Box) -> tuple[float, float]:
    x1, y1, x2, y2 = rect.rect if isinstance(rect, Box) else rect
    return abs(x2 - x1), abs(y2 - y1)


def _rect(field: generic.DictionaryObject) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in field["/Rect"])
    return x1, y1, x2, y2


def _fill_text_fields(writer: IncrementalPdfFileWriter, values: dict[str, str]) -> None:
    """Set the fields' values and give each an appearance stream (viewers show a field without one empty)."""
    filled = [_field(writer, name) for name in values]
    boxes = []
    for field, value in zip(filled, values.values(), strict=True):
        width, height = _size(_rect(field))
        match = _DA.search(str(_entry(field, "/DA", "")))  # prepare's fields say "/Font size Tf"; others may not
        font = match.group(1) if match else appearance.REGULAR
        size = float(match.group(2)) if match else placement.font_size_for(height)
        layout = appearance.TextLayout(
            font=font,
            size=size,
            centred=_entry(field, "/Q", 0) == 1,
            opaque=True,
            baseline_offset=BASELINE_DEPTH * size,
        )
        boxes.append(appearance.TextBox(width, height, (value,), layout))
    drawn = PdfFileReader(io.BytesIO(appearance.text_appearances(boxes)))
    for index, (field, value) in enumerate(zip(filled, values.values(), strict=True)):
        field[pdf_name("/V")] = generic.TextStringObject(value)
        field[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): writer.import_page_as_xobject(drawn, index)})
        writer.update_container(field)


def _reserve(signer: PKCS11Signer) -> int:
    """Room (in hex digits) for a B-B signature container: its certificates, a signature value of up to
    8192 bits and the signed attributes. Computed rather than estimated by pyHanko's dry-run signing; kept
    tight because every validation parses the reserved space as a hex string."""
    certificates = [signer.signing_cert, *signer.cert_registry]
    return 2 * (2048 + sum(len(c.dump()) for c in certificates))  # hexadecimal digits


def _sign(
    writer: IncrementalPdfFileWriter,
    signer: PKCS11Signer,
    field_name: str,
    drawn: bytes,
    *,
    new_field: Box | None = None,
    tsa_url: str | None = None,
) -> bytes:
    style = StaticStampStyle(
        background=_PageAppearance(drawn),
        border_width=0,
        background_opacity=1.0,
        background_layout=SimpleBoxLayoutRule(
            x_align=AxisAlignment.ALIGN_MID, y_align=AxisAlignment.ALIGN_MID, margins=Margins.uniform(0)
        ),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES
    )
    spec = (
        fields.SigFieldSpec(field_name, on_page=new_field.page, box=new_field.rect)  # type: ignore[arg-type]
        if new_field
        else None
    )
    timestamper = timestamps.HTTPTimeStamper(tsa_url) if tsa_url else None
    pdf_signer = signers.PdfSigner(metadata, signer, stamp_style=style, new_field_spec=spec, timestamper=timestamper)
    out = io.BytesIO()
    try:
        pdf_signer.sign_pdf(
            writer,
            existing_fields_only=new_field is None,
            output=out,
            bytes_reserved=None if tsa_url else _reserve(signer),
        )
    except (SigningError, PdfError, pkcs11.PKCS11Error) as exc:
        raise TokenAgentError(f"Ký không thành công: {exc}", code="signing_failed") from exc
    return out.getvalue()


def approve(pdf: bytes, signer: PKCS11Signer, signature_image: Path, *, tsa_url: str | None = None) -> bytes:
    """The competent person's signature in the prepared signer block, showing their signature image."""
    writer = _writer(pdf)
    width, height = _size(_rect(_unsigned_field(writer, PERSONAL_FIELD)))
    drawn = appearance.image_appearance(width, height, signature_image)
    return _sign(writer, signer, PERSONAL_FIELD, drawn, tsa_url=tsa_url)


def issue(
    pdf: bytes,
    signer: PKCS11Signer,
    seal_image: Path,
    *,
    number: str,
    place: str,
    issue_date: dt.date,
    verifier: Verifier,
    now: dt.datetime | None = None,
    tsa_url: str | None = None,
) -> bytes:
    """Fill number and date and add the organisation's signature with the seal, in one incremental revision.

    Refused when the personal signature is missing or does not pass verification, or when it, or this
    signature, is not made on the issuing date (both signatures must carry the issuing date). The document
    metadata of Quyết định 28/2018, when the file carries it, gets the number, the date and the identifier
    (:func:`.document_metadata.complete_on_issue`, which refuses a number or place it contradicts).
    """
    today = (now or dt.datetime.now(VN_TZ)).astimezone(VN_TZ).date()
    if today != issue_date:
        raise SigningRefusedError(
            f"Ngày ký ({today:%d/%m/%Y}) khác ngày ban hành ({issue_date:%d/%m/%Y}): "
            "chữ ký của cơ quan phải được ký đúng ngày ban hành.",
            code="date_mismatch",
        )
    writer = _writer(pdf)
    report = verifier.verify(writer.prev)
    personal = next((s for s in report.signatures if s.field_name == PERSONAL_FIELD), None)
    if personal is None:
        raise SigningRefusedError("Văn bản chưa có chữ ký số của người có thẩm quyền.", code="personal_missing")
    if personal.verdict is not Verdict.TOTAL_PASSED:
        raise SigningRefusedError(
            f"Chữ ký số của người có thẩm quyền không hợp lệ ({personal.verdict}, {personal.sub_indication}).",
            code="personal_invalid",
        )
    signed_on = personal.signing_time.astimezone(VN_TZ).date() if personal.signing_time else None
    if signed_on != issue_date:
        raise SigningRefusedError(
            "Người có thẩm quyền không ký vào ngày ban hành: hãy trình ký lại.", code="date_mismatch"
        )
    number_and_symbol = format_number(number)
    document_metadata.complete_on_issue(writer, number_and_symbol, place, issue_date)
    _fill_text_fields(writer, {NUMBER_FIELD: number_and_symbol, DATE_FIELD: format_date_line(place, issue_date)})
    width, height = _size(_rect(_unsigned_field(writer, ORGANISATION_FIELD)))
    drawn = appearance.image_appearance(width, height, seal_image)
    return _sign(writer, signer, ORGANISATION_FIELD, drawn, tsa_url=tsa_url)


def _sign_top_right(pdf: bytes, signer: PKCS11Signer, lines: list[str], tsa_url: str | None) -> bytes:
    writer = _writer(pdf)
    page = writer.find_page_for_modification(0)[0].get_object()
    _x1, _y1, page_right, page_top = (float(v) for v in page["/MediaBox"])
    layout = appearance.TextLayout(size=10)
    width = max(appearance.text_width(line, layout.font, layout.size) for line in lines) + 4
    height = len(lines) * layout.size * 1.2 + 4
    text_top = max((line.box.y2 for line in placement.read_lines(pdf, 0)), default=0.0)
    # in the top margin, pushed up (as far as the page edge) so that it does not cover the page's own text
    bottom = min(max(page_top - _TOP_MARGIN - height, text_top + 2), page_top - _EDGE - height)
    box = Box(0, page_right - _TOP_RIGHT_MARGIN - width, bottom, page_right - _TOP_RIGHT_MARGIN, bottom + height)
    drawn = appearance.text_appearances([appearance.TextBox(width, height, tuple(lines), layout)])
    return _sign(writer, signer, TOP_RIGHT_FIELD, drawn, new_field=box, tsa_url=tsa_url)


def _organisation_name(signer: PKCS11Signer) -> str:
    subject = summarise_subject(x509.load_der_x509_certificate(signer.signing_cert.dump()))
    return subject.organisation or subject.common_name


def sign_appendix(pdf: bytes, signer: PKCS11Signer, *, number: str, tsa_url: str | None = None) -> bytes:
    """An attachment in a separate file: number and symbol and signing time, top right of page 1, no image.

    The time shown is taken just before signing; the signature's own signing time follows within the second.
    """
    lines = [f"Số: {format_number(number)}", vn_iso_time(dt.datetime.now(VN_TZ))]
    return _sign_top_right(pdf, signer, lines, tsa_url)


def sign_copy(
    pdf: bytes, signer: PKCS11Signer, *, kind: CopyKind, copying_body: str | None = None, tsa_url: str | None = None
) -> bytes:
    """An electronic copy: copy form, copying body and signing time, top right of page 1, no image."""
    lines = [kind.value, copying_body or _organisation_name(signer), vn_iso_time(dt.datetime.now(VN_TZ))]
    return _sign_top_right(pdf, signer, lines, tsa_url)
