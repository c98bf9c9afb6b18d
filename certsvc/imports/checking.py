"""Checking an import file's rows, all of them before any is written.

Every row is checked with the same rules as the forms (:func:`certsvc.orgs.service.clean_organisation`,
:func:`certsvc.people.service.clean_person`) plus what only a file can get wrong: references to
organisations by code or name, rows repeated inside the file, rows outside the importing user's
scope. If any row fails, :class:`~certsvc.imports.specs.ImportRefused` lists every problem by line
and column.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from certsvc.accounts.models import Account
from certsvc.core.validation import FieldError, clean_agency_code, clean_cccd
from certsvc.errors import ValidationFailed
from certsvc.imports.reading import Row
from certsvc.imports.specs import SPECS, ImportKind, ImportProblem, ImportRefused, fold, quote
from certsvc.orgs.models import Organisation, OrgKind
from certsvc.orgs.service import clean_organisation
from certsvc.people.service import clean_person
from certsvc.policy import Permission, orgs_in_scope

__all__ = ["ExistingOrg", "FileOrg", "OrgDraft", "check_organisations", "check_people"]


# --- references to organisations ---------------------------------------------------------------


@dataclass(frozen=True)
class ExistingOrg:
    """An organisation a cell refers to that is in the database."""

    org_id: int


@dataclass(frozen=True)
class FileOrg:
    """An organisation a cell refers to that a row earlier in the file makes."""

    line: int


def _same_name(name: str) -> str:
    """A name as compared with another: the same letters, spaces collapsed."""
    return unicodedata.normalize("NFC", " ".join(name.split()))


@dataclass
class _Directory:
    """Finds organisations by agency code or exact name, among those that exist and the file's rows."""

    names: dict[int, str]
    by_code: dict[str, list[ExistingOrg | FileOrg]] = field(default_factory=dict)
    by_name: dict[str, list[ExistingOrg | FileOrg]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> _Directory:
        directory = cls(names={})
        for org_id, name, code in session.execute(select(Organisation.id, Organisation.name, Organisation.agency_code)):
            directory.names[org_id] = name
            directory.add(ExistingOrg(org_id), name, code)
        return directory

    def add(self, target: ExistingOrg | FileOrg, name: object, code: object) -> None:
        if isinstance(code, str) and code:
            self.by_code.setdefault(code, []).append(target)
        if isinstance(name, str) and name.strip():
            self.by_name.setdefault(_same_name(name), []).append(target)

    def find(self, value: object, line: int) -> ExistingOrg | FileOrg | None:
        """The one organisation ``value`` names for the row at ``line``; FieldError otherwise."""
        text = _same_name(str(value or ""))
        if not text:
            return None
        try:
            code = clean_agency_code(text)
        except FieldError:
            code = None
        found = self.by_code.get(code, []) if code else self.by_name.get(text, [])
        earlier = [target for target in found if isinstance(target, ExistingOrg) or target.line < line]
        if len(earlier) == 1:
            return earlier[0]
        if len(earlier) > 1:
            raise FieldError(f"Có {len(earlier)} tổ chức cùng tên «{quote(text)}»: hãy ghi mã định danh.")
        later = [target.line for target in found if isinstance(target, FileOrg) and target.line >= line]
        if later:
            raise FieldError(f"«{quote(text)}» ở dòng {later[0]}: dòng đó phải đứng trước dòng này.")
        raise FieldError(f"Không tìm thấy tổ chức «{quote(text)}».")


# --- checking rows ------------------------------------------------------------------------------

#: Rows that failed: each row's line and its errors by field.
_Failures = list[tuple[int, dict[str, str]]]


@dataclass
class _Check:
    """What one row's checks found: cleaned values, or errors by field."""

    values: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def reference(self, directory: _Directory, row: Row, key: str) -> ExistingOrg | FileOrg | None:
        """The organisation the row's ``key`` cell names, None when it is empty or names none (an error)."""
        try:
            return directory.find(row.cells.get(key), row.line)
        except FieldError as error:
            self.errors[key] = str(error)
            return None

    def clean(self, cleaner: Callable[[dict[str, object]], dict], raw: dict[str, object]) -> None:
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


_KINDS = {fold(name): kind for kind in OrgKind for name in (kind.value, kind.label)}


def _kind_code(check: _Check, value: object) -> str:
    text = str(value or "")
    kind = _KINDS.get(fold(text))
    if kind is None and text.strip():
        check.errors["kind"] = (
            f"Loại «{quote(text)}» không hợp lệ. Dùng một trong: " + "; ".join(k.label for k in OrgKind) + "."
        )
    return kind.value if kind else ""


def _scope_check(
    check: _Check, key: str, target: ExistingOrg | FileOrg | None, scope: set[int], directory: _Directory
) -> None:
    if isinstance(target, ExistingOrg) and target.org_id not in scope:
        check.errors[key] = (
            f"Bạn không có quyền quản lý «{quote(directory.names[target.org_id])}» nên không nhập được vào đó."
        )


def _refuse_if_failed(kind: ImportKind, failures: _Failures) -> None:
    """Refuse the file with every failed row's errors, in the order of the file's columns."""
    if not failures:
        return
    spec = SPECS[kind]
    order = {column.key: index for index, column in enumerate(spec.columns)}
    labels = {column.key: column.label for column in spec.columns}
    raise ImportRefused(
        ImportProblem(line, labels.get(key, ""), message)
        for line, errors in failures
        for key, message in sorted(errors.items(), key=lambda item: order.get(item[0], len(order)))
    )


@dataclass
class OrgDraft:
    """An organisation row that passed its checks, with the organisations it refers to."""

    line: int
    values: dict
    parent: ExistingOrg | FileOrg
    focal: ExistingOrg | FileOrg | None
    #: The existing organisation this row's branch of the file hangs from.
    anchor_id: int


def check_organisations(session: Session, by: Account, rows: list[Row]) -> list[OrgDraft]:
    """The rows of an organisations file as drafts, parents before children; ImportRefused if any fails."""
    directory = _Directory.load(session)
    scope = orgs_in_scope(session, by, Permission.MANAGE_ORGS)
    codes = _Duplicates("mã định danh")
    drafts: dict[int, OrgDraft] = {}
    failures: _Failures = []
    for row in rows:
        # Every row goes in, so a reference to a later row can say where that row is.
        code = _normalised(clean_agency_code, row.cells.get("agency_code"))
        directory.add(FileOrg(row.line), row.cells.get("name"), code)
    for row in rows:
        check = _Check()
        raw: dict[str, object] = dict(row.cells)
        raw["kind"] = _kind_code(check, raw.get("kind"))
        parent = check.reference(directory, row, "parent_id")
        focal = check.reference(directory, row, "focal_office_id")
        anchor_id = _anchor(check, "parent_id", parent, drafts)
        _anchor(check, "focal_office_id", focal, drafts)
        _scope_check(check, "parent_id", parent, scope, directory)
        # A parent or focal office made by this file does not exist yet: its branch's existing
        # root stands in for it while the cleaner checks the other fields.
        raw["parent_id"] = anchor_id
        raw["focal_office_id"] = focal.org_id if isinstance(focal, ExistingOrg) else None
        codes.check(check, "agency_code", _normalised(clean_agency_code, raw.get("agency_code")), row.line)
        check.clean(lambda fields: clean_organisation(session, fields), raw)
        if check.errors:
            failures.append((row.line, check.errors))
        elif parent is not None and anchor_id is not None:
            drafts[row.line] = OrgDraft(row.line, check.values, parent, focal, anchor_id)
    _refuse_if_failed(ImportKind.ORGANISATIONS, failures)
    return list(drafts.values())


def _anchor(check: _Check, key: str, target: ExistingOrg | FileOrg | None, drafts: dict[int, OrgDraft]) -> int | None:
    """The existing organisation ``target`` is, or hangs from; an error when its row has one."""
    if target is None:
        return None
    if isinstance(target, ExistingOrg):
        return target.org_id
    draft = drafts.get(target.line)
    if draft is None:
        check.errors.setdefault(key, f"Dòng {target.line} có lỗi: sửa dòng đó trước.")
        return None
    return draft.anchor_id


def check_people(session: Session, by: Account, rows: list[Row]) -> list[dict]:
    """The cleaned fields of each row of a people file; ImportRefused if any row fails."""
    directory = _Directory.load(session)
    scope = orgs_in_scope(session, by, Permission.MANAGE_PEOPLE)
    numbers = _Duplicates("số CCCD")
    valid: list[dict] = []
    failures: _Failures = []
    for row in rows:
        check = _Check()
        raw: dict[str, object] = dict(row.cells)
        unit = check.reference(directory, row, "organisation_id")
        _scope_check(check, "organisation_id", unit, scope, directory)
        # Only organisations in the database are in the directory: a people file makes none.
        raw["organisation_id"] = unit.org_id if isinstance(unit, ExistingOrg) else None
        numbers.check(check, "cccd", _normalised(clean_cccd, raw.get("cccd")), row.line)
        check.clean(lambda fields: clean_person(session, fields), raw)
        if check.errors:
            failures.append((row.line, check.errors))
        else:
            valid.append(check.values)
    _refuse_if_failed(ImportKind.PEOPLE, failures)
    return valid
