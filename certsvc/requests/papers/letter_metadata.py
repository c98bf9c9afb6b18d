"""The document metadata of Quyết định 28/2018/QĐ-TTg in a letter's PDF, written when certsvc makes the letter.

The names, the namespace and the record are token_agent's (:mod:`token_agent.document_metadata`): the clerk's
issuing step there completes the same metadata with the number, the date and the identifier. A letter made
after its number was taken carries them from the start.

Pure: data in, bytes out.
"""

from __future__ import annotations

import io

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer

from token_agent.document_metadata import DocumentRecord, xmp_fields

__all__ = ["DocumentRecord", "with_metadata"]


def with_metadata(pdf: bytes, record: DocumentRecord) -> bytes:
    """``pdf`` rewritten (one revision, as made) with ``record`` in its Info dictionary and XMP packet."""
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf), strict=False))
    meta = writer.document_meta
    meta.title = meta.subject = record.summary
    meta.author = record.issuing_body
    meta.keywords = record.keywords()
    meta.creator = "certsvc"
    meta.created = "now"
    meta.xmp_extra = [xmp_fields(record.fields())]
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
