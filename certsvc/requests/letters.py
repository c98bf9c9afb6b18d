"""The documents of a locked batch: the proposal letter and its annex, from the batch's requests, and the
letter as the clerk issued it (:mod:`certsvc.requests.batch_letter`); the annex names that letter's number.

The layout is :mod:`certsvc.requests.papers`; this module only says what they contain (the annex's
tables: :mod:`certsvc.requests.annex_content`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from certsvc.documents.files import content, latest
from certsvc.documents.models import FileKind, NumberState
from certsvc.errors import Conflict, NotFound
from certsvc.orgs.models import Organisation, office_recipient
from certsvc.orgs.names import authority_lines, formal_name, header_names, place_name
from certsvc.requests.annex_content import annex_tables
from certsvc.requests.models import Batch, BatchStatus, RequestType
from certsvc.requests.papers.annex_pdf import build_annex_pdf
from certsvc.requests.papers.annex_tables import build_annex_csv, build_annex_xlsx
from certsvc.requests.papers.letter import LetterData, build_letter_pdf

__all__ = [
    "DOCUMENTS",
    "BatchDocument",
    "annex_tables",
    "batch_purpose",
    "batch_recipient",
    "batch_distribution",
    "distribution_of",
    "dashed",
    "usual_distribution",
    "issuing_body",
    "form_of_address",
    "letter_data",
    "letter_reference",
    "build_document",
]

#: How the body addresses the recipient, by the first word of its name; anything else is "Quý cơ quan".
_ADDRESS_BY_KIND = {"cục": "Quý Cục", "sở": "Quý Sở", "ban": "Quý Ban"}


@dataclass(frozen=True)
class BatchDocument:
    filename: str
    mimetype: str
    build: Callable[[Batch], bytes]


def issuing_body(batch: Batch) -> Organisation:
    """The committee the focal office writes the letter for (the office itself when it has no parent)."""
    return batch.focal_office.parent or batch.focal_office


def _symbol(batch: Batch) -> str:
    """The letter's symbol: the issuing body's, then the focal office's (``UBND-VHTT``)."""
    return f"{issuing_body(batch).symbol}-{batch.focal_office.symbol}"


def batch_recipient(batch: Batch) -> str:
    """The batch's "Kính gửi": as frozen when it was locked; the office's current one before that
    (and for batches locked before the recipient was kept)."""
    return batch.letter_recipient or office_recipient(batch.focal_office)


def form_of_address(recipient: str) -> str:
    """How the letter's body addresses ``recipient``: "Quý Cục", "Quý Sở", "Quý Ban" or "Quý cơ quan"."""
    words = unicodedata.normalize("NFC", recipient).split(maxsplit=1)
    return _ADDRESS_BY_KIND.get(words[0].casefold(), "Quý cơ quan") if words else "Quý cơ quan"


#: What the letter asks the CA to do for each kind of request, in the order the letter names them.
_VERBS = (
    (frozenset({RequestType.NEW_INDIVIDUAL, RequestType.NEW_ORGANISATION, RequestType.NEW_DEVICE}), "cấp"),
    (frozenset({RequestType.RENEWAL}), "gia hạn"),
    (frozenset({RequestType.CHANGE}), "thay đổi thông tin"),
    (frozenset({RequestType.REVOCATION}), "thu hồi"),
)
_CERTIFICATES = "chứng thư số chuyên dùng công vụ"
_RECOVERY = "khôi phục thiết bị lưu khóa bí mật"


def batch_purpose(kinds: Iterable[RequestType]) -> str:
    """What a batch holding requests of ``kinds`` asks for, as its letter's "V/v" line and opening say it:
    "cấp, thu hồi chứng thư số chuyên dùng công vụ", "… và khôi phục thiết bị lưu khóa bí mật"."""
    present = set(kinds)
    verbs = [verb for group, verb in _VERBS if group & present]
    asked = [f"{', '.join(verbs)} {_CERTIFICATES}"] if verbs else []
    if RequestType.RECOVERY in present:
        asked.append(_RECOVERY)
    return " và ".join(asked) or _CERTIFICATES


def usual_distribution(office: Organisation) -> list[str]:
    """The "Nơi nhận" a focal office's letters print unless a batch says otherwise: the recipient ("Như trên")
    and the copy kept by the clerk and the office."""
    return ["Như trên;", f"Lưu: VT, {office.symbol}."]


def distribution_of(office: Organisation, paper: str | None, electronic: str | None) -> tuple[list[str], list[str]]:
    """A letter's "Nơi nhận" lines and its "Bản điện tử:" lines, without their dashes: ``paper`` (or the
    office's usual lines) and ``electronic`` (or none), each stored one a line."""
    return (paper.splitlines() if paper else usual_distribution(office)), (electronic or "").splitlines()


def batch_distribution(batch: Batch) -> tuple[list[str], list[str]]:
    """The batch's "Nơi nhận" and its "Bản điện tử:" part (:func:`distribution_of`)."""
    return distribution_of(batch.focal_office, batch.distribution_lines, batch.electronic_distribution_lines)


def dashed(lines: list[str]) -> list[str]:
    """Lines of a list as the letter prints them, each after its dash."""
    return [f"- {line}" for line in lines]


def letter_data(batch: Batch) -> LetterData:
    body = issuing_body(batch)
    superior, name = header_names(body)
    authority = authority_lines(body, batch.signer_title) or [batch.signer_title.upper()]
    recipient = batch_recipient(batch)
    address = form_of_address(recipient)
    counts = [(kind.label, sum(1 for r in batch.requests if r.request_type is kind)) for kind in RequestType]
    purpose = batch_purpose(r.request_type for r in batch.requests)
    paper, electronic = batch_distribution(batch)
    return LetterData(
        issuing_body_parent=superior,
        issuing_body=name,
        symbol=_symbol(batch),
        place=place_name(body),
        summary=f"V/v đề nghị {purpose}",
        recipients=[recipient],
        opening=(
            "Căn cứ Nghị định số 68/2024/NĐ-CP ngày 25/6/2024 của Chính phủ quy định về chữ ký số chuyên dùng "
            f"công vụ; trên cơ sở đề nghị của các cơ quan, đơn vị, {formal_name(body)} "
            f"đề nghị {address} xem xét, {purpose} như sau:"
        ),
        counts=[(label, count) for label, count in counts if count],
        closing=f"Trân trọng đề nghị {address} quan tâm, giải quyết./.",
        copies_to=dashed(paper),
        electronic_copies_to=dashed(electronic),
        signer_authority=authority[0],
        signer_title="\n".join(authority[1:]),
        signer_name=batch.signer_name,
        annex_reference="(Chi tiết tại Phụ lục kèm theo)",
        agency_code=body.agency_code or "",
        issuing_body_name=formal_name(body),
        reference=letter_reference(batch),
    )


def letter_reference(batch: Batch) -> tuple[str, date] | None:
    """The proposal letter's number and date: its register entry once the number is taken (not abandoned),
    or the typed ones of a batch sent before letters were documents; None before."""
    letter = batch.letter_document
    entry = letter.number_entry if letter is not None else None
    if entry is not None and entry.state is not NumberState.ABANDONED:
        return entry.symbol, entry.issue_date
    if batch.document_number and batch.document_date:
        return batch.document_number, batch.document_date
    return None


def _heading(batch: Batch) -> str:
    """The annex's heading as Nghị định 30 sets an appendix out: "Phụ lục", its title in capitals, and the
    letter it goes with: number and date from the register once taken, and the issuing body."""
    reference = letter_reference(batch)
    if reference is None:
        letter = f"Công văn số      /{_symbol(batch)} ngày      tháng      năm      "
    else:
        number, day = reference
        letter = f"Công văn số {number} ngày {day:%d} tháng {day:%m} năm {day:%Y}"
    purpose = batch_purpose(r.request_type for r in batch.requests)
    body = formal_name(issuing_body(batch))
    return f"Phụ lục\nDANH SÁCH ĐỀ NGHỊ {purpose.upper()}\n(Kèm theo {letter} của {body})"


def _signed_letter(batch: Batch) -> bytes:
    """The letter as the clerk issued it (both signatures, number and date)."""
    issued = latest(batch.letter_document, FileKind.ISSUED) if batch.letter_document else None
    if issued is None:
        raise NotFound("Công văn đề nghị của đợt chưa được ký phát hành.")
    return content(issued)


DOCUMENTS: dict[str, BatchDocument] = {
    "letter.pdf": BatchDocument(
        "cong-van-de-nghi.pdf", "application/pdf", lambda batch: build_letter_pdf(letter_data(batch))
    ),
    "signed-letter.pdf": BatchDocument("cong-van-de-nghi-da-ky.pdf", "application/pdf", _signed_letter),
    "annex.pdf": BatchDocument(
        "phu-luc.pdf", "application/pdf", lambda batch: build_annex_pdf(annex_tables(batch), heading=_heading(batch))
    ),
    "annex.xlsx": BatchDocument(
        "phu-luc.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        lambda batch: build_annex_xlsx(annex_tables(batch), heading=_heading(batch)),
    ),
    "annex.csv": BatchDocument(
        "phu-luc.csv", "text/csv; charset=utf-8", lambda batch: build_annex_csv(annex_tables(batch))
    ),
}


def build_document(batch: Batch, name: str) -> tuple[BatchDocument, bytes]:
    """One document of a locked (or sent) batch; Conflict while the batch is open or cannot be built."""
    document = DOCUMENTS.get(name)
    if document is None:
        raise NotFound("Không có tài liệu này.")
    if batch.status is BatchStatus.OPEN:
        raise Conflict("Chốt đợt tổng hợp trước khi tạo công văn và phụ lục.", code="batch_not_locked")
    try:
        return document, document.build(batch)
    except ValueError as error:
        raise Conflict(f"Không tạo được tài liệu: {error}", code="document_failed") from error
