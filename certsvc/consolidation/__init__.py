"""Consolidation of accepted certificate requests into one batch and its documents.

:mod:`.documents` makes the batch's proposal letter (PDF, Nghị định 30/2020 layout, with the form and
signature fields token_agent fills and signs) and its annex (PDF, XLSX, CSV) from plain data.
"""

from .documents import (
    NUMBER_COLUMN,
    AnnexTable,
    LetterData,
    build_annex_csv,
    build_annex_csv_zip,
    build_annex_pdf,
    build_annex_xlsx,
    build_letter_pdf,
    format_count,
)

__all__ = [
    "NUMBER_COLUMN",
    "AnnexTable",
    "LetterData",
    "build_annex_csv",
    "build_annex_csv_zip",
    "build_annex_pdf",
    "build_annex_xlsx",
    "build_letter_pdf",
    "format_count",
]
