"""The document metadata of Quyết định 28/2018/QĐ-TTg (and Nghị định 30/2020, Phụ lục VI) in a letter's PDF,
for a receiving system to read without reading the page.

Written twice, with the same names: in the Info dictionary (``/AgencyCode``, ``/DocumentType``, …, text strings)
and in the XMP packet under the namespace :data:`NAMESPACE` (prefix ``vbdt``). The standard entries say the
same where they exist: Title and Subject (the summary), Author (the issuing body), Keywords (the type, the
agency code and, once given, the number and symbol).

A value not known when the file is made is left out, not written empty: the number, the issuing date and the
document identifier exist once the issuing body's register gives the number. The identifier is
``<agency code>-<year>-<number, six digits>``, e.g. ``000.00.12.H30-2026-000193``: the agency code
(mã định danh), the year and the register's number, which together name one document of the body.

Pure: data in, bytes out.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from lxml import etree  # type: ignore[import-untyped]  # no stubs in the venv
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.metadata.model import ExpandedName, XmpStructure, XmpValue
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer

__all__ = ["NAMESPACE", "DocumentRecord", "with_metadata"]

#: The XMP namespace of these fields (a URN: no web address is promised).
NAMESPACE = "urn:certsvc:vanban:qd28-2018:1.0#"
_PREFIX = "vbdt"
# lxml names the namespace ns0 unless told its prefix (a process-wide table, as pyHanko's own prefixes are).
etree.register_namespace(_PREFIX, NAMESPACE)


@dataclass(frozen=True)
class DocumentRecord:
    """What Quyết định 28/2018 asks an outgoing document to carry, for one letter."""

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
        if not (self.agency_code and number and number.isdigit() and self.issue_date):
            return None
        return f"{self.agency_code}-{self.issue_date.year}-{int(number):06d}"

    def fields(self) -> list[tuple[str, str]]:
        """(name, value) in a stable order, unknown values left out."""
        values = {
            "AgencyCode": self.agency_code,
            "IssuingBody": self.issuing_body,
            "DocumentId": self.identifier,
            "DocumentNumber": self.number,
            "DocumentSymbol": self.symbol,
            "NumberAndSymbol": self.number_and_symbol,
            "IssueDate": self.issue_date.isoformat() if self.issue_date else None,
            "IssuePlace": self.place,
            "DocumentType": self.document_type,
            "Summary": self.summary,
            "SignerAuthority": self.signer_authority,
            "SignerPosition": self.signer_position,
            "SignerName": self.signer_name,
        }
        return [(name, value) for name, value in values.items() if value]

    def keywords(self) -> list[str]:
        return [self.document_type, *(value for value in (self.agency_code, self.number_and_symbol) if value)]


def with_metadata(pdf: bytes, record: DocumentRecord) -> bytes:
    """``pdf`` rewritten (one revision, as made) with ``record`` in its Info dictionary and XMP packet."""
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf), strict=False))
    meta = writer.document_meta
    meta.title = meta.subject = record.summary
    meta.author = record.issuing_body
    meta.keywords = record.keywords()
    meta.creator = "certsvc"
    meta.created = "now"
    meta.xmp_extra = [
        XmpStructure.of(*((ExpandedName(NAMESPACE, name), XmpValue(value)) for name, value in record.fields()))
    ]
    # With XMP written, pyHanko only updates the Info entries that exist: name them all here.
    info = generic.DictionaryObject(
        {
            generic.NameObject(f"/{name}"): generic.TextStringObject(value)
            for name, value in (
                ("Title", record.summary),
                ("Subject", record.summary),
                ("Author", record.issuing_body),
                ("Keywords", ",".join(record.keywords())),  # as pyHanko writes them
                ("Creator", "certsvc"),
                ("Producer", "certsvc"),
                ("CreationDate", ""),
                ("ModDate", ""),
                *record.fields(),
            )
        }
    )
    writer.set_info(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
