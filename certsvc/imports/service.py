"""CSV import of organisations and people: every row is written, or none.

A file is read whole, every row is checked with the same rules as the forms
(:func:`certsvc.orgs.service.clean_organisation`, :func:`certsvc.people.service.clean_person`)
plus what only a file can get wrong: headers, references by code or name, rows
repeated inside the file, rows outside the importing user's scope. If anything is
wrong, :class:`ImportRefused` lists every problem by line and column and nothing is
written; otherwise all rows are added in the caller's transaction with one audit entry.
"""

from __future__ import annotations

import csv
import enum
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.audit.service import Actor, record
from certsvc.core.validation import FieldError, clean_agency_code, clean_cccd
from certsvc.errors import CertsvcError, ValidationFailed
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.orgs.service import clean_organisation
from certsvc.people.models import Person
from certsvc.people.service import clean_person
from certsvc.policy import Permission, ensure, orgs_in_scope

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "SPECS",
    "Column",
    "ImportKind",
    "ImportProblem",
    "ImportRefused",
    "ImportResult",
    "ImportSpec",
    "Row",
    "import_csv",
    "read_rows",
]

#: Largest file accepted, in bytes.
MAX_BYTES = 5 * 1024 * 1024
#: Most data rows in one file.
MAX_ROWS = 5000
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


@dataclass(frozen=True)
class ImportResult:
    kind: ImportKind
    file_name: str
    sha256: str
    created_ids: tuple[int, ...]
    audit_seq: int

    @property
    def count(self) -> int:
        return len(self.created_ids)


@dataclass(frozen=True)
class Row:
    """A data row: its first line in the file, and its cells by column key."""

    line: int
    cells: Mapping[str, str]


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _QUOTE_LENGTH else text[: _QUOTE_LENGTH - 1] + "…"


def _refuse(message: str, line: int | None = None, column: str = "") -> ImportRefused:
    return ImportRefused([ImportProblem(line, column, message)])


# --- reading the file -------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Lower case without diacritics, words separated by one space: how headers and kinds are matched."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def _decode(content: bytes) -> str:
    if not content.strip():
        raise _refuse("Tệp rỗng: không có dữ liệu nào.")
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _refuse(
            "Tệp được lưu theo mã UTF-16 («Unicode Text»). Trong Excel, chọn Lưu thành (Save As) "
            "với kiểu «CSV UTF-8 (Comma delimited)» rồi tải lên lại."
        )
    if b"\x00" in content:
        raise _refuse("Tệp không phải là tệp văn bản CSV (có ký tự nhị phân).")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise _refuse(
            "Tệp không được lưu theo mã UTF-8 (có thể là mã Windows-1258 hoặc Windows-1252 mặc định của "
            "Excel), nên chữ tiếng Việt sẽ bị sai. Trong Excel, chọn Lưu thành (Save As) với kiểu "
            "«CSV UTF-8 (Comma delimited)» rồi tải lên lại.",
            line,
        ) from None
    if not text.strip():
        raise _refuse("Tệp rỗng: không có dữ liệu nào.")
    return unicodedata.normalize("NFC", text)


def _sniff_delimiter(text: str) -> str:
    """``;`` when the header line has more semicolons than commas, else ``,``."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if header.count(";") > header.count(",") else ","


def _records(text: str) -> Iterable[tuple[int, list[str]]]:
    """Non-empty CSV records with the line each starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text), strict=True)
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield start, cells
            start = reader.line_num + 1
    except csv.Error:
        raise _refuse("Dòng này không đọc được: ô quá dài hoặc dấu ngoặc kép không khớp.", start) from None


def _match_headers(spec: ImportSpec, line: int, headers: list[str]) -> list[Column | None]:
    """The column of each header cell (None for an empty one), or every header problem at once."""
    by_name = {_fold(name): column for column in spec.columns for name in column.names}
    problems: list[ImportProblem] = []
    matched: list[Column | None] = []
    seen: set[str] = set()
    for header in headers:
        folded = _fold(header)
        column = by_name.get(folded)
        if folded and column is None:
            problems.append(ImportProblem(line, _quote(header), "Không nhận ra cột này."))
        elif column is not None and column.key in seen:
            problems.append(ImportProblem(line, column.label, "Cột này xuất hiện hai lần."))
        elif column is not None:
            seen.add(column.key)
        matched.append(column)
    for column in spec.columns:
        if column.required and column.key not in seen:
            problems.append(ImportProblem(line, column.label, "Thiếu cột bắt buộc."))
    if problems:
        expected = ", ".join(f"«{column.label}»" for column in spec.columns)
        problems.append(ImportProblem(line, "", f"Các cột của tệp {spec.label.lower()}: {expected}."))
        raise ImportRefused(problems)
    return matched


def read_rows(spec: ImportSpec, content: bytes) -> list[Row]:
    """Decode and parse a file into rows keyed by column, or raise :class:`ImportRefused`."""
    if len(content) > MAX_BYTES:
        raise _refuse(f"Tệp lớn quá {MAX_BYTES // (1024 * 1024)} MB. Hãy chia thành nhiều tệp.")
    records = _records(_decode(content))
    header = next(records, None)
    if header is None:
        raise _refuse("Tệp rỗng: không có dữ liệu nào.")
    header_line, headers = header
    columns = _match_headers(spec, header_line, headers)
    rows: list[Row] = []
    problems: list[ImportProblem] = []
    for line, cells in records:
        if len(rows) == MAX_ROWS:
            raise _refuse(f"Tệp có hơn {MAX_ROWS} dòng dữ liệu. Hãy chia thành nhiều tệp.", line)
        values: dict[str, str] = {}
        for index, cell in enumerate(cells):
            column = columns[index] if index < len(columns) else None
            if column is not None:
                values[column.key] = cell
            elif cell.strip():
                problems.append(ImportProblem(line, f"Cột thứ {index + 1}", "Ô có dữ liệu nhưng cột không có tiêu đề."))
        rows.append(Row(line, values))
    if problems:
        raise ImportRefused(problems)
    if not rows:
        raise _refuse("Tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào.", header_line)
    return rows


# --- references to organisations ---------------------------------------------------------------


def _same_name(name: str) -> str:
    """A name as compared with another: the same letters, spaces collapsed."""
    return unicodedata.normalize("NFC", " ".join(name.split()))


@dataclass(frozen=True)
class _Target:
    """An organisation a cell refers to: one that exists, or a row earlier in the file."""

    org_id: int | None = None
    line: int | None = None


@dataclass
class _Directory:
    """Finds organisations by agency code or exact name, among those that exist and the file's rows."""

    names: dict[int, str]
    by_code: dict[str, list[_Target]] = field(default_factory=dict)
    by_name: dict[str, list[_Target]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> _Directory:
        directory = cls(names={})
        for org_id, name, code in session.execute(select(Organisation.id, Organisation.name, Organisation.agency_code)):
            directory.names[org_id] = name
            directory.add(_Target(org_id=org_id), name, code)
        return directory

    def add(self, target: _Target, name: object, code: object) -> None:
        if isinstance(code, str) and code:
            self.by_code.setdefault(code, []).append(target)
        if isinstance(name, str) and name.strip():
            self.by_name.setdefault(_same_name(name), []).append(target)

    def find(self, value: object, line: int) -> _Target | None:
        """The one organisation ``value`` names for the row at ``line``; FieldError otherwise."""
        text = _same_name(str(value or ""))
        if not text:
            return None
        try:
            code = clean_agency_code(text)
        except FieldError:
            code = None
        found = self.by_code.get(code, []) if code else self.by_name.get(text, [])
        earlier = [target for target in found if target.line is None or target.line < line]
        if len(earlier) == 1:
            return earlier[0]
        if len(earlier) > 1:
            raise FieldError(f"Có {len(earlier)} tổ chức cùng tên «{_quote(text)}»: hãy ghi mã định danh.")
        later = [target.line for target in found if target.line is not None and target.line >= line]
        if later:
            raise FieldError(f"«{_quote(text)}» ở dòng {later[0]}: dòng đó phải đứng trước dòng này.")
        raise FieldError(f"Không tìm thấy tổ chức «{_quote(text)}».")


# --- checking rows ------------------------------------------------------------------------------

#: Rows that failed: each row's line and its errors by field.
_Failures = list[tuple[int, dict[str, str]]]


@dataclass
class _Check:
    """What one row's checks found: cleaned values, or errors by field."""

    values: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def resolve(self, key: str, find: Callable[[], _Target | None]) -> _Target | None:
        try:
            return find()
        except FieldError as error:
            self.errors[key] = str(error)
            return None

    def clean(self, cleaner: Callable[[dict], dict], raw: dict) -> None:
        try:
            self.values = cleaner(raw)
        except ValidationFailed as failure:
            # The import's own findings (references, duplicates, scope) say more than the cleaner's.
            self.errors = {**failure.field_errors, **self.errors}


class _Duplicates:
    """Remembers the line where each value of one column first appeared in the file."""

    def __init__(self, label: str):
        self.label = label
        self.first_line: dict[str, int] = {}

    def check(self, check: _Check, key: str, value: str | None, line: int) -> None:
        if not value:
            return
        first = self.first_line.setdefault(value, line)
        if first != line:
            check.errors[key] = f"Trùng {self.label} với dòng {first}."


def _normalised(cleaner: Callable[[str], str | None], value: object) -> str | None:
    try:
        return cleaner(str(value or ""))
    except FieldError:
        return None  # the row's cleaner reports it


_KINDS = {_fold(name): kind for kind in OrgKind for name in (kind.value, kind.label)}


def _kind_code(check: _Check, value: object) -> str:
    text = str(value or "")
    kind = _KINDS.get(_fold(text))
    if kind is None and text.strip():
        check.errors["kind"] = (
            f"Loại «{_quote(text)}» không hợp lệ. Dùng một trong: " + "; ".join(k.label for k in OrgKind) + "."
        )
    return kind.value if kind else ""


def _scope_check(check: _Check, key: str, target: _Target | None, scope: set[int], directory: _Directory) -> None:
    if target is not None and target.org_id is not None and target.org_id not in scope:
        check.errors[key] = (
            f"Bạn không có quyền quản lý «{_quote(directory.names[target.org_id])}» nên không nhập được vào đó."
        )


@dataclass
class _OrgDraft:
    line: int
    values: dict
    parent: _Target
    focal: _Target | None
    #: The existing organisation this row's branch of the file hangs from.
    anchor_id: int


def _check_organisations(session: Session, by: Account, rows: list[Row]) -> tuple[list[_OrgDraft], _Failures]:
    directory = _Directory.load(session)
    scope = orgs_in_scope(session, by, Permission.MANAGE_ORGS)
    codes = _Duplicates("mã định danh")
    drafts: dict[int, _OrgDraft] = {}
    failures: _Failures = []
    for row in rows:
        # Every row goes in, so a reference to a later row can say where that row is.
        code = _normalised(clean_agency_code, row.cells.get("agency_code"))
        directory.add(_Target(line=row.line), row.cells.get("name"), code)
    for row in rows:
        check = _Check()
        raw = dict(row.cells)
        raw["kind"] = _kind_code(check, raw.get("kind"))
        parent = check.resolve("parent_id", lambda: directory.find(row.cells.get("parent_id"), row.line))
        focal = check.resolve("focal_office_id", lambda: directory.find(row.cells.get("focal_office_id"), row.line))
        anchor_id = _anchor(check, "parent_id", parent, drafts)
        _anchor(check, "focal_office_id", focal, drafts)
        _scope_check(check, "parent_id", parent, scope, directory)
        # A parent or focal office made by this file does not exist yet: its branch's existing
        # root stands in for it while the cleaner checks the other fields.
        raw["parent_id"] = anchor_id
        raw["focal_office_id"] = focal.org_id if focal is not None else None
        codes.check(check, "agency_code", _normalised(clean_agency_code, raw.get("agency_code")), row.line)
        check.clean(lambda fields: clean_organisation(session, fields), raw)
        if check.errors:
            failures.append((row.line, check.errors))
        elif parent is not None and anchor_id is not None:
            drafts[row.line] = _OrgDraft(row.line, check.values, parent, focal, anchor_id)
    return list(drafts.values()), failures


def _anchor(check: _Check, key: str, target: _Target | None, drafts: dict[int, _OrgDraft]) -> int | None:
    """The existing organisation ``target`` is, or hangs from; an error when its row has one."""
    if target is None:
        return None
    if target.org_id is not None:
        return target.org_id
    draft = drafts.get(target.line)
    if draft is None:
        check.errors.setdefault(key, f"Dòng {target.line} có lỗi: sửa dòng đó trước.")
        return None
    return draft.anchor_id


def _insert_organisations(session: Session, drafts: list[_OrgDraft]) -> list[int]:
    made: dict[int, Organisation] = {}
    for draft in drafts:
        values = dict(draft.values)
        links = {}
        for key, relation, target in (
            ("parent_id", "parent", draft.parent),
            ("focal_office_id", "focal_office", draft.focal),
        ):
            if target is not None and target.line is not None:
                # Made by this file: linked by object, so the flush inserts it first.
                values[key] = None
                links[relation] = made[target.line]
        made[draft.line] = Organisation(**values, **links)
        session.add(made[draft.line])
    session.flush()
    return [org.id for org in made.values()]


def _check_people(session: Session, by: Account, rows: list[Row]) -> tuple[list[dict], _Failures]:
    directory = _Directory.load(session)
    scope = orgs_in_scope(session, by, Permission.MANAGE_PEOPLE)
    numbers = _Duplicates("số CCCD")
    valid: list[dict] = []
    failures: _Failures = []
    for row in rows:
        check = _Check()
        raw = dict(row.cells)
        unit = check.resolve("organisation_id", lambda: directory.find(row.cells.get("organisation_id"), row.line))
        _scope_check(check, "organisation_id", unit, scope, directory)
        raw["organisation_id"] = unit.org_id if unit is not None else None
        numbers.check(check, "cccd", _normalised(clean_cccd, raw.get("cccd")), row.line)
        check.clean(lambda fields: clean_person(session, fields), raw)
        if check.errors:
            failures.append((row.line, check.errors))
        else:
            valid.append(check.values)
    return valid, failures


def _insert_people(session: Session, values: list[dict]) -> list[int]:
    people = [Person(**fields) for fields in values]
    session.add_all(people)
    session.flush()
    return [person.id for person in people]


def _problems(spec: ImportSpec, failures: _Failures) -> list[ImportProblem]:
    order = {column.key: index for index, column in enumerate(spec.columns)}
    labels = {column.key: column.label for column in spec.columns}
    return [
        ImportProblem(line, labels.get(key, ""), message)
        for line, errors in failures
        for key, message in sorted(errors.items(), key=lambda item: order.get(item[0], len(order)))
    ]


_OBJECT_TYPES = {ImportKind.ORGANISATIONS: "organisation", ImportKind.PEOPLE: "person"}


def import_csv(session: Session, by: Account, kind: ImportKind, file_name: str, content: bytes) -> ImportResult:
    """Import a CSV file of ``kind`` whole, in the caller's transaction (the caller commits).

    Raises :class:`ImportRefused` with every problem found, having written nothing.
    """
    ensure(session, by, Permission.IMPORT_DATA)
    spec = SPECS[kind]
    rows = read_rows(spec, content)
    if kind is ImportKind.ORGANISATIONS:
        drafts, failures = _check_organisations(session, by, rows)
        insert = partial(_insert_organisations, session, drafts)
    else:
        people, failures = _check_people(session, by, rows)
        insert = partial(_insert_people, session, people)
    if failures:
        raise ImportRefused(_problems(spec, failures))
    created = tuple(insert())
    digest = hashlib.sha256(content).hexdigest()
    details = {"count": len(created), "file_name": file_name, "sha256": digest, "created_ids": list(created)}
    entry = record(session, Actor.of(by), f"import.{kind.value}", _OBJECT_TYPES[kind], None, details)
    return ImportResult(kind, file_name, digest, created, entry.seq)
