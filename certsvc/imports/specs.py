"""What an import file may hold: its kinds and their columns, and how problems with a file are told.

Headers and kinds are matched folded (:func:`fold`), so that a user's spelling, case and
diacritics do not matter; a user's text quoted back in a message is cut short (:func:`quote`).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from certsvc.errors import CertsvcError
from certsvc.orgs.models import OrgKind

__all__ = [
    "SPECS",
    "Column",
    "ImportKind",
    "ImportProblem",
    "ImportRefused",
    "ImportSpec",
    "fold",
    "quote",
]

#: How much of a user's text is quoted back in a message.
_QUOTE_LENGTH = 80


class ImportKind(enum.StrEnum):
    ORGANISATIONS = "organisations"
    PEOPLE = "people"

    @property
    def label(self) -> str:
        """What the user picks: «Tổ chức» or «Cán bộ»."""
        return SPECS[self].label

    @property
    def noun(self) -> str:
        """The word that follows a count: «3 tổ chức», «5 cán bộ»."""
        return SPECS[self].label.lower()


@dataclass(frozen=True)
class Column:
    """One column a file may have: ``key`` is the field name the cleaner reads."""

    key: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    hint: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """Every header text accepted for this column, as written in the documentation."""
        return (self.label, *self.aliases)


@dataclass(frozen=True)
class ImportSpec:
    kind: ImportKind
    label: str
    #: File name (without ``.csv``) of the example under ``docs/samples``.
    sample: str
    columns: tuple[Column, ...]


_EMAIL = Column("email", "Thư điện tử", ("Email", "E-mail"), hint="Địa chỉ thư công vụ.")

_ORG_REF_HINT = "mã định danh hoặc tên đúng nguyên văn của một tổ chức đã có, hoặc của một dòng phía trên trong tệp"

SPECS: dict[ImportKind, ImportSpec] = {
    ImportKind.ORGANISATIONS: ImportSpec(
        ImportKind.ORGANISATIONS,
        "Tổ chức",
        "to_chuc",
        (
            Column("name", "Tên cơ quan", ("Tên", "Tên tổ chức", "name"), True, "Tên đầy đủ."),
            Column("symbol", "Ký hiệu", ("symbol",), True, "Viết hoa, dùng trong số văn bản, ví dụ UBND, VHTT."),
            Column(
                "agency_code",
                "Mã định danh",
                ("agency_code",),
                False,
                "13 ký tự, bốn nhóm cách nhau bởi dấu chấm, ví dụ 000.00.12.H40.",
            ),
            Column(
                "kind",
                "Loại",
                ("Loại tổ chức", "kind"),
                True,
                "Một trong: " + "; ".join(kind.label for kind in OrgKind) + ".",
            ),
            Column("parent_id", "Cơ quan cấp trên", ("Cấp trên", "parent"), True, _ORG_REF_HINT.capitalize() + "."),
            Column(
                "focal_office_id",
                "Cơ quan đầu mối",
                ("Đầu mối", "focal_office"),
                False,
                "Nơi tổng hợp đề nghị cấp chứng thư số; để trống thì theo cấp trên. Ghi " + _ORG_REF_HINT + ".",
            ),
            Column("address", "Địa chỉ", ("address",)),
            _EMAIL,
            Column("tax_code", "Mã số thuế", ("MST", "tax_code"), hint="10 chữ số, hoặc 10 chữ số-3 chữ số."),
        ),
    ),
    ImportKind.PEOPLE: ImportSpec(
        ImportKind.PEOPLE,
        "Cán bộ",
        "can_bo",
        (
            Column("full_name", "Họ và tên", ("Họ tên", "full_name"), True),
            Column("position", "Chức vụ", ("position",)),
            Column(
                "organisation_id",
                "Đơn vị",
                ("Đơn vị công tác", "unit"),
                True,
                "Mã định danh hoặc tên đúng nguyên văn của một tổ chức đã có "
                "(kể cả tổ chức vừa nhập bằng tệp tổ chức).",
            ),
            Column("cccd", "Số CCCD", ("CCCD", "Căn cước công dân", "cccd"), hint="12 chữ số."),
            _EMAIL,
            Column("phone", "Điện thoại", ("Số điện thoại", "SĐT", "phone"), hint="Ví dụ 0912345678."),
        ),
    ),
}


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with a file: ``line`` counts the header as line 1; None means the whole file."""

    line: int | None
    column: str
    message: str


class ImportRefused(CertsvcError):
    """The file was not imported; ``problems`` says everything that is wrong with it."""

    code = "import_refused"
    http_status = 400

    def __init__(self, problems: Iterable[ImportProblem]):
        self.problems = tuple(problems)
        super().__init__(f"Tệp không được nhập: có {len(self.problems)} lỗi.")


def quote(text: str) -> str:
    """A user's text as a message quotes it: spaces collapsed, cut short."""
    text = " ".join(text.split())
    return text if len(text) <= _QUOTE_LENGTH else text[: _QUOTE_LENGTH - 1] + "…"


def fold(text: str) -> str:
    """Lower case without diacritics, words separated by one space: how headers and kinds are matched."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())
