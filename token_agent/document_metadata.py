"""The document metadata of Quyết định 28/2018/QĐ-TTg (and Nghị định 30/2020, Phụ lục VI) in a document's PDF,
for a receiving system to read without reading the page.

Written twice, with the same names (:class:`Entry`): in the Info dictionary (``/AgencyCode``, ``/DocumentType``,
…, text strings) and in the XMP packet under the namespace :data:`NAMESPACE` (prefix ``vbdt``). The standard
entries say the same where they exist: Title and Subject (the summary), Author (the issuing body), Keywords (the
type, the agency code and, once given, the number and symbol).

A value not known when the file is made is left out, not written empty: the number, the issuing date and the
document identifier exist once the issuing body's register gives the number. The identifier is
``<agency code>-<year>-<number, six digits>``, e.g. ``000.00.12.H30-2026-000193``: the agency code
(mã định danh), the year and the register's number, which together name one document of the body.

certsvc writes the metadata when it makes a letter (``certsvc.requests.papers.letter_metadata``, with these
names); the clerk's issuing step completes it with the number, the date and the identifier
(:func:`complete_on_issue`), in the incremental revision that fills the page's number and date fields.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from lxml import etree  # type: ignore[import-untyped]  # no stubs in the venv
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import DocumentMetadata, ExpandedName, XmpStructure, XmpValue
from pyhanko.pdf_utils.metadata.xmp_xml import MetadataStream

from .errors import SigningRefusedError

__all__ = ["NAMESPACE", "PREFIX", "Entry", "DocumentRecord", "xmp_fields", "complete_on_issue"]

#: The XMP namespace of these fields (a URN: no web address is promised).
NAMESPACE = "urn:certsvc:vanban:qd28-2018:1.0#"
PREFIX = "vbdt"
# lxml names the namespace ns0 unless told its prefix (a process-wide table, as pyHanko's own prefixes are).
etree.register_namespace(PREFIX, NAMESPACE)


class Entry(enum.StrEnum):
    """The metadata's names, as Info keys (``/AgencyCode``) and XMP properties (``vbdt:AgencyCode``), in the
    order they are written."""

    AGENCY_CODE = "AgencyCode"
    ISSUING_BODY = "IssuingBody"
    DOCUMENT_ID = "DocumentId"
    DOCUMENT_NUMBER = "DocumentNumber"
    DOCUMENT_SYMBOL = "DocumentSymbol"
    NUMBER_AND_SYMBOL = "NumberAndSymbol"
    ISSUE_DATE = "IssueDate"
    ISSUE_PLACE = "IssuePlace"
    DOCUMENT_TYPE = "DocumentType"
    SUMMARY = "Summary"
    SIGNER_AUTHORITY = "SignerAuthority"
    SIGNER_POSITION = "SignerPosition"
    SIGNER_NAME = "SignerName"

    @property
    def label(self) -> str:
        """What a clerk calls it, in a sentence (``ký hiệu``)."""
        return _LABELS[self]

    @property
    def info_key(self) -> str:
        return f"/{self.value}"


_LABELS = {
    Entry.AGENCY_CODE: "mã định danh cơ quan",
    Entry.ISSUING_BODY: "tên cơ quan ban hành",
    Entry.DOCUMENT_ID: "mã định danh văn bản",
    Entry.DOCUMENT_NUMBER: "số",
    Entry.DOCUMENT_SYMBOL: "ký hiệu",
    Entry.NUMBER_AND_SYMBOL: "số và ký hiệu",
    Entry.ISSUE_DATE: "ngày ban hành",
    Entry.ISSUE_PLACE: "địa danh",
    Entry.DOCUMENT_TYPE: "loại văn bản",
    Entry.SUMMARY: "trích yếu",
    Entry.SIGNER_AUTHORITY: "thẩm quyền ký",
    Entry.SIGNER_POSITION: "chức vụ người ký",
    Entry.SIGNER_NAME: "họ tên người ký",
}


@dataclass(frozen=True)
class DocumentRecord:
    """What Quyết định 28/2018 asks an outgoing document to carry, for one document."""

    agency_code: str
    """Mã định danh of the issuing body, e.g. ``000.00.12.H30``; ``""`` when the body has none recorded."""
    issuing_body: str
    """The body's name as a sentence names it, e.g. ``Ủy ban nhân dân huyện Văn Quan``."""
    document_type: str
    """e.g. ``Công văn``."""
    symbol: str
    """The part after ``Số: …/``, e.g. ``UBND-VHTT``."""
    summary: str
    """Trích yếu, e.g. ``V/v đề nghị cấp chứng thư số chuyên dùng công vụ``."""
    place: str
    signer_authority: str
    """The lines above the position, joined with `` / ``: ``TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH``; ``""`` for none."""
    signer_position: str
    signer_name: str
    number_and_symbol: str | None = None
    """``193/UBND-VHTT`` once the register gave the number; None before."""
    issue_date: date | None = None

    @property
    def number(self) -> str | None:
        return self.number_and_symbol.split("/", 1)[0] if self.number_and_symbol else None

    @property
    def identifier(self) -> str | None:
        number = self.number
        if not (self.agency_code and number and number.isascii() and number.isdigit() and self.issue_date):
            return None
        return f"{self.agency_code}-{self.issue_date.year}-{int(number):06d}"

    def fields(self) -> list[tuple[Entry, str]]:
        """(name, value) in a stable order, unknown values left out."""
        values = {
            Entry.AGENCY_CODE: self.agency_code,
            Entry.ISSUING_BODY: self.issuing_body,
            Entry.DOCUMENT_ID: self.identifier,
            Entry.DOCUMENT_NUMBER: self.number,
            Entry.DOCUMENT_SYMBOL: self.symbol,
            Entry.NUMBER_AND_SYMBOL: self.number_and_symbol,
            Entry.ISSUE_DATE: self.issue_date.isoformat() if self.issue_date else None,
            Entry.ISSUE_PLACE: self.place,
            Entry.DOCUMENT_TYPE: self.document_type,
            Entry.SUMMARY: self.summary,
            Entry.SIGNER_AUTHORITY: self.signer_authority,
            Entry.SIGNER_POSITION: self.signer_position,
            Entry.SIGNER_NAME: self.signer_name,
        }
        return [(name, value) for name, value in values.items() if value]

    def keywords(self) -> list[str]:
        return [value for value in (self.document_type, self.agency_code, self.number_and_symbol) if value]


def xmp_fields(fields: list[tuple[Entry, str]]) -> XmpStructure:
    """The fields as one XMP structure in :data:`NAMESPACE` (each an attribute ``vbdt:Name="value"``)."""
    return XmpStructure.of(*((ExpandedName(NAMESPACE, name), XmpValue(value)) for name, value in fields))


def _recorded(info: generic.DictionaryObject) -> dict[Entry, str]:
    """The entries the Info dictionary holds with a value, by name (``info[key]`` decrypts an encrypted file's
    strings, where ``get`` would not)."""
    values = {entry: str(info[entry.info_key]).strip() for entry in Entry if entry.info_key in info}
    return {entry: value for entry, value in values.items() if value}


def _shown(value: str, most: int = 80) -> str:
    """A value read from the file, as a message quotes it: a hostile file's may be of any length."""
    return value if len(value) <= most else f"{value[:most]}…"


def complete_on_issue(writer: IncrementalPdfFileWriter, number_and_symbol: str, place: str, issue_date: date) -> None:
    """Add the number and symbol, the issuing date and the identifier to the metadata the file already carries,
    in ``writer``'s revision: in the Info dictionary, in the XMP packet when the file has one, and in Keywords.

    A file whose Info dictionary has none of the :class:`Entry` names is left alone: nothing is invented. An
    entry the file already has must say what the issue says (the symbol, the place, a number or a date given
    earlier): otherwise the metadata would contradict the page, and the issue is refused (SigningRefusedError).
    ``number_and_symbol`` is as the page shows it (``07/UBND-VHTT``).
    """
    try:
        info = writer.trailer["/Info"]
    except KeyError:
        return
    recorded = _recorded(info)
    if not recorded:
        return
    record = DocumentRecord(
        agency_code=recorded.get(Entry.AGENCY_CODE, ""),
        issuing_body=recorded.get(Entry.ISSUING_BODY, ""),
        document_type=recorded.get(Entry.DOCUMENT_TYPE, ""),
        symbol=number_and_symbol.split("/", 1)[1],
        summary=recorded.get(Entry.SUMMARY, ""),
        place=place.strip(),
        signer_authority=recorded.get(Entry.SIGNER_AUTHORITY, ""),
        signer_position=recorded.get(Entry.SIGNER_POSITION, ""),
        signer_name=recorded.get(Entry.SIGNER_NAME, ""),
        number_and_symbol=number_and_symbol,
        issue_date=issue_date,
    )
    issued = dict(record.fields())
    contradicted = [
        f"{entry.label} «{_shown(value)}» (khi ban hành: «{issued.get(entry, '')}»)"
        for entry, value in recorded.items()
        if issued.get(entry) != value
    ]
    if contradicted:
        raise SigningRefusedError(
            f"Siêu dữ liệu của văn bản ghi {'; '.join(contradicted)}: hãy kiểm tra lại số, ký hiệu và địa danh.",
            code="metadata_mismatch",
        )
    added = [(entry, value) for entry, value in issued.items() if entry not in recorded]
    for entry, value in added:
        info[generic.pdf_name(entry.info_key)] = generic.TextStringObject(value)
    writer.update_container(info)
    writer.document_meta.keywords = record.keywords()  # pyHanko writes them into Info and XMP
    try:
        packet = writer.root["/Metadata"]  # as a MetadataStream, which get() would not give
    except KeyError:
        packet = None
    if isinstance(packet, MetadataStream) and added:
        # Appended to the packet itself, once (the writer's own xmp_extra would be appended at each of the
        # signer's writes); pyHanko merges the packet's structures into one when it writes the revision.
        packet.update_xmp_with_meta(DocumentMetadata(last_modified=None, xmp_extra=[xmp_fields(added)]))
        writer.update_container(packet)
